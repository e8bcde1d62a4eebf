/**
 * The report counters' writer (layout.ts has the format): exact engagement and spend counts, committed with
 * the events themselves, and decision counts flushed from memory once a second.
 *
 * Events: exact, exactly once. ReportCounters is an AcceptedEventSink. The event log calls accepted() inside
 * the write transaction that stores the event; accepted() reads the row and writes it back (getBinaryFast /
 * putSync), which joins that transaction. So a count commits or aborts with its event, a duplicate (never
 * passed to a sink) is never counted, and two processes on one data dir cannot lose each other's updates
 * (LMDB has one write transaction at a time per environment). Nothing is cached between calls: groups are
 * pipelined (the next group's accepted() may run before this group's committed()), and an aborted child
 * transaction takes its writes with it, so LMDB itself is the only state that needs to be right. Reading
 * the row each time costs about 2 µs per event (one get and one put of the row, measured with warm JIT).
 *
 * Decisions: cheap, flushed. recordDecision() runs on the serving path for every logged decision, so it
 * must not write: it adds to in-memory deltas (nested maps keyed by the row's parts, so a steady-state call
 * allocates nothing) and a timer writes every delta in one transaction each flushMs. A crash loses at most
 * the last flushMs of decision counts (never events, spend or conversions); close() flushes what is left.
 * Why not count decisions in the decision log's own write: that write is fire-and-forget through lmdb-js's
 * async puts, which offer no read-modify-write; a transaction per decision would cost far more than the
 * decision itself.
 */
import type { RootDatabase } from 'lmdb';
import { TxrankError } from '../errors/codes.js';
import type { AcceptedEventSink, DecisionHead, DecisionRecord, EngagementEvent } from '../events/types.js';
import { billableKind, chargeOf } from '../delivery/types.js';
import { addEncoded, encodeValuesInto, openCountersDb, resetValues, utcDay, VALUE_BYTES, zeroValues, type CounterKey, type CountersDb, type CounterValues } from './layout.js';

export interface ReportCountersOptions {
  /** How often decision counts are written, in ms (1..60,000). Default 1,000. A crash loses at most this
   * much of the decision counts. */
  flushMs?: number;
}

export const REPORT_COUNTERS_DEFAULTS: Readonly<Required<ReportCountersOptions>> = { flushMs: 1000 };

export function validateReportCountersOptions(opts: ReportCountersOptions = {}): Required<ReportCountersOptions> {
  const flushMs = opts.flushMs ?? REPORT_COUNTERS_DEFAULTS.flushMs;
  if (!(Number.isInteger(flushMs) && flushMs >= 1 && flushMs <= 60_000)) {
    throw new TypeError('report counters option flushMs must be an integer number of ms in 1..60000');
  }
  return { flushMs };
}

export interface ReportCountersDeps {
  /**
   * The tenant's currency (ISO 4217), or undefined when unknown. A conversion whose `currency` differs is
   * counted but its value is left out of conversionValue (counted in foreignConversions): money in two
   * currencies is never added. Without it every value is taken as the tenant's currency.
   */
  currencyOf?: (tenant: string) => string | undefined;
  /** Told of each failed flush (its deltas are kept for the next one). Default: console.error. */
  onFlushError?: (err: unknown) => void;
}

/** What the counters did, for metrics. */
export interface ReportCountersStats {
  /** Events added to counters in groups that committed. With pipelined groups an event of the next group
   * may be moved here at the previous group's commit: a metric, not the counters (those are in LMDB). */
  eventsCounted: number;
  /** Events whose group's transaction failed: their counts went with it. */
  eventsDropped: number;
  /** Decisions counted in memory, not yet written. */
  decisionsPending: number;
  /** Decisions recorded after close(): not counted. */
  decisionsLost: number;
  flushes: number;
  flushErrors: number;
}

/** One row's pending decision counts. The key is built once, when the row is first seen. */
interface Delta {
  key: CounterKey;
  decisions: number;
  served: number;
}

/** campaign -> advertiser -> delta, for one (day, tenant, placement, arm). */
type ArmNode = Map<string, Map<string, Delta>>;
type DayNode = Map<string, Map<string, Map<string, ArmNode>>>;

function child<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
}

const newMap = <K, V>() => new Map<K, V>();

