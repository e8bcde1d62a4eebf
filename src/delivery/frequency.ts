/**
 * Frequency-cap history, main thread: what each buyer key was served recently, per tenant.
 *
 * The main thread sees every decision (it logs them), so it records the offers served to a buyer
 * (`recordServed`, right after the decision) and hands the buyer's history to the worker with the request
 * (`history`, when building the task); the worker applies the caps (caps.ts). Keeping the history here
 * rather than in the workers means one copy, no cross-worker coordination, and a buyer's next request sees
 * its last decision no matter which worker served it.
 *
 * Memory: an LRU of buyer histories (cacheBuyers, default 100,000), each at most maxEntries (default 64)
 * entries no older than maxAgeMs (default 30 days, the longest cap window that can be honoured). Durable:
 * every change is written to the `delivery_freq` DB with a fire-and-forget `put` (batched by lmdb-js with
 * everything else of the event turn, like the decision log), and a buyer missing from the LRU is read back
 * from LMDB (read-through), so caps survive eviction and restarts. A lost write (storage failure) is
 * counted in `stats.writesLost` and costs at most that buyer's last decision in its history.
 *
 * A history array is never mutated once handed out: recordServed replaces it, so an array a caller still
 * holds stays a consistent snapshot.
 *
 * Several processes on one data dir each keep their own LRU and the last writer of a buyer's record wins;
 * a buyer served by two processes in the same moment can thus be under-counted by the other's entries. One
 * process per data dir (the deployment model) has no such gap.
 *
 * Value format (msgpack): [base ts, strings[], flat ints[]], entry i = (ts = base + ints[4i], offer =
 * strings[ints[4i+1]], campaign = strings[ints[4i+2]], advertiser = strings[ints[4i+3]]): campaign and
 * advertiser ids repeat across entries and are stored once, and deltas are small integers, so a full
 * 64-entry history stays well under one LMDB page.
 */
import { asBinary, type Binary, type Database, type RootDatabase } from 'lmdb';
import { Packr } from 'msgpackr';
import { TxrankError } from '../errors/codes.js';
import { DELIVERY_LAYOUT } from './spend-ledger.js';
import type { ServedEntry } from './types.js';

export interface FrequencyStoreOptions {
  /** Most entries kept per buyer (the newest); 1..4096. Default 64. */
  maxEntries?: number;
  /** Entries older than this (ms before now) are dropped; it bounds the longest cap window. Default 30 days. */
  maxAgeMs?: number;
  /** Buyers kept in memory (LRU); >= 1. Default 100,000. */
  cacheBuyers?: number;
  /** The clock used for dropping old entries, ms since the epoch. Default Date.now. */
  now?: () => number;
}

export const FREQUENCY_DEFAULTS = {
  maxEntries: 64,
  maxAgeMs: 30 * 86_400_000,
  cacheBuyers: 100_000,
} as const;

type FreqKey = [tenant: string, buyer: string];
type Stored = [base: number, strings: string[], ints: number[]];

const EMPTY: readonly ServedEntry[] = Object.freeze([]);
const PACKR = new Packr({ useRecords: false });

export function encodeHistory(entries: readonly ServedEntry[]): Buffer {
  let base = Infinity;
  for (const e of entries) if (e.ts < base) base = e.ts;
  if (!Number.isFinite(base)) base = 0;
  const strings: string[] = [];
  const index = new Map<string, number>();
  const intern = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      index.set(s, i);
    }
    return i;
  };
  const ints: number[] = [];
  for (const e of entries) ints.push(e.ts - base, intern(e.offerId), intern(e.campaign), intern(e.advertiser));
  const stored: Stored = [base, strings, ints];
  return PACKR.pack(stored);
}

export function decodeHistory(b: Buffer): ServedEntry[] {
  const [base, strings, ints] = PACKR.unpack(b) as Stored;
  const out: ServedEntry[] = [];
  for (let i = 0; i + 3 < ints.length; i += 4) {
    out.push({ ts: base + ints[i], offerId: strings[ints[i + 1]], campaign: strings[ints[i + 2]], advertiser: strings[ints[i + 3]] });
  }
  return out;
}

export class FrequencyStore {
  readonly #db: Database<Buffer | Binary, FreqKey>;
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #cacheBuyers: number;
  readonly #now: () => number;
  /** Insertion order = recency (a hit is deleted and re-set): the first key is the least recently used. */
  readonly #lru = new Map<string, readonly ServedEntry[]>();
  /** lmdb-js returns one promise per write batch: watch each batch once. */
  #batch: Promise<boolean> | null = null;
  #batchWrites = { n: 0 };
  #hits = 0;
  #misses = 0;
  #writesLost = 0;
  #closed = false;

