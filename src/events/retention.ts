/**
 * Retention: keeps disk use bounded. A sweep deletes
 *   - decisions older than retentionMs (by decision time), and beyond maxDecisions the oldest ones;
 *   - the events of every deleted decision. Events are keyed by their decision's time, so these are exactly
 *     the events before the oldest decision kept: one range from the start of ev_events, deleted in order.
 *     An event's key is its idempotency key, so it goes with it;
 *   - examples older than retentionMs (by decision time), and beyond maxExamples the oldest ones.
 *
 * Because retention outlasts every attribution window (validateEventOptions), an event still in its window
 * always finds its decision, and a retry is answered `duplicate`; a retry after its decision is gone is
 * answered `unknown_decision`. Either way it is never stored twice.
 *
 * Each chunk (at most sweepChunk decisions, events or examples) is one write transaction, so a large
 * backlog never holds LMDB's write lock (and delays event acks) for long. LMDB reuses the freed pages; the
 * data file stops growing once it holds a retention's worth of data but never shrinks.
 */
import { entryCount, type DecisionTimeKey, type EventDbs, type EventKey } from './layout.js';
import { EXAMPLE_DECIDED_AT } from './example-codec.js';
import type { EventCounters } from './counters.js';
import type { ResolvedEventOptions } from './options.js';
import type { RecentDecisions } from './recent-decisions.js';

export interface SweepResult {
  decisions: number;
  events: number;
  examples: number;
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

  /** Deletes what is past retention at `now` (ms), a chunk per transaction; resolves with the counts. */
  async sweep(now: number): Promise<SweepResult> {
    const root = this.#dbs.root;
    const total: SweepResult = { decisions: 0, events: 0, examples: 0 };
    const chunks = async (chunk: () => number, add: (n: number) => void): Promise<void> => {
      for (;;) {
        const n = await root.childTransaction(chunk);
        add(n);
        if (n < this.#opt.sweepChunk) return;
      }
    };
    await chunks(
      () => this.#decisionChunk(now),
      (n) => {
        total.decisions += n;
        this.#counters.sweptDecisions += n;
      },
    );
    await chunks(
      () => this.#eventChunk(),
      (n) => {
        total.events += n;
        this.#counters.sweptEvents += n;
      },
    );
    await chunks(
      () => this.#exampleChunk(now),
      (n) => {
        total.examples += n;
        this.#counters.sweptExamples += n;
      },
    );
    return total;
  }

  #decisionChunk(now: number): number {
    const dbs = this.#dbs;
    const cutoff = now - this.#opt.retentionMs;
    const over = Math.max(0, entryCount(dbs.decisionTimes) - this.#opt.maxDecisions);
    // Collect first, delete after: never mutate a DB under a live cursor.
    const doomed: DecisionTimeKey[] = [];
    for (const key of dbs.decisionTimes.getKeys({ limit: this.#opt.sweepChunk })) {
      if (!(key[0] < cutoff || doomed.length < over)) break;
      doomed.push(key);
    }
    for (const key of doomed) {
      dbs.decisions.removeSync(key[1]);
      dbs.decisionTimes.removeSync(key);
      // Only a cache, but an entry must never outlive its decision (see recent-decisions.ts).
      this.#recent.delete(key[1]);
    }
    return doomed.length;
  }

  /** Events before the oldest decision kept (all of them when no decision is left). */
  #eventChunk(): number {
    const dbs = this.#dbs;
    let oldest: DecisionTimeKey | undefined;
    for (const key of dbs.decisionTimes.getKeys({ limit: 1 })) oldest = key;
    const doomed: EventKey[] = [...dbs.events.getKeys({ ...(oldest === undefined ? {} : { end: oldest }), limit: this.#opt.sweepChunk })];
    for (const key of doomed) dbs.events.removeSync(key);
    return doomed.length;
  }

  #exampleChunk(now: number): number {
    const dbs = this.#dbs;
    const cutoff = now - this.#opt.retentionMs;
    const over = Math.max(0, entryCount(dbs.examples) - this.#opt.maxExamples);
    const doomed: number[] = [];
    // Seq order is decision-time order (the labeler walks decisions in time order).
    for (const { key, value } of dbs.examples.getRange({ limit: this.#opt.sweepChunk })) {
      if (!(value.readDoubleLE(EXAMPLE_DECIDED_AT) < cutoff || doomed.length < over)) break;
      doomed.push(key);
    }
    for (const seq of doomed) dbs.examples.removeSync(seq);
    return doomed.length;
  }
}
