/**
 * The durable spend ledger: what each campaign has been billed, charged exactly once per billable event,
 * in the same LMDB write transaction that stores the event.
 *
 * Charging. The event log calls `accepted(e, head, shown)` inside its write transaction for every accepted
 * event (src/events/types.ts AcceptedEventSink). When the event's kind is the billable kind of the shown
 * offer's billing (impression for cpm, click for cpc, conversion for cpa) and the first of its kind on that
 * shown offer (the event log's `first`), chargeOf(billing) is charged to
 * the campaign: the record is read and rewritten (get / putSync) inside that transaction, so the charge
 * commits or aborts with the event, a duplicate event (never passed to a sink) is never charged, and two
 * processes on the same data dir cannot lose each other's updates (LMDB has one write transaction at a time
 * per environment, across processes). Every accepted impression, click and conversion with billing also
 * counts into the campaign's engagement counters (cold start, CVR estimates).
 *
 * Clamp. The charge is cut to the budget's headroom: min(charge, total - spentTotal, daily - spentDay),
 * never below 0; what is cut off is recorded as unbilled (over-delivery, reported, never billed). Budgets
 * come from the `budgets` lookup given at construction (kept current by the server on catalog changes);
 * `undefined` (a campaign the catalog no longer has) and absent fields mean unlimited. Day boundaries are
 * UTC days of the ledger's clock at charge time, not of the event's timestamp: the daily budget is what the
 * server bills per day, and pacing steers the same number.
 *
 * Overspend tolerance, precisely:
 *   - Billed spend never exceeds the total or the daily budget (the clamp is exact: a clamped total is set to
 *     the budget itself, so float rounding cannot push it over).
 *   - Over-delivery (unbilled) is bounded by the billable events of offers served before the workers saw
 *     the campaign exhausted. In one process: the table is updated when the charging transaction commits
 *     (committed()), and workers check it on every request, so the exposure is the offers served between
 *     the exhausting charge's acceptance and its commit, plus every offer already served whose billable
 *     event comes later (a click or conversion can follow its decision by the attribution window). Across
 *     processes on one data dir: plus the refresh interval (default 250 ms) of the other process's ledger.
 *
 * The table shows committed spend only. committed() does not push the totals computed in accepted(): with
 * group commit, the next group's accepted() calls may already have run (ackOn 'flushed' makes that the rule),
 * and an aborted group's totals must never show. Instead it re-reads, after the commit, each record touched
 * since it was last reconciled, pushes what LMDB holds, and keeps any record whose committed revision has not
 * yet reached the one this ledger wrote (a write still in flight). aborted() re-reads and forgets them all.
 *
 * Other processes. refresh() (at construction and every refreshIntervalMs) pushes records other processes
 * wrote. Every write also bumps a global revision (`rev`, in the same DB) and stamps it on the record. A
 * refresh reads that revision (one get) and scans the records only when someone else may have written:
 * when every write since the last scan was this ledger's own (a chain of revisions each read-then-
 * incremented by this ledger), committed() has already pushed them. A scan pushes only records newer than
 * the last scan. Every fullScanEvery-th refresh scans regardless (a safety net for the one case the chain
 * cannot tell: an own write aborted and another process's write taking its revision number).
 *
 * Layout (`delivery_spend`, binary values, ordered-binary array keys):
 *   [tenant, campaignId] -> 9 float64 LE: rev, day, spentTotal, spentDay, unbilledTotal, unbilledDay,
 *                           impressions, clicks, conversions
 *   ['', 'rev']          -> 1 float64 LE: the global revision (tenant ids are never empty)
 * Money is in the tenant's currency, major units, as float64 (sums of cpm prices / 1000 carry float rounding
 * of about 1e-16 relative per charge; the clamp keeps billed spend at or under budget regardless).
 */
import type { Database, RootDatabase } from 'lmdb';
import type { Budget } from '../catalog/types.js';
import { TxrankError } from '../errors/codes.js';
import type { AcceptedEventSink, DecisionHead, EngagementEvent } from '../events/types.js';
import { billableKind, chargeOf } from './types.js';
import { utcDay, type CampaignTable, type SpendValues } from './campaign-table.js';

