/**
 * The campaign state table: spend, pacing throttle and engagement counts of every campaign, in one
 * SharedArrayBuffer that the main thread and every inference worker see at once.
 *
 * Why shared memory: a worker decides whether a campaign may still serve on every request, and the answer
 * must follow spend within a commit, not within a message round trip to workers that may be parked in
 * Atomics.wait (see src/pool/control-block.ts for the same reasoning). The main thread creates the table
 * (`CampaignTable.create`) and passes `table.buffer` in workerData; a worker attaches with
 * `CampaignTable.attach(buffer)`.
 *
 * Layout (one buffer, little-endian as the platform):
 *   header  Int32 x 16   [0] magic, [1] epoch, [2] entries used, [3] capacity, [4] slots (a power of two)
 *   keys    Int32 x 4 per slot: state (0 empty, 1 claiming, 2 ready), hash hi, hash lo, seq (seqlock)
 *   values  Float64 x 8 per slot: see FIELD
 *
 * Keys. A slot is keyed by a 64-bit hash of tenant + "\0" + campaign id (two independent 32-bit hashes over
 * the UTF-16 code units, computed without building the string), never by the string itself: strings cannot
 * live in shared memory without an allocator. Two distinct campaigns with the same full 64-bit hash share a
 * slot: with n = 65,536 campaigns the chance that any pair collides is about n^2 / 2^65 = 1.2e-10. If it
 * happened, both campaigns would read and write one slot (the ledger pushes each campaign's totals there in
 * turn), so each would see the other's spend at times: it could stop serving early, or serve past its
 * budget for a while. Billing stays exact either way, because the ledger clamps against its LMDB records,
 * which are keyed by the full strings (spend-ledger.ts).
 *
 * Insertion from any thread (open addressing, linear probing, no deletion): a thread that finds an empty
 * slot on its probe path claims it with Atomics.compareExchange(empty -> claiming), writes the hash words and
 * the initial throttle, then publishes with Atomics.store(ready). A thread probing through a claiming slot
 * waits until it is ready (the window is a few stores), because that slot may be claimed for its own key:
 * skipping it could insert the same campaign twice. Capacity is checked after the claim; when the table is
 * full the claimer gives the slot back (claiming -> empty, safe because nobody probes past a claiming slot)
 * and throws. Slots are never freed: campaigns are few (thousands) and a restart rebuilds the table.
 *
 * Values. Only the creating thread (the main thread: spend ledger and pacing controller) writes Float64
 * values after a slot is published; workers only read. Plain Float64Array stores and loads are used (Atomics
 * has no Float64 form). Per slot, the writer brackets its stores with a seqlock (seq odd while writing) and
 * then bumps the table-wide epoch; `read` retries while seq is odd or moved, so a reader gets the fields of
 * one write together (today's spend never paired with yesterday's day number). Torn values: the ECMAScript
 * memory model does not promise tear-free Float64 accesses to shared memory, but V8 compiles an aligned
 * 8-byte element access to one 8-byte load or store, which is single-copy atomic on x64 and arm64, and
 * every value here is 8-byte aligned; a torn read cannot happen on those targets. Were one to slip past the
 * seqlock on some other platform, its consequence is one decision made on one wrong number: a spurious
 * "exhausted" skips the campaign for that request, a spurious "budget left" serves one offer whose charge the
 * ledger still clamps (billed spend never exceeds budget). The next write moves the epoch and readers
 * re-read.
 *
 * The epoch (Int32, wraps; compare with !==) moves on every value write, after the values: a worker that
 * caches something derived from the table (say, the set of exhausted campaigns) recomputes only when
 * `epoch` differs from the one it cached. Insertions do not move it: a new slot holds zeros and throttle 1,
 * which changes nothing a reader could have derived.
 */
import { TxrankError } from '../errors/codes.js';

const MAGIC = 0x54584354; // "TXCT"

const H_MAGIC = 0;
const H_EPOCH = 1;
const H_USED = 2;
const H_CAPACITY = 3;
const H_SLOTS = 4;
const HEADER_WORDS = 16;

const KEY_WORDS = 4;
const K_STATE = 0;
const K_HI = 1;
const K_LO = 2;
const K_SEQ = 3;

const EMPTY = 0;
const CLAIMING = 1;
const READY = 2;

const VALUE_WORDS = 8;
/** Float64 fields of a slot. */
const FIELD = {
  spentTotal: 0,
  spentDay: 1,
  day: 2,
  throttle: 3,
  impressions: 4,
  clicks: 5,
  conversions: 6,
  unbilled: 7,
} as const;

const MS_PER_DAY = 86_400_000;

/** The UTC day number (days since the epoch) of a time in ms since the epoch: budgets' day boundaries. */
export function utcDay(ms: number): number {
  return Math.floor(ms / MS_PER_DAY);
}

