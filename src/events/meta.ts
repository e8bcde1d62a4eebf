/**
 * The labeler's position in ev_meta: how far along the decision time order it has labelled, and the last
 * example seq it handed out. Both are written in the same transaction as the examples they account for, so
 * a crash never leaves examples without the cursor that covers them (or the reverse): each is emitted once.
 * last_seq lives here rather than being read off ev_examples because retention may empty that DB, and seqs
 * must never go back.
 */
import type { DecisionTimeKey, EventDbs } from './layout.js';
import { ByteReader, ByteWriter } from './bytes.js';

const CURSOR = 'label_cursor';
const LAST_SEQ = 'last_seq';

export function readLabelCursor(dbs: EventDbs): DecisionTimeKey | null {
  const b = dbs.meta.getBinaryFast(CURSOR);
  if (b === undefined) return null;
  const r = new ByteReader(b, 0, b.length);
  const at = r.f64();
  return [at, r.str()];
}

export function writeLabelCursor(dbs: EventDbs, key: DecisionTimeKey): void {
  const w = new ByteWriter();
  w.f64(key[0]);
  w.str(key[1]);
  dbs.meta.putSync(CURSOR, w.done());
}

export function readLastSeq(dbs: EventDbs): number {
  const b = dbs.meta.getBinaryFast(LAST_SEQ);
  return b === undefined ? 0 : b.readDoubleLE(0);
}

export function writeLastSeq(dbs: EventDbs, seq: number): void {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleLE(seq, 0);
  dbs.meta.putSync(LAST_SEQ, b);
}

/** True when the decision at (decidedAt, decisionId) is at or behind the cursor: its labels are final. */
export function isLabelled(cursor: DecisionTimeKey | null, decidedAt: number, decisionId: string): boolean {
  if (cursor === null) return false;
  return decidedAt < cursor[0] || (decidedAt === cursor[0] && decisionId <= cursor[1]);
}