/** The delivery folder's named DBs in the shared environment (see STORAGE_LAYOUT and EVENTS_LAYOUT). */
export const DELIVERY_LAYOUT = {
  spend: 'delivery_spend',
  freq: 'delivery_freq',
} as const;

/** The current budget of a campaign, or undefined when the catalog does not know it (unlimited). */
export type BudgetLookup = (tenant: string, campaignId: string) => Budget | undefined;

export interface SpendLedgerOptions {
  /** How often the ledger's own timer calls refresh(), in ms; 0 = no timer (call refresh() yourself).
   * Default 250. It bounds how late spend charged by another process shows in this process's table. */
  refreshIntervalMs?: number;
  /** Every n-th refresh scans all records even when the revision chain says only this ledger wrote.
   * Default 40 (10 s at the default interval). */
  fullScanEvery?: number;
  /** The clock that picks the UTC day of a charge, ms since the epoch. Default Date.now. */
  now?: () => number;
}

export const SPEND_LEDGER_DEFAULTS = { refreshIntervalMs: 250, fullScanEvery: 40 } as const;

/** A campaign's ledger record. */
export interface SpendRecord extends SpendValues {
  /** Unbilled (clamped-off) charges on day `day`. */
  unbilledDay: number;
  /** Global revision of the record's last write. */
  rev: number;
}

type SpendKey = [tenant: string, campaign: string];

const REV_KEY: SpendKey = ['', 'rev'];
const FIELDS = 9;
const RECORD_BYTES = FIELDS * 8;

function emptyRecord(): SpendRecord {
  return { rev: 0, day: 0, spentTotal: 0, spentDay: 0, unbilled: 0, unbilledDay: 0, impressions: 0, clicks: 0, conversions: 0 };
}

function decodeRecord(b: Buffer): SpendRecord {
  if (b.length !== RECORD_BYTES) throw new TxrankError('internal', `spend record of ${b.length} bytes (expected ${RECORD_BYTES})`);
  return {
    rev: b.readDoubleLE(0),
    day: b.readDoubleLE(8),
    spentTotal: b.readDoubleLE(16),
    spentDay: b.readDoubleLE(24),
    unbilled: b.readDoubleLE(32),
    unbilledDay: b.readDoubleLE(40),
    impressions: b.readDoubleLE(48),
    clicks: b.readDoubleLE(56),
    conversions: b.readDoubleLE(64),
  };
}

function encodeRecord(r: SpendRecord): Buffer {
  const b = Buffer.allocUnsafe(RECORD_BYTES);
  b.writeDoubleLE(r.rev, 0);
  b.writeDoubleLE(r.day, 8);
  b.writeDoubleLE(r.spentTotal, 16);
  b.writeDoubleLE(r.spentDay, 24);
  b.writeDoubleLE(r.unbilled, 32);
  b.writeDoubleLE(r.unbilledDay, 40);
  b.writeDoubleLE(r.impressions, 48);
  b.writeDoubleLE(r.clicks, 56);
  b.writeDoubleLE(r.conversions, 64);
  return b;
}

function f64(x: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleLE(x, 0);
  return b;
}

interface Touched {
  tenant: string;
  campaign: string;
  /** The revision this ledger last wrote to the record. */
  rev: number;
}

/** Opens (creating on a read-write root) the spend DB. */
export function openSpendDb(root: RootDatabase): Database<Buffer, SpendKey> {
  const db = root.openDB<Buffer, SpendKey>(DELIVERY_LAYOUT.spend, { encoding: 'binary' }) as Database<Buffer, SpendKey> | undefined;
  if (!db) throw new TxrankError('not_ready', `no DB ${DELIVERY_LAYOUT.spend}; the writer must create it first`);
  return db;
}

