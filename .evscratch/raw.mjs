import { open } from 'lmdb';
import { mkdtempSync } from 'node:fs';
const root = open(mkdtempSync('/tmp/evscratch/r-'), { maxDbs: 16 });
const a = root.openDB('a', { encoding: 'binary' });
const v = Buffer.alloc(60, 1);
let n = 0;
for (const mode of ['child', 'txn', 'async', 'child', 'async']) {
  const times = [];
  const t0 = performance.now();
  for (let r = 0; r < 30; r++) {
    const tq = performance.now(); let ta, tb;
    const body = () => { ta = performance.now(); for (let i = 0; i < 3000; i++) a.putSync(['k', n++], v); tb = performance.now(); };
    if (mode === 'child') await root.childTransaction(body);
    else if (mode === 'txn') await root.transaction(body);
    else { ta = performance.now(); let p; for (let i = 0; i < 3000; i++) p = a.put(['k', n++], v); tb = performance.now(); await p; }
    const tc = performance.now();
    times.push([ta - tq, tb - ta, tc - tb]);
  }
  const avg = (k) => (times.slice(5).reduce((s, t) => s + t[k], 0) / (times.length - 5)).toFixed(2);
  console.log(mode, 'wait', avg(0), 'body', avg(1), 'commit', avg(2), 'total ms/3000 puts', ((performance.now() - t0) / 30).toFixed(2));
}
await root.close();
