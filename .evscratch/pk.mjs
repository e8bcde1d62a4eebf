import { open } from 'lmdb';
import { mkdtempSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
const root = open(mkdtempSync('/tmp/evscratch/r-'), { maxDbs: 16 });
const v = Buffer.alloc(60, 1);
for (const kind of ['str', 'arr', 'str', 'arr', 'bin']) {
  const db = root.openDB(kind + Math.random(), { encoding: 'binary', ...(kind === 'bin' ? { keyEncoding: 'binary' } : {}) });
  let tot = 0, cnt = 0;
  for (let r = 0; r < 40; r++) {
    const keys = Array.from({ length: 3000 }, () => kind === 'str' ? 'a\u0000' + randomUUID() : kind === 'arr' ? ['a', randomUUID()] : Buffer.from('a\u0000' + randomUUID()));
    await root.transaction(() => { const t = performance.now(); for (const k of keys) db.putSync(k, v); if (r >= 10) { tot += performance.now() - t; cnt += 3000; } });
  }
  console.log(kind, 'putSync µs', (tot * 1000 / cnt).toFixed(2));
}
await root.close();