export class SpendLedger implements AcceptedEventSink {
  readonly #root: RootDatabase;
  readonly #db: Database<Buffer, SpendKey>;
  readonly #table: CampaignTable;
  readonly #budgets: BudgetLookup;
  readonly #now: () => number;
  readonly #fullScanEvery: number;
  readonly #timer: NodeJS.Timeout | null;
  /** Records written by accepted() and not yet seen committed (key: tenant + "\0" + campaign). */
  readonly #touched = new Map<string, Touched>();
  /** The global revision at the last scan (-1: none yet). */
  #synced = -1;
  /** The revision of this ledger's last write while every write since the last scan was its own; -1 when
   * the chain is broken (another writer, or an aborted write of ours). */
  #chainHead = -1;
  #refreshes = 0;
  #scans = 0;
  #closed = false;
  /** The last error a timer refresh hit (it must not throw out of a timer). */
  lastRefreshError: unknown = undefined;

  constructor(root: RootDatabase, table: CampaignTable, budgets: BudgetLookup, opts: SpendLedgerOptions = {}) {
    const interval = opts.refreshIntervalMs ?? SPEND_LEDGER_DEFAULTS.refreshIntervalMs;
    const fullScanEvery = opts.fullScanEvery ?? SPEND_LEDGER_DEFAULTS.fullScanEvery;
    if (!(Number.isInteger(interval) && interval >= 0)) throw new TypeError('spend ledger option refreshIntervalMs must be an integer >= 0');
    if (!(Number.isInteger(fullScanEvery) && fullScanEvery >= 1)) throw new TypeError('spend ledger option fullScanEvery must be an integer >= 1');
    this.#root = root;
    this.#db = openSpendDb(root);
    this.#table = table;
    this.#budgets = budgets;
    this.#now = opts.now ?? Date.now;
    this.#fullScanEvery = fullScanEvery;
    this.refresh();
    if (interval > 0) {
      this.#timer = setInterval(() => {
        try {
          this.refresh();
        } catch (err) {
          this.lastRefreshError = err;
        }
      }, interval);
      this.#timer.unref();
    } else {
      this.#timer = null;
    }
  }

  /** Refreshes so far, and how many of them scanned every record (for metrics and tests). */
  get stats(): { refreshes: number; scans: number; pending: number } {
    return { refreshes: this.#refreshes, scans: this.#scans, pending: this.#touched.size };
  }

  accepted(e: EngagementEvent, head: DecisionHead, shown: number, first = true): void {
    if (this.#closed) throw new TxrankError('internal', 'the spend ledger is closed');
    const billing = head.billing[shown];
    // One charge and one count per kind and shown offer: a repeated click (another event id) is not billed.
    if (billing == null || !first) return;
    const kind = e.kind;
    if (kind === 'dismiss') return;
    const key: SpendKey = [head.tenant, billing.campaign];
    const stored = this.#db.getBinaryFast(key);
    const rec = stored === undefined ? emptyRecord() : decodeRecord(stored);
    const today = utcDay(this.#now());
    // A later day written by a process whose clock runs ahead is kept: days never go back.
    if (rec.day < today) {
      rec.day = today;
      rec.spentDay = 0;
      rec.unbilledDay = 0;
    }
    if (kind === 'impression') rec.impressions++;
    else if (kind === 'click') rec.clicks++;
    else rec.conversions++;
    if (kind === billableKind(billing.bidType)) this.#charge(rec, chargeOf(billing), this.#budgets(head.tenant, billing.campaign));

    const revBytes = this.#db.getBinaryFast(REV_KEY);
    const prev = revBytes === undefined ? 0 : revBytes.readDoubleLE(0);
    this.#chainHead = prev === this.#chainHead ? prev + 1 : -1;
    rec.rev = prev + 1;
    this.#db.putSync(REV_KEY, f64(rec.rev));
    this.#db.putSync(key, encodeRecord(rec));
    const id = head.tenant + '\0' + billing.campaign;
    const t = this.#touched.get(id);
    if (t === undefined) this.#touched.set(id, { tenant: head.tenant, campaign: billing.campaign, rev: rec.rev });
    else t.rev = rec.rev;
  }

  #charge(rec: SpendRecord, charge: number, budget: Budget | undefined): void {
    if (!(charge > 0)) return;
    const total = budget?.total;
    const daily = budget?.daily;
    const headTotal = total === undefined ? Infinity : total - rec.spentTotal;
    const headDay = daily === undefined ? Infinity : daily - rec.spentDay;
    let billed = Math.min(charge, headTotal, headDay);
    if (!(billed > 0)) billed = 0;
    // A charge cut at a limit lands exactly on it (not a rounding hair under or over), so eligibleBudget's
    // spent >= budget holds at once and billed spend never exceeds the budget.
    rec.spentTotal = billed === headTotal ? (total as number) : rec.spentTotal + billed;
    rec.spentDay = billed === headDay ? (daily as number) : rec.spentDay + billed;
    if (total !== undefined && rec.spentTotal > total) rec.spentTotal = total;
    if (daily !== undefined && rec.spentDay > daily) rec.spentDay = daily;
    const cut = charge - billed;
    if (cut > 0) {
      rec.unbilled += cut;
      rec.unbilledDay += cut;
    }
  }

  committed(): void {
    if (this.#touched.size === 0 || this.#closed) return;
    this.#reconcile(false);
  }

  aborted(): void {
    // The chain cannot vouch for revisions any more: the aborted write's number may be reused by anyone.
    this.#chainHead = -1;
    if (this.#touched.size === 0 || this.#closed) return;
    this.#reconcile(true);
  }

  /** Pushes the committed record of every touched campaign; forgets those whose write has landed (or all). */
  #reconcile(forgetAll: boolean): void {
    this.#root.resetReadTxn();
    for (const [id, t] of this.#touched) {
      const b = this.#db.getBinaryFast([t.tenant, t.campaign]);
      const rec = b === undefined ? undefined : decodeRecord(b);
      if (rec !== undefined) this.#push(t.tenant, t.campaign, rec);
      if (forgetAll || (rec !== undefined && rec.rev >= t.rev)) this.#touched.delete(id);
    }
  }

  #push(tenant: string, campaign: string, rec: SpendRecord): void {
    this.#table.writeSpend(this.#table.slotOf(tenant, campaign), rec);
  }

  /**
   * Brings the table up to date with every record in LMDB written by anyone (see the header). Called at
   * construction and by the timer; cheap (one get) when only this ledger has written since the last scan.
   */
  refresh(): void {
    if (this.#closed) return;
    this.#refreshes++;
    this.#root.resetReadTxn();
    const b = this.#db.getBinaryFast(REV_KEY);
    const rev = b === undefined ? 0 : b.readDoubleLE(0);
    const periodic = this.#refreshes % this.#fullScanEvery === 0;
    if (!periodic && (rev === this.#synced || (this.#chainHead >= 0 && rev <= this.#chainHead))) {
      // Nothing new, or only our own writes (committed() pushed those).
      if (this.#chainHead >= 0) this.#synced = rev;
      return;
    }
    this.#scans++;
    const since = periodic ? -1 : this.#synced;
    for (const { key, value } of this.#db.getRange({})) {
      if (key[0] === '') continue;
      const rec = decodeRecord(value);
      if (rec.rev > since) this.#push(key[0], key[1], rec);
    }
    this.#synced = rev;
    this.#chainHead = rev;
  }

  /** The campaign's committed record (spentDay and unbilledDay as of today, UTC), or undefined before its
   * first event. */
  spendOf(tenant: string, campaign: string): SpendRecord | undefined {
    if (this.#closed) throw new TxrankError('internal', 'the spend ledger is closed');
    this.#root.resetReadTxn();
    const b = this.#db.getBinaryFast([tenant, campaign]);
    if (b === undefined) return undefined;
    const rec = decodeRecord(b);
    const today = utcDay(this.#now());
    if (rec.day < today) {
      rec.day = today;
      rec.spentDay = 0;
      rec.unbilledDay = 0;
    }
    return rec;
  }

  /** Stops the timer; idempotent. Does not close the environment (Storage owns it). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#touched.clear();
  }
}
