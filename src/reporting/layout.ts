/**
 * The report counters' storage: one named DB, `report_counters`, in the shared storage environment
 * (src/catalog/store.ts leaves room for 16 named DBs; the catalog, keys, event log and delivery use the
 * others). Written by ReportCounters (counters.ts) on the main thread, read by the report (report.ts) in the
 * server or, read-only, in the `report` CLI while the server runs.
 *
 *   [utcDay, tenant, placement, arm, campaign, advertiser] -> counter values (below)
 *
 * utcDay is whole days since the Unix epoch (UTC) of the *decision*: an event counts on the day of the
 * decision it belongs to, so a day's clicks and conversions are those of that day's impressions, whenever
 * they arrive. The arm is the decision's policy ('ai' or 'rules'). campaign and advertiser come from the
 * shown offer's billing; the row with campaign '' and advertiser '' is the arm's own row: it holds the
 * decision count (a decision belongs to no campaign) and what offers without billing (records older than
 * delivery) did. Day first: a date range is one key range, read in order, and one tenant's rows are one
 * block per day, which the reader seeks from block to block.
 *
 * Values are binary: a format byte (1), a field count n, then n float64 little-endian in the order of
 * COUNTER_FIELDS. Fields are only ever appended; a reader takes the fields a value has and reads the rest as
 * 0, so an older value stays readable after a field is added. Counts are float64 because they are sums
 * (exact up to 2^53); money is in the tenant's currency, major units.
 */
import type { Database, RootDatabase } from 'lmdb';
import { TxrankError } from '../errors/codes.js';

export const REPORT_LAYOUT = {
  counters: 'report_counters',
} as const;

export type CounterKey = [day: number, tenant: string, placement: string, arm: string, campaign: string, advertiser: string];

/** The counted figures of one row. Every field is a sum over the row's decisions, offers or events. */
export interface CounterValues {
  /** Decisions served (arm rows only: campaign '' and advertiser ''). */
  decisions: number;
  /** Offers shown in those decisions. */
  served: number;
  /** Shown offers with an accepted impression event (the first per offer; repeats are not counted). */
  impressions: number;
  /** Shown offers with an accepted click (the first per offer). */
  clicks: number;
  /** Shown offers with an accepted conversion (the first per offer). */
  conversions: number;
  /** Shown offers with an accepted dismiss (the first per offer). */
  dismisses: number;
  /** Sum of the value of those conversions, in the tenant's currency (see foreignConversions). */
  conversionValue: number;
  /** Gross charges: chargeOf(billing) of each first billable event (the spend ledger may bill less after a
   * budget clamp). */
  spend: number;
  /** Sum of the squared charges, for the RPM confidence interval (lift.ts). */
  spendSq: number;
  /** Billable events charged (the count behind spend). */
  billable: number;
  /** Conversions whose value was in another currency than the tenant's: counted, value left out. */
  foreignConversions: number;
}

export const COUNTER_FIELDS = [
  'decisions',
  'served',
  'impressions',
  'clicks',
  'conversions',
  'dismisses',
  'conversionValue',
  'spend',
  'spendSq',
  'billable',
  'foreignConversions',
] as const satisfies readonly (keyof CounterValues)[];

export interface CounterRow extends CounterValues {
  day: number;
  tenant: string;
  placement: string;
  arm: string;
  campaign: string;
  advertiser: string;
}

const FORMAT = 1;
const HEADER = 2;

export function zeroValues(): CounterValues {
  return {
    decisions: 0,
    served: 0,
    impressions: 0,
    clicks: 0,
    conversions: 0,
    dismisses: 0,
    conversionValue: 0,
    spend: 0,
    spendSq: 0,
    billable: 0,
    foreignConversions: 0,
  };
}

/** Bytes of an encoded value with every current field. */
export const VALUE_BYTES = HEADER + 8 * COUNTER_FIELDS.length;

/** Writes `v` into `b` (VALUE_BYTES long) and returns it: a writer may reuse one buffer, as putSync copies. */
export function encodeValuesInto(v: CounterValues, b: Buffer): Buffer {
  const n = COUNTER_FIELDS.length;
  b[0] = FORMAT;
  b[1] = n;
  for (let i = 0; i < n; i++) b.writeDoubleLE(v[COUNTER_FIELDS[i]], HEADER + 8 * i);
  return b;
}

export function encodeValues(v: CounterValues): Buffer {
  return encodeValuesInto(v, Buffer.allocUnsafe(VALUE_BYTES));
}

/** Sets every field of `v` to 0 and returns it. */
export function resetValues(v: CounterValues): CounterValues {
  for (const f of COUNTER_FIELDS) v[f] = 0;
  return v;
}

/** Adds a stored value into `into` (fields it lacks count 0). `b` may be lmdb-js's reused buffer: read now. */
export function addEncoded(into: CounterValues, b: Buffer): CounterValues {
  if (b.length < HEADER || b[0] !== FORMAT) throw new TxrankError('internal', `report counter value has an unknown format (${b.length} bytes, format ${b[0]})`);
  const n = Math.min(b[1], COUNTER_FIELDS.length, Math.floor((b.length - HEADER) / 8));
  for (let i = 0; i < n; i++) into[COUNTER_FIELDS[i]] += b.readDoubleLE(HEADER + 8 * i);
  return into;
}

