/**
 * The heads (tenant, time, offer ids) of recently logged decisions, in memory, so that ingest can validate
 * most events without reading LMDB. Engagement arrives within seconds or minutes of its decision, and a
 * decision record is keyed by a random UUID: every lookup of it would be a random B-tree descent of a few
 * µs. Cached heads cut the event path to the writes it cannot avoid.
 *
 * Each entry also counts the events accepted for its decision (maxEventsPerDecision), exactly: an entry is
 * made when this process logs the decision, so every event of it is accepted by this process afterwards.
 * An event counted in a transaction that then fails stays counted (the bound errs on the safe side).
 *
 * Consistency: records are immutable, so a cached head is never out of date. Retention removes the entries
 * of the decisions it deletes, and the decision log removes those whose write failed, so an entry means the
 * decision is stored (or queued to be, ahead of any event that names it). First in, first out: the oldest
 * logged decision goes first; a miss reads the record.
 *
 * Memory: an entry is ONE small Buffer, its bytes off the JS heap (layout below). It used to be a head object
 * with its arrays, strings and a Uint8Array, about 20 heap objects a decision: at the default 200,000
 * decisions that was ~240 MB of the main thread's heap, and every new head was copied by the next scavenge.
 * Main-thread scavenges took half as long without those objects (8 -> 4 ms each at 1,000 decisions/s;
 * bench/RESULTS.md), and they are the main thread's longest pauses. A hit decodes the head (about a
 * microsecond). The low-cardinality strings (tenant, placement, policy, campaign, advertiser) are stored as
 * indexes into an intern table, so a hit creates only the offer ids; the table is bounded: past
 * `MAX_INTERNED` strings the cache is emptied and starts over (a miss reads LMDB: it costs speed, never
 * correctness, because counts and flags are then read from the stored events).
 */
import { ByteReader, ByteWriter } from './bytes.js';
import type { Billing } from '../delivery/types.js';
import { BID_TYPES } from '../features/spec.js';
import type { DecisionHead, DecisionRecord } from './types.js';

export interface CachedDecision extends DecisionHead {
  /** Events accepted for the decision (writes go to the cache entry). */
  events: number;
  /** FLAG bits (engagement.ts) per shown offer of the events accepted so far, exact like `events` (a view
   * of the cache entry: writes go to it). */
  seen: Uint8Array;
}

/**
 * Entry layout:
 *   0  u8   n shown offers
 *   1  u16  events
 *   3  n x u8  seen flags
 *   .. f64 decidedAt, u32 tenant, u32 placement, u32 policy (intern indexes), u8 billed (1: every offer has billing)
 *   .. n x (str offerId [, u8 bid type index, f64 price, u32 campaign, u32 advertiser when billed])
 */
const SEEN_AT = 3;

/** Distinct interned strings before the cache starts over (campaigns and advertisers of every catalog seen). */
export const MAX_INTERNED = 100_000;

/** A decoded entry: the head's fields, and `events` / `seen` read and written through to the entry bytes. */
class CachedEntry implements CachedDecision {
  readonly tenant: string;
  readonly placement: string;
  readonly decidedAt: number;
  readonly policy: string;
  readonly offerIds: string[];
  readonly billing: (Billing | null)[];
  readonly seen: Uint8Array;

  constructor(
    private readonly entry: Buffer,
    strings: readonly string[],
  ) {
    const n = entry[0];
    this.seen = entry.subarray(SEEN_AT, SEEN_AT + n);
    const r = new ByteReader(entry, SEEN_AT + n);
    this.decidedAt = r.f64();
    this.tenant = strings[r.u32()];
    this.placement = strings[r.u32()];
    this.policy = strings[r.u32()];
    const billed = r.u8() === 1;
    this.offerIds = new Array<string>(n);
    this.billing = new Array<Billing | null>(n);
    for (let i = 0; i < n; i++) {
      this.offerIds[i] = r.str();
      if (!billed) {
        this.billing[i] = null;
        continue;
      }
      const bidType = BID_TYPES[r.u8()];
      const price = r.f64();
      this.billing[i] = { campaign: strings[r.u32()], advertiser: strings[r.u32()], bidType, price };
    }
  }

  get events(): number {
    return this.entry.readUInt16LE(1);
  }
  set events(v: number) {
    // maxEventsPerDecision is at most 65,535 (options.ts), so the count stops there anyway.
    this.entry.writeUInt16LE(Math.min(v, 0xffff), 1);
  }
}

export class RecentDecisions {
  #entries = new Map<string, Buffer>();
  #strings: string[] = [];
  #index = new Map<string, number>();

  constructor(readonly capacity: number) {}

  get(decisionId: string): CachedDecision | undefined {
    const entry = this.#entries.get(decisionId);
    return entry === undefined ? undefined : new CachedEntry(entry, this.#strings);
  }

  /** Remembers a decision just logged, with no event yet. */
  add(rec: DecisionRecord): void {
    if (this.capacity === 0) return;
    const n = rec.shown.length;
    if (n > 255) return; // the decision log refuses it anyway (decision-codec.ts)
    if (this.#index.size > MAX_INTERNED - 3 - 2 * n) this.#startOver();
    const w = new ByteWriter();
    w.u8(n);
    w.u16(0);
    for (let i = 0; i < n; i++) w.u8(0);
    w.f64(rec.decidedAt);
    w.u32(this.#intern(rec.tenant));
    w.u32(this.#intern(rec.placement));
    w.u32(this.#intern(rec.policy));
    // As the decision log stores it: billing for every offer or for none (decision-codec.ts).
    const billed = n > 0 && rec.shown.every((x) => x.billing !== undefined);
    w.u8(billed ? 1 : 0);
    for (const x of rec.shown) {
      w.str(x.offerId);
      if (!billed || x.billing === undefined) continue;
      w.u8(BID_TYPES.indexOf(x.billing.bidType));
      w.f64(x.billing.price);
      w.u32(this.#intern(x.billing.campaign));
      w.u32(this.#intern(x.billing.advertiser));
    }
    // done() copies out with allocUnsafe: small sizes are slices of a shared 8 KB slab, so an entry costs one
    // heap object and its bytes live outside the heap; FIFO eviction frees a slab once its last entry goes.
    this.#entries.set(rec.decisionId, w.done());
    if (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  delete(decisionId: string): void {
    this.#entries.delete(decisionId);
  }

  get size(): number {
    return this.#entries.size;
  }

  #intern(s: string): number {
    let i = this.#index.get(s);
    if (i === undefined) {
      i = this.#strings.length;
      this.#strings.push(s);
      this.#index.set(s, i);
    }
    return i;
  }

  /** Entries index the intern table, so both go together. */
  #startOver(): void {
    this.#entries = new Map();
    this.#strings = [];
    this.#index = new Map();
  }
}
