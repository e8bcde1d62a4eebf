/**
 * The heads (tenant, time, offer ids) of recently logged decisions, in memory, so that ingest can validate
 * most events without reading LMDB. Engagement arrives within seconds or minutes of its decision, and a
 * decision record is keyed by a random UUID: every lookup of it would be a random B-tree descent of a few
 * µs. Cached heads cut the event path to the writes it cannot avoid.
 *
 * It is only a cache: a miss reads the record, and the authoritative existence check is still made inside
 * the write transaction (the decision's engagement entry must be there), so a decision whose write was lost
 * or that retention deleted is never accepted on the strength of a stale entry. Records are immutable, so a
 * cached head is never out of date. First in, first out: the oldest logged decision goes first.
 */
import type { DecisionHead } from './decision-codec.js';

export class RecentDecisions {
  readonly #heads = new Map<string, DecisionHead>();

  constructor(readonly capacity: number) {}

  get(decisionId: string): DecisionHead | undefined {
    return this.#heads.get(decisionId);
  }

  add(decisionId: string, head: DecisionHead): void {
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