/** One slot as read by `read`. Money in the tenant's currency, major units. */
export interface SlotValues {
  /** Billed spend over the campaign's life. */
  spentTotal: number;
  /** Billed spend on UTC day `day`; spend today is 0 when `day` is not today. */
  spentDay: number;
  day: number;
  /** Pass probability 0..1 set by pacing (1 for a new slot). */
  throttle: number;
  /** Accepted engagement events of the campaign's offers, all days (cold start, CVR estimates). */
  impressions: number;
  clicks: number;
  conversions: number;
  /** Over-delivery: the charges clamped off at the budget, never billed. */
  unbilled: number;
}

export function newSlotValues(): SlotValues {
  return { spentTotal: 0, spentDay: 0, day: 0, throttle: 1, impressions: 0, clicks: 0, conversions: 0, unbilled: 0 };
}

/** What the ledger pushes into a slot (everything but the throttle, which pacing owns). */
export type SpendValues = Omit<SlotValues, 'throttle'>;

export interface CampaignTableOptions {
  /** Most campaigns the table holds, over all tenants; 1..16,777,216. Default 65,536 (about 10.5 MB of
   * shared memory: 80 bytes per slot, slots = the power of two at or above capacity x 4/3). */
  capacity?: number;
}

export const CAMPAIGN_TABLE_DEFAULTS = { capacity: 65_536 } as const;

// The hash of the last key looked up; module state, so a lookup allocates nothing.
let hashHi = 0;
let hashLo = 0;

function mixString(s: string, hi: number, lo: number): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    lo = Math.imul(lo ^ c, 0x01000193); // FNV-1a 32
    hi = Math.imul(hi ^ c, 0x5bd1e995); // murmur2's multiplier, its own seed and mixing
    hi ^= hi >>> 15;
  }
  hashHi = hi;
  hashLo = lo;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Sets hashHi/hashLo to the 64-bit hash of tenant + "\0" + campaign. */
