/**
 * The LMDB-backed catalog and the storage environment that holds it.
 *
 * One LMDB environment (a directory) holds named DBs:
 *   catalog_state   "current" -> the serving version, a 4-byte little-endian u32 (read with getBinaryFast)
 *   catalog_index   version -> IndexEntry (msgpack; what `list()`, `readTenants()` and `readDelivery()` read
 *                   without decoding the offers)
 *   catalog_bodies  version -> {tenants, offers, campaigns, rules} as one msgpack value (msgpackr records, see
 *                   BODY_PACKR)
 *   keys            sha256 hex -> KeyRecord (src/tenants/keys.ts)
 *
 * Concurrency model. The main thread (or the CLI, in another process) opens the environment read-write and is
 * the only writer of catalogs. Each inference worker opens the same path read-only by itself: LMDB handles
 * are per thread, a Database object cannot be posted to another thread, and a read-only open makes a
 * worker's accidental write an error instead of a second writer. LMDB readers never block the writer and are
 * never blocked by it; each read sees one committed snapshot (MVCC), so a worker needs no lock and no message
 * to read a catalog safely.
 */
import { asBinary, open, type Binary, type Database, type RootDatabase, type Transaction } from 'lmdb';
import { Packr } from 'msgpackr';
import { TxrankError } from '../errors/codes.js';
import { KeyStore, type KeyRecord } from '../tenants/keys.js';
import { impliedCampaigns } from './jsonl.js';
import { resolveTenant } from './schema.js';
import type { Campaign, CatalogSnapshot, Offer, Rule, Tenant } from './types.js';

/** Names inside the environment. Exported so tools and tests that read LMDB directly agree with this file. */
export const STORAGE_LAYOUT = {
  /** Headroom for other owners' named DBs in the same environment (LMDB fixes the count at open). */
  maxDbs: 16,
  dbs: {
    state: 'catalog_state',
    index: 'catalog_index',
    bodies: 'catalog_bodies',
    keys: 'keys',
  },
  currentKey: 'current',
} as const;

export interface StorageOptions {
  /** Workers open read-only; the writer (main thread, CLI) read-write. */
  readOnly?: boolean;
  /** Initial LMDB map size in bytes; lmdb-js grows the map on demand either way. */
  mapSizeBytes?: number;
  /** How many catalog versions a load keeps, the new one included. */
  retainVersions?: number;
}

export const STORAGE_DEFAULTS: {
  readonly readOnly: boolean;
  /** undefined: lmdb-js's own small initial map, grown on demand. */
  readonly mapSizeBytes: number | undefined;
  readonly retainVersions: number;
} = {
  readOnly: false,
  mapSizeBytes: undefined,
  retainVersions: 3,
};

/** Names the bad option and the expected form, so a misconfiguration fails at start with a useful message. */
export function validateStorageOptions(opts: StorageOptions = {}): {
  readOnly: boolean;
  mapSizeBytes: number | undefined;
  retainVersions: number;
} {
  const readOnly = opts.readOnly ?? STORAGE_DEFAULTS.readOnly;
  const mapSizeBytes = opts.mapSizeBytes ?? STORAGE_DEFAULTS.mapSizeBytes;
  const retainVersions = opts.retainVersions ?? STORAGE_DEFAULTS.retainVersions;
  if (typeof readOnly !== 'boolean') throw new TypeError('storage option readOnly must be a boolean');
  if (mapSizeBytes !== undefined && !(Number.isSafeInteger(mapSizeBytes) && mapSizeBytes >= 1 << 20)) {
    throw new TypeError('storage option mapSizeBytes must be an integer of at least 1048576 (1 MiB)');
  }
  if (!(Number.isInteger(retainVersions) && retainVersions >= 1 && retainVersions <= 1000)) {
    throw new TypeError('storage option retainVersions must be an integer in 1..1000');
  }
  return { readOnly, mapSizeBytes, retainVersions };
}

/** One catalog version's header: what `list()` returns, without the cost of decoding the offers. */
export interface CatalogVersionInfo {
  version: number;
  loadedAt: number;
  source: string;
  sha256: string;
  /** Counts of offers, tenants, campaigns (implied ones included) and rules in that version. Versions stored
   * before campaigns existed count 0 campaigns and 0 rules. */
  offers: number;
  tenants: number;
  campaigns: number;
  rules: number;
}

/** What the main thread needs of a version's delivery settings: budgets, pacing, caps, targeting, rules. */
export interface CatalogDelivery {
  /** Sorted by (tenant, id). */
  campaigns: Campaign[];
  /** Sorted by (tenant, id). */
  rules: Rule[];
}

