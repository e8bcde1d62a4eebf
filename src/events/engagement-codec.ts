/**
 * A decision's engagement: what the accepted events say, kept as the value of the decision's
 * ev_decision_times entry (keyed by [decidedAt, decisionId]). Ingest reads it, patches it and writes it back
 * once per decision per commit group; the labeler reads the flags; retention reads the event ids to delete
 * the events with their decision.
 *
 *   0   u8   format (1)
 *   1   u8   n, the number of shown offers
 *   2   u16  reserved (0)
 *   4   u32  eventCount
 *   8   u8 x n   FLAG bits per shown offer, in shown order
 *   ... eventCount x event id (u16 length + UTF-8), in acceptance order
 *
 * Why here and not in the decision record or in an index of its own:
 *   - decision ids are random (UUIDs), so patching records keyed by them would dirty a random B-tree page
 *     per decision per commit (a 4 KiB copy, then a write, each). Engagement arrives for recent decisions,
 *     and keyed by time those sit together in the last pages of ev_decision_times;
 *   - keeping the event ids here instead of in a [decision, event] index saves one put per event, the
 *     largest cost after the event itself. The list is bounded by maxEventsPerDecision.
 * A new field needs a new format number (the id list runs to the end).
 */
import { TxrankError } from '../errors/codes.js';
import { ByteReader, strSize } from './bytes.js';
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

/** The ids of the accepted events, in acceptance order; `end` is the value's size. */
export function engagementEventIds(buf: Buffer, end: number = buf.length): string[] {
  checkFormat(buf);
  const count = buf.readUInt32LE(4);
  const r = new ByteReader(buf, HEADER + buf[1], end);
  const ids: string[] = new Array(count);
  for (let i = 0; i < count; i++) ids[i] = r.str();
  return ids;
}

/** An engagement being updated inside one commit group: over a copy, written back once when dirty. */
export class Engagement {
  readonly #base: Buffer;
  readonly #added: string[] = [];
  #addedBytes = 0;

  constructor(copy: Buffer) {
    checkFormat(copy);
    this.#base = copy;
  }

  get dirty(): boolean {
    return this.#added.length > 0;
  }

  get eventCount(): number {
    return this.#base.readUInt32LE(4);
  }

  /** Counts one more accepted event and sets its flag bit on the shown offer at `index`. */
  record(index: number, bit: number, eventId: string): void {
    this.#base.writeUInt32LE(this.eventCount + 1, 4);
    this.#base[HEADER + index] |= bit;
    this.#added.push(eventId);
    this.#addedBytes += strSize(eventId);
  }

  /** The value to write back. */
  bytes(): Buffer {
    const out = Buffer.allocUnsafe(this.#base.length + this.#addedBytes);
    this.#base.copy(out, 0);
    let pos = this.#base.length;
    for (const id of this.#added) {
      const n = out.write(id, pos + 2, 'utf8');
      out.writeUInt16LE(n, pos);
      pos += 2 + n;
    }
    return out;
  }
}