export class ReportCounters implements AcceptedEventSink {
  readonly options: Required<ReportCountersOptions>;
  readonly #root: RootDatabase;
  readonly #db: CountersDb;
  readonly #currencyOf: ((tenant: string) => string | undefined) | undefined;
  readonly #onFlushError: (err: unknown) => void;
  /** day -> tenant -> placement -> arm -> ArmNode. */
  readonly #pending = new Map<number, DayNode>();
  /** The arm node of the last decision and its parts: consecutive decisions nearly always share it (four
   * fewer map lookups), and it is updated in place (no allocation when arms alternate). */
  #lastNode: ArmNode | null = null;
  #lastDay = 0;
  #lastTenant = '';
  #lastPlacement = '';
  #lastPolicy = '';
  #pendingDecisions = 0;
  #timer: NodeJS.Timeout | null = null;
  readonly #flushing = new Set<Promise<void>>();
  #closing: Promise<void> | null = null;
  #groupEvents = 0;
  /** One row being updated and its encoding, reused: putSync copies the bytes, and nothing here is
   * re-entrant (both writers run synchronously inside their transaction callbacks). */
  readonly #row = zeroValues();
  readonly #bytes = Buffer.allocUnsafe(VALUE_BYTES);
  readonly #stats = { eventsCounted: 0, eventsDropped: 0, decisionsLost: 0, flushes: 0, flushErrors: 0 };

  /** Opens (creating) `report_counters` in a read-write root: `openStorage(dir).root`. */
  constructor(root: RootDatabase, options: ReportCountersOptions = {}, deps: ReportCountersDeps = {}) {
    this.options = validateReportCountersOptions(options);
    // On a read-only root lmdb-js would answer a missing DB with undefined, and any write would fail later.
    const db = openCountersDb(root);
    if (db === null) throw new TxrankError('internal', 'the report counters DB could not be opened (a read-only environment?)');
    this.#root = root;
    this.#db = db;
    this.#currencyOf = deps.currencyOf;
    this.#onFlushError =
      deps.onFlushError ?? ((err) => console.error('txrank reports: flushing decision counts failed:', err instanceof Error ? err.message : err));
  }