function hashKey(tenant: string, campaign: string): void {
  mixString(tenant, 0x9747b28c, 0x811c9dc5);
  // The separator: ("ab", "c") and ("a", "bc") must differ.
  let lo = Math.imul(hashLo ^ 0, 0x01000193);
  let hi = Math.imul(hashHi ^ 0, 0x5bd1e995);
  hi ^= hi >>> 15;
  mixString(campaign, hi, lo);
  hi = fmix(hashHi ^ (campaign.length + tenant.length));
  lo = fmix(hashLo);
  hashHi = hi;
  hashLo = lo;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Busy-waits a little, then sleeps in short steps (a preempted writer must not cost a core). */
function backoff(spins: number): void {
  if (spins > 64) Atomics.wait(pause, 0, 0, 0.05);
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class CampaignTable {
  /** Pass this to workers (workerData); `CampaignTable.attach` it there. */
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  readonly slots: number;
  readonly #header: Int32Array;
  readonly #keys: Int32Array;
  readonly #values: Float64Array;
  readonly #mask: number;
  readonly #writer: boolean;

  private constructor(buffer: SharedArrayBuffer, writer: boolean) {
    const header = new Int32Array(buffer, 0, HEADER_WORDS);
    if (header[H_MAGIC] !== MAGIC) throw new TxrankError('internal', 'not a campaign table buffer');
    this.buffer = buffer;
    this.capacity = header[H_CAPACITY];
    this.slots = header[H_SLOTS];
    this.#header = header;
    this.#keys = new Int32Array(buffer, HEADER_WORDS * 4, this.slots * KEY_WORDS);
    this.#values = new Float64Array(buffer, (HEADER_WORDS + this.slots * KEY_WORDS) * 4, this.slots * VALUE_WORDS);
    this.#mask = this.slots - 1;
    this.#writer = writer;
  }

  /** A new, empty table; the creating thread is its single value writer. */
  static create(opts: CampaignTableOptions = {}): CampaignTable {
    const capacity = opts.capacity ?? CAMPAIGN_TABLE_DEFAULTS.capacity;
    if (!(Number.isInteger(capacity) && capacity >= 1 && capacity <= 1 << 24)) {
      throw new TypeError('campaign table option capacity must be an integer in 1..16777216');
    }
    // Load factor at most 3/4 keeps linear probe paths short.
    const slots = nextPow2(Math.ceil((capacity * 4) / 3) + 1);
    const bytes = (HEADER_WORDS + slots * KEY_WORDS) * 4 + slots * VALUE_WORDS * 8;
    const buffer = new SharedArrayBuffer(bytes);
    const header = new Int32Array(buffer, 0, HEADER_WORDS);
    header[H_CAPACITY] = capacity;
    header[H_SLOTS] = slots;
    Atomics.store(header, H_MAGIC, MAGIC);
    return new CampaignTable(buffer, true);
  }

  /** A reader's handle on a table created elsewhere (a worker, from workerData): may insert, never writes values. */
  static attach(buffer: SharedArrayBuffer): CampaignTable {
    return new CampaignTable(buffer, false);
  }

  /** Moves on every value write (see the header comment); wraps. */
  get epoch(): number {
    return Atomics.load(this.#header, H_EPOCH);
  }

  /** Campaigns in the table. */
  get size(): number {
    return Atomics.load(this.#header, H_USED);
  }

  /** The campaign's slot, or -1 when no thread has inserted it. */
  find(tenant: string, campaign: string): number {
    hashKey(tenant, campaign);
    return this.#probe(hashHi, hashLo, false);
  }

  /** The campaign's slot, inserting it when absent (any thread). Throws `internal` when the table is full. */
  slotOf(tenant: string, campaign: string): number {
    hashKey(tenant, campaign);
    return this.#probe(hashHi, hashLo, true);
  }

  #probe(hi: number, lo: number, insert: boolean): number {
    const keys = this.#keys;
    const mask = this.#mask;
    let i = (lo ^ hi) & mask;
    for (let n = 0; n < this.slots; n++, i = (i + 1) & mask) {
      const base = i * KEY_WORDS;
      let state = Atomics.load(keys, base + K_STATE);
      for (let spins = 0; state === EMPTY || state === CLAIMING; spins++) {
        if (state === EMPTY) {
          if (!insert) return -1;
          state = Atomics.compareExchange(keys, base + K_STATE, EMPTY, CLAIMING);
          if (state === EMPTY) return this.#claim(i, hi, lo);
          // Lost the race: the slot is now claiming or ready; look again.
          continue;
        }
        backoff(spins);
        state = Atomics.load(keys, base + K_STATE);
      }
      // READY: the hash words were written before the state was published.
      if (Atomics.load(keys, base + K_HI) === hi && Atomics.load(keys, base + K_LO) === lo) return i;
    }
    if (!insert) return -1;
    throw this.#full();
  }

  #claim(i: number, hi: number, lo: number): number {
    const keys = this.#keys;
    const base = i * KEY_WORDS;
    if (Atomics.add(this.#header, H_USED, 1) >= this.capacity) {
      Atomics.sub(this.#header, H_USED, 1);
      // Nobody probes past a claiming slot, so giving it back cannot hide an entry behind it.
      Atomics.store(keys, base + K_STATE, EMPTY);
      throw this.#full();
    }
    Atomics.store(keys, base + K_HI, hi);
    Atomics.store(keys, base + K_LO, lo);
    // The only Float64 store by a non-writer, before the slot is published (the store of READY orders it).
    this.#values[i * VALUE_WORDS + FIELD.throttle] = 1;
    Atomics.store(keys, base + K_STATE, READY);
    return i;
  }

  #full(): TxrankError {
    return new TxrankError('internal', `the campaign table is full (${this.capacity} campaigns); raise its capacity option`);
  }

  /** A consistent copy of one slot's values into `out` (allocation-free; any thread). */
  read(slot: number, out: SlotValues): SlotValues {
    const keys = this.#keys;
    const v = this.#values;
    const seqAt = slot * KEY_WORDS + K_SEQ;
    const b = slot * VALUE_WORDS;
    for (let spins = 0; ; spins++) {
      const s1 = Atomics.load(keys, seqAt);
      if ((s1 & 1) === 0) {
        out.spentTotal = v[b + FIELD.spentTotal];
        out.spentDay = v[b + FIELD.spentDay];
        out.day = v[b + FIELD.day];
        out.throttle = v[b + FIELD.throttle];
        out.impressions = v[b + FIELD.impressions];
        out.clicks = v[b + FIELD.clicks];
        out.conversions = v[b + FIELD.conversions];
        out.unbilled = v[b + FIELD.unbilled];
        if (Atomics.load(keys, seqAt) === s1) return out;
      }
      backoff(spins);
    }
  }

  /** One field without the seqlock (a single value cannot be inconsistent with itself). */
  throttleOf(slot: number): number {
    return this.#values[slot * VALUE_WORDS + FIELD.throttle];
  }

  /** Writer only: the ledger's totals for a slot. */
  writeSpend(slot: number, s: SpendValues): void {
    const v = this.#values;
    const b = slot * VALUE_WORDS;
    this.#begin(slot);
    v[b + FIELD.spentTotal] = s.spentTotal;
    v[b + FIELD.spentDay] = s.spentDay;
    v[b + FIELD.day] = s.day;
    v[b + FIELD.impressions] = s.impressions;
    v[b + FIELD.clicks] = s.clicks;
    v[b + FIELD.conversions] = s.conversions;
    v[b + FIELD.unbilled] = s.unbilled;
    this.#end(slot);
  }

  /** Writer only: pacing's pass probability, clamped to 0..1. */
  writeThrottle(slot: number, r: number): void {
    this.#begin(slot);
    this.#values[slot * VALUE_WORDS + FIELD.throttle] = r < 0 ? 0 : r > 1 ? 1 : r;
    this.#end(slot);
  }

  #begin(slot: number): void {
    if (!this.#writer) throw new TxrankError('internal', 'campaign table values are written by the thread that created the table only');
    Atomics.add(this.#keys, slot * KEY_WORDS + K_SEQ, 1);
  }

  #end(slot: number): void {
    Atomics.add(this.#keys, slot * KEY_WORDS + K_SEQ, 1);
    Atomics.add(this.#header, H_EPOCH, 1);
  }
}
