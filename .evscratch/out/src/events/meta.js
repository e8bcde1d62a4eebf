import { ByteReader, ByteWriter } from './bytes.js';
const CURSOR = 'label_cursor';
const LAST_SEQ = 'last_seq';
export function readLabelCursor(dbs) {
    const b = dbs.meta.getBinaryFast(CURSOR);
    if (b === undefined)
        return null;
    const r = new ByteReader(b, 0, b.length);
    const at = r.f64();
    return [at, r.str()];
}
export function writeLabelCursor(dbs, key) {
    const w = new ByteWriter();
    w.f64(key[0]);
    w.str(key[1]);
    dbs.meta.putSync(CURSOR, w.done());
}
export function readLastSeq(dbs) {
    const b = dbs.meta.getBinaryFast(LAST_SEQ);
    return b === undefined ? 0 : b.readDoubleLE(0);
}
export function writeLastSeq(dbs, seq) {
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleLE(seq, 0);
    dbs.meta.putSync(LAST_SEQ, b);
}
/** True when the decision at (decidedAt, decisionId) is at or behind the cursor: its labels are final. */
export function isLabelled(cursor, decidedAt, decisionId) {
    if (cursor === null)
        return false;
    return decidedAt < cursor[0] || (decidedAt === cursor[0] && decisionId <= cursor[1]);
}
