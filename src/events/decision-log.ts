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
import { EMPTY, storedEventKinds, type EventDbs } from './layout.js';
import { decodeDecision, encodeDecision } from './decision-codec.js';
import { engagementFlags, FLAG } from './engagement.js';
import type { EventCounters } from './counters.js';
import type { RecentDecisions } from './recent-decisions.js';
import type { DecisionRecord, OfferEngagement } from './types.js';

export class DecisionLog {
  readonly #dbs: EventDbs;
  readonly #counters: EventCounters;
  readonly #recent: RecentDecisions;
  /** lmdb-js returns the same promise for every unconditional put of one batch: watch each batch once. */
  #batchPromise: Promise<boolean> | null = null;
  #batch: string[] = [];

  constructor(dbs: EventDbs, counters: EventCounters, recent: RecentDecisions) {
    this.#dbs = dbs;
    this.#counters = counters;
    this.#recent = recent;
  }

  /** Queues the decision for the next commit and remembers its head for ingest; returns at once. Never throws for a storage failure: a
   * lost batch is counted in decisionsLost (its events are then answered unknown_decision). */
  log(rec: DecisionRecord): void {
    const bytes = encodeDecision(rec);
    this.#dbs.decisions.put(rec.decisionId, bytes);
    const p = this.#dbs.decisionTimes.put([rec.decidedAt, rec.decisionId], EMPTY);
    this.#counters.decisionsLogged++;
    this.#recent.add(rec);
    if (p !== this.#batchPromise) {
      this.#batchPromise = p;
      const batch: string[] = (this.#batch = []);
      p.then(
        () => undefined,
        () => {
          // Lost: forget them too, so their events are answered unknown_decision rather than accepted.
          this.#counters.decisionsLost += batch.length;
          for (const id of batch) this.#recent.delete(id);
        },
      );
    }
    this.#batch.push(rec.decisionId);
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
    const flags = engagementFlags(record.shown.map((s) => s.offerId), storedEventKinds(this.#dbs, record.decidedAt, decisionId));
    return record.shown.map((s, i) => ({
      offerId: s.offerId,
      position: s.position,
      impression: (flags[i] & FLAG.impression) !== 0,
      click: (flags[i] & FLAG.click) !== 0,
      conversion: (flags[i] & FLAG.conversion) !== 0,
      dismiss: (flags[i] & FLAG.dismiss) !== 0,
    }));
  }
}