export interface CatalogLoadInput {
  /** Validated by parseCatalogJsonl: offers, campaigns and rules sorted by (tenant, id), every offer's campaign
   * among `campaigns` (see impliedCampaigns() for catalogs built without a file). */
  tenants: Tenant[];
  offers: Offer[];
  campaigns: Campaign[];
  rules: Rule[];
  source: string;
  sha256: string;
}

/**
 * The index entry: the listing plus the tenants, campaigns and rules, so the main thread can learn a new
 * version's placements, budgets and pacing without decoding its offers (about 1 s for 100k offers, far too
 * long for the event loop). Campaigns are small (a few thousand for 100k offers), so the copy here costs
 * little. Entries written before campaigns existed lack the optional fields; they read as empty.
 */
interface IndexEntry extends Omit<CatalogVersionInfo, 'campaigns' | 'rules'> {
  tenantRecords: Tenant[];
  campaigns?: number;
  rules?: number;
  campaignRecords?: Campaign[];
  ruleRecords?: Rule[];
}

/** Bodies written before campaigns existed lack campaigns and rules. */
interface CatalogBody {
  tenants: Tenant[];
  offers: Offer[];
  campaigns?: Campaign[];
  rules?: Rule[];
}

function infoOf(e: IndexEntry): CatalogVersionInfo {
  return {
    version: e.version,
    loadedAt: e.loadedAt,
    source: e.source,
    sha256: e.sha256,
    offers: e.offers,
    tenants: e.tenants,
    campaigns: e.campaigns ?? 0,
    rules: e.rules ?? 0,
  };
}

/** Tenants as stored; versions written before the delivery settings existed get their defaults. */
function storedTenants(tenants: Tenant[]): Tenant[] {
  return tenants.map(resolveTenant);
}

/**
 * The body codec. Records (msgpackr's inline key tables) make a body 20-30% smaller than plain maps, because
 * every offer repeats the same keys; decode time is about the same either way (creating the strings
 * dominates). This is LMDB-internal, never on the wire. Each value carries its own record definitions (no
 * shared-structures key), so a body decodes alone and a reader never depends on another entry written in
 * another transaction. mapsAsObjects: anything msgpackr writes as a map rather than a record (creatives are
 * free-form) must still decode to a plain object, never a Map.
 */
export const BODY_PACKR_OPTIONS = { useRecords: true, mapsAsObjects: true } as const;
const BODY_PACKR = new Packr(BODY_PACKR_OPTIONS);

/**
 * A DB with `encoding: 'binary'`: values go in as asBinary(bytes) (stored verbatim) and come out as Buffers.
 * Typing V as Buffer | Binary lets put accept the wrapper that skips encoding.
 */
type BinaryDb<K extends string | number> = Database<Buffer | Binary, K>;

// lmdb-js accepts a transaction in getBinaryFast's options; its .d.ts omits the parameter.
type GetBinaryFastIn = (key: string | number, options: { transaction: Transaction }) => Buffer | undefined;

function binaryIn<K extends string | number>(db: BinaryDb<K>, key: K, txn: Transaction): Buffer | undefined {
  return (db.getBinaryFast as unknown as GetBinaryFastIn).call(db, key, { transaction: txn });
}

function u32(value: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(value, 0);
  return b;
}

export class CatalogStore {
  readonly #root: RootDatabase;
  readonly #state: BinaryDb<string>;
  readonly #index: Database<IndexEntry, number>;
  readonly #bodies: BinaryDb<number>;
  readonly #readOnly: boolean;
  readonly #retain: number;
  readonly #isOpen: () => boolean;

  /** Built by openStorage. */
  constructor(
    root: RootDatabase,
    dbs: {
      state: BinaryDb<string>;
      index: Database<IndexEntry, number>;
      bodies: BinaryDb<number>;
    },
    readOnly: boolean,
    retainVersions: number,
    isOpen: () => boolean,
  ) {
    this.#root = root;
    this.#state = dbs.state;
    this.#index = dbs.index;
    this.#bodies = dbs.bodies;
    this.#readOnly = readOnly;
    this.#retain = retainVersions;
    this.#isOpen = isOpen;
  }

