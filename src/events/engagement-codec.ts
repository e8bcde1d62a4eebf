/**
 * A decision's engagement: what its accepted events say, kept as the value of the decision's
 * ev_decision_times entry (keyed by [decidedAt, decisionId]). Ingest reads it, patches it and writes it back
 * once per decision per commit group; the labeler reads the flags.
 *
 *   0   u8   format (1)
 *   1   u8   n, the number of shown offers
 *   2   u16  reserved (0)
 *   4   u32  eventCount   events accepted for this decision
 *   8   u8 x n           FLAG bits per shown offer, in shown order
 *
 * Why here and not in the decision record: decision ids are random (UUIDs), so patching records keyed by
 * them would dirty one random B-tree page per decision per commit (a 4 KiB copy, then a 4 KiB write).
 * Engagement arrives for recent decisions, and keyed by time those sit together in the last pages of
 * ev_decision_times; at about 60 entries a page, a commit's updates share a few hundred pages. The value
 * stays this small on purpose (no list of event ids): every extra byte is copied on every update.
 *
 * The layout only grows by appending: a new field goes after the flags, and a reader of this version
 * ignores bytes it does not know.
 */
import { TxrankError } from '../errors/codes.js';
import type { EventKind } from './types.js';

const FORMAT = 1;
const HEADER = 8;

/** Engagement flag bits, one byte per shown offer. */
export const FLAG: Readonly<Record<EventKind, number>> = { impression: 1, click: 2, conversion: 4, dismiss: 8 };

/** An offer counts as seen (it gets an example) when the buyer saw it: an impression, or a click or a
 * dismiss, which imply one (impression beacons get lost; a click on an unseen offer is impossible). */
export const SEEN = FLAG.impression | FLAG.click | FLAG.dismiss;

/** The engagement of a decision showing n offers, before any event. */
export function newEngagement(n: number): Buffer {
  const b = Buffer.alloc(HEADER + n);
  b[0] = FORMAT;
  b[1] = n;
  return b;
}

function checkFormat(buf: Buffer): void {
  if (buf[0] !== FORMAT) throw new TxrankError('internal', `unknown engagement record format ${buf[0]}`);
}

/** Flag bits of the shown offer at `index`. */
export function engagementFlags(buf: Buffer, index: number): number {
  checkFormat(buf);
  return buf[HEADER + index];
}

/** The union of the flag bits of every shown offer. */
export function engagementAny(buf: Buffer): number {
  checkFormat(buf);
  let f = 0;
  for (let i = HEADER, end = HEADER + buf[1]; i < end; i++) f |= buf[i];
  return f;
}

/** An engagement being updated inside one commit group: over a copy the caller owns, written back when dirty. */
export class Engagement {
  dirty = false;

  constructor(readonly bytes: Buffer) {
    checkFormat(bytes);
  }

  get eventCount(): number {
    return this.bytes.readUInt32LE(4);
  }

  /** Counts one more accepted event and sets its flag bit on the shown offer at `index`. */
  record(index: number, bit: number): void {
    this.bytes.writeUInt32LE(this.eventCount + 1, 4);
    this.bytes[HEADER + index] |= bit;
    this.dirty = true;
  }
}
