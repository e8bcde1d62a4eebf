import { open } from 'lmdb';
import { mkdtempSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
const opts = JSON.parse(process.argv[3] ?? '{}'); const root = open(mkdtempSync('/tmp/evscratch/r-'), { maxDbs: 16, ...opts });
const db = root.openDB('x', { encoding: 'binary' });
const v = Buffer.alloc(60, 1);
const G = Number(process.argv[2] ?? 1000);
for (let r = 0; r < 400; r++) {
  const keys = Array.from({ length: G }, () => ['a', randomUUID()]);
  const tq = performance.now(); let ta, tb;
  await root.transaction(() => { ta = performance.now(); for (const k of keys) db.putSync(k, v); tb = performance.now(); });
  const tc = performance.now();
  if (r % 50 === 49) console.log(`entries ${(r + 1) * G} apply ${(tb - ta).toFixed(1)} ms commit ${(tc - tb).toFixed(1)} ms`);
}
await root.close();