  /**
   * The serving version, or null before the first load, as of the latest commit by any thread or process.
   * About 1.5-2 µs: cheap enough to call before every task, though a shared-memory counter is cheaper still.
   *
   * It resets lmdb-js's cached read snapshot first. lmdb-js renews that snapshot only on a timer (next event
   * turn) or after this thread's own commits; a piscina worker blocked in Atomics.wait between tasks never
   * turns its event loop, and would otherwise report the version it saw first, forever
   * (test/catalog-reader-thread.test.ts fails without the reset). A bare getBinaryFast on the cached
   * snapshot costs 0.16-0.4 µs; most of the difference is the timer lmdb-js arms on each renewal.
   */
  currentVersion(): number | null {
    this.#ensureOpen();
    this.#root.resetReadTxn();
    const b = this.#state.getBinaryFast(STORAGE_LAYOUT.currentKey);
    return b === undefined ? null : b.readUInt32LE(0);
  }

  /**
   * The serving catalog, decoded whole, or null before the first load. Costs tens of milliseconds for 10k
   * offers (msgpack decode): call it when currentVersion() changes, not per request. The result is a fresh
   * object graph the caller owns; nothing else holds it.
   */
  readCurrent(): CatalogSnapshot | null {
    return this.#withSnapshot((txn) => {
      const b = binaryIn(this.#state, STORAGE_LAYOUT.currentKey, txn);
      if (b === undefined) return null;
      return this.#readIn(b.readUInt32LE(0), txn);
    });
  }

  /** One retained version, or null when it never existed or retention has deleted it. */
  read(version: number): CatalogSnapshot | null {
    return this.#withSnapshot((txn) => this.#readIn(version, txn));
  }

  /** Retained versions, oldest first. */
  list(): CatalogVersionInfo[] {
    return this.#withSnapshot((txn) => [...this.#index.getRange({ transaction: txn }).map(({ value }) => infoOf(value))]);
  }

  /** The tenants (with placements) of a retained version, without decoding its offers; null when gone. */
  readTenants(version: number): Tenant[] | null {
    return this.#withSnapshot((txn) => {
      const entry = this.#index.get(version, { transaction: txn });
      return entry === undefined ? null : storedTenants(entry.tenantRecords);
    });
  }

  /**
   * The campaigns and rules of a retained version, without decoding its offers; null when gone. A version
   * stored before campaigns existed reads as no campaigns and no rules (its offers' campaigns are implied:
   * unlimited, unpaced, uncapped, so there is nothing for the main thread to enforce).
   */
  readDelivery(version: number): CatalogDelivery | null {
    return this.#withSnapshot((txn) => {
      const entry = this.#index.get(version, { transaction: txn });
      if (entry === undefined) return null;
      return { campaigns: entry.campaignRecords ?? [], rules: entry.ruleRecords ?? [] };
    });
  }

  /**
   * Writes a new catalog version and makes it current; resolves with its number once committed (visible to
   * every reader; durability follows moments later, see `flushed` in lmdb-js).
   *
   * The body, the index entry, the pointer flip and the retention deletes are one LMDB write transaction, so
   * a reader's snapshot holds either the old pointer and the old body or the new pointer and the new body,
   * never a pointer to a half-written or deleted body. Readers already decoding an old version keep their
   * snapshot's pages alive (MVCC) even when this transaction deletes that version.
   *
   * The version number is chosen inside the transaction (last + 1), because another process (the CLI) may be
   * loading at the same time; LMDB's single write lock orders the two, and numbers never repeat or go back.
   */
  async load(input: CatalogLoadInput): Promise<number> {
    this.#ensureOpen();
    this.#writable();
    const loadedAt = Date.now();
    // Encode before the transaction: for 100k offers this is most of a second of CPU, and the write lock
    // (held across processes) should only cover the copy into LMDB pages.
    const body: CatalogBody = { tenants: input.tenants, offers: input.offers, campaigns: input.campaigns, rules: input.rules };
    const bytes = BODY_PACKR.pack(body);
    return this.#root.transaction(() => {
      const version = this.#lastVersion() + 1;
      const info: IndexEntry = {
        tenantRecords: input.tenants,
        campaignRecords: input.campaigns,
        ruleRecords: input.rules,
        version,
        loadedAt,
        source: input.source,
        sha256: input.sha256,
        offers: input.offers.length,
        tenants: input.tenants.length,
        campaigns: input.campaigns.length,
        rules: input.rules.length,
      };
      this.#bodies.putSync(version, asBinary(bytes));
      this.#index.putSync(version, info);
      this.#state.putSync(STORAGE_LAYOUT.currentKey, asBinary(u32(version)));
      const doomed = [...this.#index.getKeys({ end: version - this.#retain + 1 })];
      for (const v of doomed) {
        this.#index.removeSync(v);
        this.#bodies.removeSync(v);
      }
      return version;
    });
  }

  #lastVersion(): number {
    for (const v of this.#index.getKeys({ reverse: true, limit: 1 })) return v;
    return 0;
  }

  #readIn(version: number, txn: Transaction): CatalogSnapshot | null {
    const info = this.#index.get(version, { transaction: txn });
    if (info === undefined) return null;
    const bytes = binaryIn(this.#bodies, version, txn);
    if (bytes === undefined) return null;
    // Decoded before the transaction ends: getBinaryFast's buffer is reused by the next get, and for values of
    // 16 MiB and more it is a view of the map itself, whose pages a later write may reuse once no reader
    // holds them.
    const body = BODY_PACKR.unpack(bytes) as CatalogBody;
    return {
      version: info.version,
      loadedAt: info.loadedAt,
      source: info.source,
      sha256: info.sha256,
      tenants: storedTenants(body.tenants),
      offers: body.offers,
      // A version stored before campaigns existed: its campaigns are implied by its offers, as a load of the
      // same file would imply them today, so a worker always finds every offer's campaign.
      campaigns: body.campaigns ?? impliedCampaigns(body.offers),
      rules: body.rules ?? [],
    };
  }

  /**
   * Runs `fn` in one explicit read transaction on the latest committed state. The reset first makes it the
   * latest even in a thread whose event loop has not turned (see currentVersion).
   */
  #withSnapshot<T>(fn: (txn: Transaction) => T): T {
    this.#ensureOpen();
    this.#root.resetReadTxn();
    const txn = this.#root.useReadTransaction();
    try {
      return fn(txn);
    } finally {
      txn.done();
    }
  }

  #writable(): void {
    if (this.#readOnly) throw new TxrankError('internal', 'the catalog store was opened read-only');
  }

  #ensureOpen(): void {
    if (!this.#isOpen()) throw new TxrankError('internal', 'the catalog store is closed');
  }
}

