/**
 * Retention: keeps disk use bounded. A sweep deletes
 *   - decisions older than retentionMs (by decision time), and beyond maxDecisions the oldest ones;
 *   - events whose decision is gone: every event of a decision older than the oldest decision kept. Their
 *     key is their idempotency key, so it goes with them;
 *   - examples older than retentionMs (by decision time), and beyond maxExamples the oldest ones.
 *
 * Because retention outlasts every attribution window (validateEventOptions), an event still in its window
 * always finds its decision, and a resend is answered `duplicate`; a resend after its decision is gone is
 * answered `unknown_decision` (or `duplicate` while the event itself is still there). Either way it is never
 * stored twice.
 *
 * How events are found without an index. An event carries its decision's time (event-codec.ts). Rather than
 * an index from decision to events (one more write per event on the ingest path, the hot one), retention
 * walks ev_events in key order with a cursor kept in ev_meta, sweepScan events per sweep() call, deleting
 * those older than the oldest decision kept; the walk wraps around and never stops. Reading an entry in a
 * cursor walk costs a fraction of a microsecond, so even tens of millions of events are passed over every
 * few hours for seconds of CPU, and an event outlives its decision by at most one pass.
 *
 * Each chunk (at most sweepChunk decisions, events or examples) is one write transaction, so a large
 * backlog never holds LMDB's write lock (and delays event acks) for long. LMDB reuses the freed pages; the
 * data file stops growing once it holds a retention's worth of data but never shrinks.
 */
import { entryCount, type DecisionTimeKey, type EventDbs, type EventKey } from './layout.js';
import { EXAMPLE_DECIDED_AT } from './example-codec.js';
import { EVENT_DECIDED_AT } from './event-codec.js';
import { readSweepCursor, writeSweepCursor } from './meta.js';
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
    for (;;) {
      const n = await root.childTransaction(() => this.#decisionChunk(now));
      total.decisions += n;
      this.#counters.sweptDecisions += n;
      if (n < this.#opt.sweepChunk) break;
    }
    for (;;) {
      const n = await root.childTransaction(() => this.#exampleChunk(now));
      total.examples += n;
      this.#counters.sweptExamples += n;
      if (n < this.#opt.sweepChunk) break;
    }
    let budget = this.#opt.sweepScan;
    while (budget > 0) {
      const chunk = await root.childTransaction(() => this.#eventChunk(Math.min(budget, this.#opt.sweepChunk)));
      total.events += chunk.deleted;
      this.#counters.sweptEvents += chunk.deleted;
      budget -= chunk.scanned;
      if (chunk.passDone) break;
    }
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
      // Only a cache (ingest re-checks inside its transaction), but a swept head is dead weight.
      this.#recent.delete(key[1]);
    }
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

  /**
   * Examines up to `limit` events from the walk's cursor and deletes those of decisions older than the
   * oldest decision kept (every decision before it is gone). passDone when the walk reached the end of
   * ev_events (the next chunk starts again from the first key).
   */
  #eventChunk(limit: number): { scanned: number; deleted: number; passDone: boolean } {
    const dbs = this.#dbs;
    let oldestKept = Infinity;
    for (const key of dbs.decisionTimes.getKeys({ limit: 1 })) oldestKept = key[0];
    const cursor = readSweepCursor(dbs);
    const doomed: EventKey[] = [];
    let scanned = 0;
    let last: EventKey | null = null;
    for (const { key, value } of dbs.events.getRange({ ...(cursor === null ? {} : { start: cursor, exclusiveStart: true }), limit })) {
      scanned++;
      last = key;
      if (value.readDoubleLE(EVENT_DECIDED_AT) < oldestKept) doomed.push(key);
    }
    for (const key of doomed) dbs.events.removeSync(key);
    const passDone = scanned < limit;
    writeSweepCursor(dbs, passDone ? null : last);
    return { scanned, deleted: doomed.length, passDone };
  }
}
