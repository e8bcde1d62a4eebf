/**
 * The heads (tenant, time, offer ids) of recently logged decisions, in memory, so that ingest can validate
 * most events without reading LMDB. Engagement arrives within seconds or minutes of its decision, and a
 * decision record is keyed by a random UUID: every lookup of it would be a random B-tree descent of a few
 * µs. Cached heads cut the event path to the writes it cannot avoid.
 *
 * Each entry also counts the events accepted for its decision (maxEventsPerDecision), exactly: an entry is
 * made when this process logs the decision, so every event of it is accepted by this process afterwards.
 * An event counted in a transaction that then fails stays counted (the bound errs on the safe side).
 *
 * Consistency: records are immutable, so a cached head is never out of date. Retention removes the entries
 * of the decisions it deletes, and the decision log removes those whose write failed, so an entry means the
 * decision is stored (or queued to be, ahead of any event that names it). First in, first out: the oldest
 * logged decision goes first; a miss reads the record.
 */
import type { DecisionHead } from './types.js';

export interface CachedDecision extends DecisionHead {
  /** Events accepted for the decision. */
  events: number;
  /** FLAG bits (engagement.ts) per shown offer of the events accepted so far, exact like `events`. */
  seen: Uint8Array;
}

export class RecentDecisions {
  readonly #heads = new Map<string, CachedDecision>();

  constructor(readonly capacity: number) {}

  get(decisionId: string): CachedDecision | undefined {
    return this.#heads.get(decisionId);
  }

  add(decisionId: string, head: CachedDecision): void {
    if (this.capacity === 0) return;
    this.#heads.set(decisionId, head);
    if (this.#heads.size > this.capacity) {
      const oldest = this.#heads.keys().next();
      if (!oldest.done) this.#heads.delete(oldest.value);
    }
  }

  delete(decisionId: string): void {
    this.#heads.delete(decisionId);
  }

  get size(): number {
    return this.#heads.size;
  }
}