  /**
   * Serving path, main thread: counts the decision (its arm's row) and each offer it showed (its campaign's
   * row) in memory; written within flushMs. Never throws, never waits.
   */
  recordDecision(rec: DecisionRecord): void {
    if (this.#closing !== null) {
      this.#stats.decisionsLost++;
      return;
    }
    const day = utcDay(rec.decidedAt);
    const arm = this.#armNode(day, rec.tenant, rec.placement, rec.policy);
    this.#delta(arm, day, rec, '', '').decisions++;
    const shown = rec.shown;
    for (let i = 0; i < shown.length; i++) {
      const b = shown[i].billing;
      this.#delta(arm, day, rec, b === undefined ? '' : b.campaign, b === undefined ? '' : b.advertiser).served++;
    }
    this.#pendingDecisions++;
    if (this.#timer === null) {
      // Armed by the first pending decision, not an interval: an idle server runs no timer.
      this.#timer = setTimeout(() => {
        this.#timer = null;
        void this.flush();
      }, this.options.flushMs);
      this.#timer.unref();
    }
  }

  /** AcceptedEventSink: inside the event's write transaction. Only the first event of its kind on a shown
   * offer counts (the event log's `first`), so every count is "offers with at least one such event". */
  accepted(e: EngagementEvent, head: DecisionHead, shown: number, first = true): void {
    if (!first) return;
    const billing = shown >= 0 ? (head.billing[shown] ?? null) : null;
    const key: CounterKey = [utcDay(head.decidedAt), head.tenant, head.placement, head.policy, billing?.campaign ?? '', billing?.advertiser ?? ''];
    const v = this.#read(key);
    switch (e.kind) {
      case 'impression':
        v.impressions++;
        break;
      case 'click':
        v.clicks++;
        break;
      case 'dismiss':
        v.dismisses++;
        break;
      case 'conversion': {
        v.conversions++;
        if (e.value !== undefined) {
          const own = e.currency === undefined ? undefined : this.#currencyOf?.(head.tenant);
          if (own === undefined || own === e.currency) v.conversionValue += e.value;
          else v.foreignConversions++;
        }
        break;
      }
      default: {
        const never: never = e.kind;
        throw new TxrankError('internal', `unknown event kind ${String(never)}`);
      }
    }
    if (billing !== null && e.kind === billableKind(billing.bidType)) {
      const c = chargeOf(billing);
      v.spend += c;
      v.spendSq += c * c;
      v.billable++;
    }
    this.#db.putSync(key, encodeValuesInto(v, this.#bytes));
    this.#groupEvents++;
  }

  /** AcceptedEventSink: the counts are in LMDB already; this only keeps the metric. */
  committed(): void {
    this.#stats.eventsCounted += this.#groupEvents;
    this.#groupEvents = 0;
  }

  /** AcceptedEventSink: the aborted transaction took its counts with it; this only keeps the metric. */
  aborted(): void {
    this.#stats.eventsDropped += this.#groupEvents;
    this.#groupEvents = 0;
  }

  /**
   * Writes the pending decision counts in one transaction; resolves once committed. A failed write keeps the
   * deltas for the next flush (reported to onFlushError, never thrown).
   */
  flush(): Promise<void> {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const batch = this.#takePending();
    if (batch.length === 0) return Promise.all([...this.#flushing]).then(() => undefined);
    const p = this.#root
      .transaction(() => {
        for (const d of batch) {
          const v = this.#read(d.key);
          v.decisions += d.decisions;
          v.served += d.served;
          this.#db.putSync(d.key, encodeValuesInto(v, this.#bytes));
        }
      })
      .then(
        () => {
          this.#stats.flushes++;
        },
        (err: unknown) => {
          this.#stats.flushErrors++;
          this.#restore(batch);
          this.#onFlushError(err);
        },
      )
      .finally(() => this.#flushing.delete(p));
    this.#flushing.add(p);
    return p;
  }

  stats(): ReportCountersStats {
    return { ...this.#stats, decisionsPending: this.#pendingDecisions };
  }

  /**
   * Stops counting decisions (later ones are counted lost), writes what is pending and resolves once it is
   * committed. Idempotent: every call returns the same promise. Event counting needs no closing: it lives in
   * the event log's transactions, so close the event log first, then this, then the storage.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.flush();
      // A failed final flush restored its deltas; one more try, then they are counted lost.
      if (this.#pendingDecisions > 0) await this.flush();
      if (this.#pendingDecisions > 0) {
        this.#stats.decisionsLost += this.#pendingDecisions;
        this.#takePending();
      }
      if (this.#timer !== null) clearTimeout(this.#timer);
      this.#timer = null;
    })();
    return this.#closing;
  }

  /** The row as the current write transaction sees it (zeros when absent), in the reused #row. */
  #read(key: CounterKey): CounterValues {
    const v = resetValues(this.#row);
    const b = this.#db.getBinaryFast(key);
    return b === undefined ? v : addEncoded(v, b);
  }

  #armNode(day: number, tenant: string, placement: string, arm: string): ArmNode {
    if (this.#lastNode !== null && this.#lastDay === day && this.#lastTenant === tenant && this.#lastPlacement === placement && this.#lastPolicy === arm) {
      return this.#lastNode;
    }
    const dayNode = child<number, DayNode>(this.#pending, day, newMap);
    const node = child<string, ArmNode>(
      child(child(dayNode, tenant, newMap<string, Map<string, ArmNode>>), placement, newMap<string, ArmNode>),
      arm,
      newMap,
    );
    this.#lastNode = node;
    this.#lastDay = day;
    this.#lastTenant = tenant;
    this.#lastPlacement = placement;
    this.#lastPolicy = arm;
    return node;
  }

  #delta(arm: ArmNode, day: number, rec: DecisionRecord, campaign: string, advertiser: string): Delta {
    const byAdvertiser = child(arm, campaign, newMap<string, Delta>);
    let d = byAdvertiser.get(advertiser);
    if (d === undefined) {
      d = { key: [day, rec.tenant, rec.placement, rec.policy, campaign, advertiser], decisions: 0, served: 0 };
      byAdvertiser.set(advertiser, d);
    }
    return d;
  }

  /**
   * Copies the non-zero deltas out and zeroes them. Rows of days before the newest are dropped from memory
   * (their maps would otherwise grow forever); a late decision for such a day simply makes its row again.
   */
  #takePending(): Delta[] {
    const out: Delta[] = [];
    let newest = -Infinity;
    for (const [day, dayNode] of this.#pending) {
      if (day > newest) newest = day;
      for (const byPlacement of dayNode.values())
        for (const byArm of byPlacement.values())
          for (const arm of byArm.values())
            for (const byAdvertiser of arm.values())
              for (const d of byAdvertiser.values()) {
                if (d.decisions === 0 && d.served === 0) continue;
                out.push({ key: d.key, decisions: d.decisions, served: d.served });
                d.decisions = 0;
                d.served = 0;
              }
    }
    for (const day of [...this.#pending.keys()]) if (day < newest) this.#pending.delete(day);
    if (this.#lastDay < newest) this.#lastNode = null;
    this.#pendingDecisions = 0;
    return out;
  }

  /** Puts a failed batch back, so the next flush writes it. */
  #restore(batch: Delta[]): void {
    for (const d of batch) {
      const [day, tenant, placement, arm, campaign, advertiser] = d.key;
      const node = this.#armNode(day, tenant, placement, arm);
      const byAdvertiser = child(node, campaign, newMap<string, Delta>);
      const live = child(byAdvertiser, advertiser, () => ({ key: d.key, decisions: 0, served: 0 }));
      live.decisions += d.decisions;
      live.served += d.served;
      this.#pendingDecisions += d.decisions;
    }
    if (this.#closing === null && this.#timer === null && this.#pendingDecisions > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        void this.flush();
      }, this.options.flushMs);
      this.#timer.unref();
    }
  }
}
