/**
 * The decision log: one record per decision served, written on the serving path.
 *
 * logDecision must cost microseconds on the main thread, so it never waits: it encodes the record (about
 * 1 µs) and queues two async puts, which lmdb-js copies into its instruction buffer and commits on its own
 * write thread, batched with every other write of the same event turn (eventTurnBatching). Thousands of
 * decisions per second thus cost one commit per turn, not one each.
 *
 * Ordering guarantee the event log relies on: lmdb-js executes queued writes and transaction callbacks in
 * the order they were queued, so an event ingested after logDecision returned always finds its decision,
 * even when neither is committed yet (test/events-ingest.test.ts checks it).
 */
import type { EventDbs } from './layout.js';
import { decodeDecision, encodeDecision } from './decision-codec.js';
import { engagementFlags, FLAG, newEngagement } from './engagement-codec.js';
import type { EventCounters } from './counters.js';
import type { RecentDecisions } from './recent-decisions.js';
import type { DecisionRecord, OfferEngagement } from './types.js';

export class DecisionLog {
  readonly #dbs: EventDbs;
  readonly #counters: EventCounters;
  readonly #recent: RecentDecisions;
  /** lmdb-js returns the same promise for every unconditional put of one batch: watch each batch once. */
  #batchPromise: Promise<boolean> | null = null;
  #batch = { decisions: 0 };

  constructor(dbs: EventDbs, counters: EventCounters, recent: RecentDecisions) {
    this.#dbs = dbs;
    this.#counters = counters;
    this.#recent = recent;
  }

  /** Queues the decision for the next commit and remembers its head for ingest; returns at once. Never throws for a storage failure: a
   * lost batch is counted in decisionsLost (its events will then be answered unknown_decision). */
  log(rec: DecisionRecord): void {
    const bytes = encodeDecision(rec);
    this.#dbs.decisions.put(rec.decisionId, bytes);
    const p = this.#dbs.decisionTimes.put([rec.decidedAt, rec.decisionId], newEngagement(rec.shown.length));
    this.#counters.decisionsLogged++;
    this.#recent.add(rec.decisionId, { tenant: rec.tenant, decidedAt: rec.decidedAt, offerIds: rec.shown.map((s) => s.offerId) });
    if (p !== this.#batchPromise) {
      this.#batchPromise = p;
      const batch = (this.#batch = { decisions: 0 });
      p.then(
        () => undefined,
        () => {
          this.#counters.decisionsLost += batch.decisions;
        },
      );
    }
    this.#batch.decisions++;
  }

  /** The decision, as committed, or null when unknown or of another tenant. */
  get(tenant: string, decisionId: string): DecisionRecord | null {
    const b = this.#dbs.decisions.getBinaryFast(decisionId);
    if (b === undefined) return null;
    const d = decodeDecision(b, b.length);
    return d.tenant === tenant ? d : null;
  }

  /** What the buyer did with each shown offer (accepted events only), or null like get(). */
  engagement(tenant: string, decisionId: string): OfferEngagement[] | null {
    const b = this.#dbs.decisions.getBinaryFast(decisionId);
    if (b === undefined) return null;
    const record = decodeDecision(b, b.length);
    if (record.tenant !== tenant) return null;
    const e = this.#dbs.decisionTimes.getBinaryFast([record.decidedAt, decisionId]);
    return record.shown.map((s, i) => {
      const flags = e === undefined ? 0 : engagementFlags(e, i);
      return {
        offerId: s.offerId,
        position: s.position,
        impression: (flags & FLAG.impression) !== 0,
        click: (flags & FLAG.click) !== 0,
        conversion: (flags & FLAG.conversion) !== 0,
        dismiss: (flags & FLAG.dismiss) !== 0,
      };
    });
  }
}
