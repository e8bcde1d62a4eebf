/**
 * Retention: keeps disk use bounded. A sweep deletes
 *   - decisions older than retentionMs (by decision time), and beyond maxDecisions the oldest ones, each with
 *     all its events and their idempotency keys (the event's own key), and
 *   - examples older than retentionMs (by decision time), and beyond maxExamples the oldest ones.
 *
 * An event is kept exactly as long as its decision. Because retention outlasts every attribution window
 * (validateEventOptions), an event still in its window always finds its decision and a resend is answered
 * `duplicate`; a resend after its decision is gone is answered `unknown_decision`. Either way it is never
 * stored twice.
 *
 * Each chunk (at most sweepChunk decisions and sweepChunk examples) is one write transaction, so a large
 * backlog never holds LMDB's write lock (and delays event acks) for long. LMDB reuses the freed pages; the
 * data file stops growing once it holds a retention's worth of data but never shrinks.
 */
import { entryCount, type DecisionTimeKey, type EventDbs } from './layout.js';
import { decodeDecisionHead } from './decision-codec.js';
import { engagementEventIds } from './engagement-codec.js';
import { EXAMPLE_DECIDED_AT } from './example-codec.js';
import type { EventCounters } from './counters.js';
import type { ResolvedEventOptions } from './options.js';
import type { RecentDecisions } from './recent-decisions.js';

export interface SweepResult {
  decisions: number;
  events: number;
  examples: number;
}

interface Chunk extends SweepResult {
  more: boolean;
}

export class Retention {
  readonly #dbs: EventDbs;
  readonly #opt: ResolvedEventOptions;
  readonly #counters: EventCounters;
  readonly #recent: RecentDecisions;

  constructor(dbs: EventDbs, opt: ResolvedEventOptions, counters: EventCounters, recent: RecentDecisions) {
    this.#dbs = dbs;
    this.#opt = opt;
    this.#counters = counters;
    this.#recent = recent;
  }

  /** Deletes everything past retention at `now` (ms), a chunk per transaction. */
  async sweep(now: number): Promise<SweepResult> {
    const total: SweepResult = { decisions: 0, events: 0, examples: 0 };
    for (;;) {
      const chunk = await this.#dbs.root.childTransaction(() => this.#chunk(now));
      total.decisions += chunk.decisions;
      total.events += chunk.events;
      total.examples += chunk.examples;
      this.#counters.sweptDecisions += chunk.decisions;
      this.#counters.sweptEvents += chunk.events;
      this.#counters.sweptExamples += chunk.examples;
      if (!chunk.more) return total;
    }
  }

  #chunk(now: number): Chunk {
    const dbs = this.#dbs;
    const cutoff = now - this.#opt.retentionMs;
    const limit = this.#opt.sweepChunk;

    // Collect first, delete after: never mutate a DB under a live cursor.
    const overDecisions = Math.max(0, entryCount(dbs.decisionTimes) - this.#opt.maxDecisions);
    const doomed: { key: DecisionTimeKey; eventIds: string[] }[] = [];
    for (const { key, value } of dbs.decisionTimes.getRange({ limit })) {
      if (!(key[0] < cutoff || doomed.length < overDecisions)) break;
      doomed.push({ key, eventIds: engagementEventIds(value, value.length) });
    }
    let events = 0;
    for (const { key, eventIds } of doomed) {
      const decisionId = key[1];
      const b = dbs.decisions.getBinaryFast(decisionId);
      // Written in the same transaction as the engagement entry, so present; the events are the tenant's.
      if (b !== undefined && eventIds.length > 0) {
        const { tenant } = decodeDecisionHead(b, b.length);
        for (const id of eventIds) dbs.events.removeSync([tenant, id]);
        events += eventIds.length;
      }
      dbs.decisions.removeSync(decisionId);
      dbs.decisionTimes.removeSync(key);
      // Only a cache (ingest re-checks inside its transaction), but a swept head is dead weight.
      this.#recent.delete(decisionId);
    }

    const overExamples = Math.max(0, entryCount(dbs.examples) - this.#opt.maxExamples);
    const doomedExamples: number[] = [];
    for (const { key, value } of dbs.examples.getRange({ limit })) {
      if (!(value.readDoubleLE(EXAMPLE_DECIDED_AT) < cutoff || doomedExamples.length < overExamples)) break;
      doomedExamples.push(key);
    }
    for (const seq of doomedExamples) dbs.examples.removeSync(seq);

    return {
      decisions: doomed.length,
      events,
      examples: doomedExamples.length,
      more: doomed.length === limit || doomedExamples.length === limit,
    };
  }
}