export interface Storage {
  readonly path: string;
  readonly readOnly: boolean;
  readonly catalog: CatalogStore;
  readonly keys: KeyStore;
  /**
   * The environment's root, for other owners that keep their own named DBs in the same environment (LMDB
   * wants one environment per process and path). Do not touch the DBs named in STORAGE_LAYOUT.
   */
  readonly root: RootDatabase;
  /** Closes the environment after outstanding writes commit. Idempotent: every call returns the same promise. */
  close(): Promise<void>;
}

/**
 * Opens (creating when read-write) the storage environment at a directory path. Call it in each thread that
 * needs the catalog: read-write once in the writer, read-only in each worker. A read-only open needs the
 * named DBs to exist, so the writer must have opened the path once before workers start.
 */
export function openStorage(path: string, opts: StorageOptions = {}): Storage {
  const { readOnly, mapSizeBytes, retainVersions } = validateStorageOptions(opts);
  const notReady = (err: unknown): TxrankError =>
    new TxrankError(
      'not_ready',
      `no txrank storage at ${path} (${err instanceof Error ? err.message : String(err)}); the writer must open it read-write first`,
    );
  let root: RootDatabase;
  try {
    root = open(path, {
      // lmdb-js treats a path with an extension ("data.prod", mktemp's "tmp.x1Y2") as a single file unless
      // told otherwise; the data dir is always a directory.
      noSubdir: false,
      maxDbs: STORAGE_LAYOUT.maxDbs,
      readOnly,
      ...(mapSizeBytes === undefined ? {} : { mapSize: mapSizeBytes }),
    });
  } catch (err) {
    throw readOnly ? notReady(err) : err;
  }
  let state: BinaryDb<string>;
  let index: Database<IndexEntry, number>;
  let bodies: BinaryDb<number>;
  let keys: Database<KeyRecord, string>;
  try {
    state = root.openDB<Buffer | Binary, string>(STORAGE_LAYOUT.dbs.state, { encoding: 'binary' });
    index = root.openDB<IndexEntry, number>(STORAGE_LAYOUT.dbs.index, {});
    bodies = root.openDB<Buffer | Binary, number>(STORAGE_LAYOUT.dbs.bodies, { encoding: 'binary' });
    keys = root.openDB<KeyRecord, string>(STORAGE_LAYOUT.dbs.keys, {});
  } catch (err) {
    void root.close();
    throw readOnly ? notReady(err) : err;
  }
  let closing: Promise<void> | null = null;
  const isOpen = (): boolean => closing === null;
  return {
    path,
    readOnly,
    root,
    catalog: new CatalogStore(root, { state, index, bodies }, readOnly, retainVersions, isOpen),
    keys: new KeyStore(root, keys, readOnly),
    close(): Promise<void> {
      closing ??= root.close();
      return closing;
    },
  };
}

export { loadCatalogFile, loadCatalogText, type LoadResult } from './load.js';