export function decodeValues(b: Buffer): CounterValues {
  return addEncoded(zeroValues(), b);
}

export const MS_PER_DAY = 86_400_000;

/** Whole UTC days since the epoch of a time in ms. */
export function utcDay(ms: number): number {
  return Math.floor(ms / MS_PER_DAY);
}

/** 'YYYY-MM-DD' of a utcDay. */
export function dayString(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** The utcDay of 'YYYY-MM-DD', or null when the text is not a real calendar date in that form. */
export function parseDay(text: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return null;
  const ms = Date.parse(`${text}T00:00:00Z`);
  if (!Number.isFinite(ms) || dayString(utcDay(ms)) !== text) return null;
  return utcDay(ms);
}

export type CountersDb = Database<Buffer, CounterKey>;

/**
 * The counters DB of a root. Read-write: created when absent. Read-only: null when the writer has not
 * created it yet (a server that never ran with reports), which a reader treats as "no data".
 */
export function openCountersDb(root: RootDatabase): CountersDb | null {
  // On a read-only environment lmdb-js answers a missing DB with undefined rather than an error.
  const db = root.openDB<Buffer, CounterKey>(REPORT_LAYOUT.counters, { encoding: 'binary' }) as CountersDb | undefined;
  return db ?? null;
}

/** Which rows to read: days in [fromDay, toDay] (inclusive, either open), optionally one tenant or placement. */
export interface RowRange {
  fromDay?: number;
  toDay?: number;
  tenant?: string;
  placement?: string;
}

/** Reads counter rows of a DB: the report's only input. */
export class CounterReader {
  readonly #root: RootDatabase;
  readonly #db: CountersDb | null;

  constructor(root: RootDatabase, db: CountersDb | null) {
    this.#root = root;
    this.#db = db;
  }

  /** A reader on a root (read-only or read-write); see openCountersDb. */
  static of(root: RootDatabase): CounterReader {
    return new CounterReader(root, openCountersDb(root));
  }

  /**
   * The rows in range, in key order, at most `limit`, starting after `after` (exclusive) when given: a caller
   * that must not hold the event loop reads in chunks and resumes from the last key it got.
   */
  rows(range: RowRange, limit = Infinity, after?: CounterKey): { rows: CounterRow[]; last: CounterKey | undefined } {
    const out: CounterRow[] = [];
    if (this.#db === null) return { rows: out, last: undefined };
    // Another process (the server) writes: read its latest commit, not this thread's cached snapshot.
    this.#root.resetReadTxn();
    let last: CounterKey | undefined;
    let scanned = 0;
    for (const { key, value } of this.#entries(range, after)) {
      if (scanned >= limit) return { rows: out, last };
      scanned++;
      last = key;
      if (range.placement !== undefined && key[2] !== range.placement) continue;
      // Built whole, then filled: one object of one shape (a spread of the decoded values costs 5x more).
      const row: CounterRow = {
        day: key[0],
        tenant: key[1],
        placement: key[2],
        arm: key[3],
        campaign: key[4],
        advertiser: key[5],
        decisions: 0,
        served: 0,
        impressions: 0,
        clicks: 0,
        conversions: 0,
        dismisses: 0,
        conversionValue: 0,
        spend: 0,
        spendSq: 0,
        billable: 0,
        foreignConversions: 0,
      };
      out.push(addEncoded(row, value) as CounterRow);
    }
    return { rows: out, last: undefined };
  }

  /**
   * The entries in the days of the range (after `after`), of the range's tenant when it names one. Rows are
   * day-first, so one tenant's rows are one block per day: with a tenant this reads each day's block and
   * seeks to the next day's, instead of scanning every tenant's rows. The seek goes by day only (never by
   * comparing strings, whose JS order may differ from LMDB's byte order), so days strictly increase.
   */
  *#entries(range: RowRange, after: CounterKey | undefined): Generator<{ key: CounterKey; value: Buffer }> {
    const db = this.#db as CountersDb;
    const end = range.toDay === undefined ? undefined : ([range.toDay + 1] as unknown as CounterKey);
    const tenant = range.tenant;
    const bounded = (start: (number | string)[]) => db.getRange({ start: start as CounterKey, ...(end === undefined ? {} : { end }) });
    if (tenant === undefined) {
      for (const e of bounded(after ?? (range.fromDay === undefined ? [] : [range.fromDay]))) {
        if (after !== undefined && sameKey(e.key, after)) continue;
        yield e;
      }
      return;
    }
    let start: (number | string)[];
    if (after !== undefined) start = after;
    else if (range.fromDay !== undefined) start = [range.fromDay, tenant];
    else {
      let first: number | undefined;
      for (const key of db.getKeys({ limit: 1 })) first = key[0];
      if (first === undefined) return;
      start = [first, tenant];
    }
    for (;;) {
      const day = start[0] as number;
      let next: number | undefined;
      for (const e of bounded(start)) {
        if (after !== undefined && sameKey(e.key, after)) continue;
        if (e.key[0] === day && e.key[1] === tenant) {
          yield e;
          continue;
        }
        // Past this day's block: the next day that has rows (this one's other tenants come after ours).
        next = e.key[0] > day ? e.key[0] : day + 1;
        break;
      }
      if (next === undefined) return;
      start = [next, tenant];
    }
  }
}

function sameKey(a: CounterKey, b: CounterKey): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}