  constructor(root: RootDatabase, opts: FrequencyStoreOptions = {}) {
    const maxEntries = opts.maxEntries ?? FREQUENCY_DEFAULTS.maxEntries;
    const maxAgeMs = opts.maxAgeMs ?? FREQUENCY_DEFAULTS.maxAgeMs;
    const cacheBuyers = opts.cacheBuyers ?? FREQUENCY_DEFAULTS.cacheBuyers;
    if (!(Number.isInteger(maxEntries) && maxEntries >= 1 && maxEntries <= 4096)) throw new TypeError('frequency option maxEntries must be an integer in 1..4096');
    if (!(Number.isFinite(maxAgeMs) && maxAgeMs > 0)) throw new TypeError('frequency option maxAgeMs must be a positive number of ms');
    if (!(Number.isInteger(cacheBuyers) && cacheBuyers >= 1)) throw new TypeError('frequency option cacheBuyers must be an integer >= 1');
    const db = root.openDB<Buffer | Binary, FreqKey>(DELIVERY_LAYOUT.freq, { encoding: 'binary' }) as Database<Buffer | Binary, FreqKey> | undefined;
    if (!db) throw new TxrankError('not_ready', `no DB ${DELIVERY_LAYOUT.freq}; the writer must create it first`);
    this.#db = db;
    this.#maxEntries = maxEntries;
    this.#maxAgeMs = maxAgeMs;
    this.#cacheBuyers = cacheBuyers;
    this.#now = opts.now ?? Date.now;
  }

  get stats(): { cached: number; hits: number; misses: number; writesLost: number } {
    return { cached: this.#lru.size, hits: this.#hits, misses: this.#misses, writesLost: this.#writesLost };
  }

  /** The buyer's recent servings, oldest first; never mutated afterwards. A cache miss reads LMDB (~µs). */
  history(tenant: string, buyer: string): readonly ServedEntry[] {
    this.#ensureOpen();
    const id = tenant + '\0' + buyer;
    const cached = this.#lru.get(id);
    if (cached !== undefined) {
      this.#hits++;
      this.#lru.delete(id);
      this.#lru.set(id, cached);
      return cached;
    }
    this.#misses++;
    const b = this.#db.getBinaryFast([tenant, buyer]);
    // Misses are cached too (as the shared empty history): most buyers have none, and must not cost a read each.
    const h = b === undefined ? EMPTY : this.#trim(decodeHistory(b), this.#now());
    this.#remember(id, h);
    return h;
  }

  /** Appends what a decision served to the buyer (call right after the decision); persists it in the background. */
  recordServed(tenant: string, buyer: string, entries: readonly ServedEntry[]): void {
    this.#ensureOpen();
    if (entries.length === 0) return;
    const prev = this.history(tenant, buyer);
    const h = this.#trim(prev.concat(entries), this.#now());
    this.#remember(tenant + '\0' + buyer, h);
    const p = this.#db.put([tenant, buyer], asBinary(encodeHistory(h)));
    if (p !== this.#batch) {
      this.#batch = p;
      const writes = (this.#batchWrites = { n: 0 });
      p.then(
        (ok) => {
          if (!ok) this.#writesLost += writes.n;
        },
        () => {
          this.#writesLost += writes.n;
        },
      );
    }
    this.#batchWrites.n++;
  }

  /** Drops entries past maxAgeMs and all but the newest maxEntries. */
  #trim(h: ServedEntry[], now: number): readonly ServedEntry[] {
    const oldest = now - this.#maxAgeMs;
    let start = Math.max(0, h.length - this.#maxEntries);
    while (start < h.length && h[start].ts <= oldest) start++;
    if (start === h.length) return EMPTY;
    return start === 0 ? h : h.slice(start);
  }

  #remember(id: string, h: readonly ServedEntry[]): void {
    this.#lru.delete(id);
    this.#lru.set(id, h);
    if (this.#lru.size > this.#cacheBuyers) {
      const oldest = this.#lru.keys().next();
      if (!oldest.done) this.#lru.delete(oldest.value);
    }
  }

  /** Forgets the in-memory cache; outstanding writes still commit (Storage.close waits for them). Idempotent. */
  close(): void {
    this.#closed = true;
    this.#lru.clear();
  }

  #ensureOpen(): void {
    if (this.#closed) throw new TxrankError('internal', 'the frequency store is closed');
  }
}
