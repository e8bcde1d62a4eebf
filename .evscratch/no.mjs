import { open } from 'lmdb';
import { mkdtempSync } from 'node:fs';
const root = open(mkdtempSync('/tmp/evscratch/r-'), { maxDbs: 16 });
const db = root.openDB('x', { encoding: 'binary' });
const r = await root.childTransaction(() => {
  const a = db.putSync(['t', 'e1'], Buffer.from([1]), { noOverwrite: true });
  const b = db.putSync(['t', 'e1'], Buffer.from([2]), { noOverwrite: true });
  return [a, b, [...db.getBinary(['t', 'e1'])]];
});
console.log(r);
await root.close();
