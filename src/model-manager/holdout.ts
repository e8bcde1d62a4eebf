/**
 * The manager's window of recent held-out labelled examples, as feature rows ready for the quality gate. It
 * follows the example stream with its own cursor, keeps only held-out decisions (isHoldout: never trained
 * on), resolves offer features from each example's catalog version, and keeps the newest `window` in a ring.
 */
import { OFFER_DIM, TXN_DIM } from '../features/spec.js';
import type { ExampleSource } from '../learning/labelled-example.js';
import { materialize, type OfferFeatureCache } from '../learning/online-features.js';
import { isHoldout } from '../learning/online-holdout.js';
import type { HoldoutSet } from './validate.js';

const PAGE = 5_000;

export class HoldoutBuffer {
  readonly #source: ExampleSource;
  readonly #features: OfferFeatureCache;
  readonly #cap: number;
  readonly #txn: Float32Array;
  readonly #offer: Float32Array;
  readonly #label: Uint8Array;
  #next = 0;
  #size = 0;
  #cursor: number;
  /** Counters since construction. */
  readonly stats = { read: 0, heldOut: 0, skipped: 0 };

  constructor(source: ExampleSource, features: OfferFeatureCache, window: number, afterSeq = -1) {
    this.#source = source;
    this.#features = features;
    this.#cap = window;
    this.#txn = new Float32Array(window * TXN_DIM);
    this.#offer = new Float32Array(window * OFFER_DIM);
    this.#label = new Uint8Array(window);
    this.#cursor = afterSeq;
  }

  get cursor(): number {
    return this.#cursor;
  }

  get size(): number {
    return this.#size;
  }

  /** Reads up to `max` new examples from the source; returns how many were read. */
  pull(max: number): number {
    let total = 0;
    while (total < max) {
      const batch = this.#source.read(this.#cursor, Math.min(PAGE, max - total));
      if (batch.length === 0) break;
      total += batch.length;
      this.#cursor = batch[batch.length - 1].seq;
      const held = batch.filter((ex) => isHoldout(ex.decisionId));
      const m = materialize(held, this.#features);
      this.stats.read += batch.length;
      this.stats.heldOut += m.used.length;
      this.stats.skipped += m.skipped;
      for (let k = 0; k < m.data.count; k++) {
        const at = this.#next;
        this.#txn.set(m.data.txn.subarray(k * TXN_DIM, (k + 1) * TXN_DIM), at * TXN_DIM);
        this.#offer.set(m.data.offer.subarray(k * OFFER_DIM, (k + 1) * OFFER_DIM), at * OFFER_DIM);
        this.#label[at] = m.data.label[k];
        this.#next = (at + 1) % this.#cap;
        if (this.#size < this.#cap) this.#size++;
      }
      if (batch.length < PAGE) break;
    }
    return total;
  }

  /** A copy of the window, oldest first; null when empty. */
  snapshot(): HoldoutSet | null {
    const n = this.#size;
    if (n === 0) return null;
    const txn = new Float32Array(n * TXN_DIM);
    const offer = new Float32Array(n * OFFER_DIM);
    const label = new Uint8Array(n);
    const start = n < this.#cap ? 0 : this.#next;
    for (let k = 0; k < n; k++) {
      const at = (start + k) % this.#cap;
      txn.set(this.#txn.subarray(at * TXN_DIM, (at + 1) * TXN_DIM), k * TXN_DIM);
      offer.set(this.#offer.subarray(at * OFFER_DIM, (at + 1) * OFFER_DIM), k * OFFER_DIM);
      label[k] = this.#label[at];
    }
    return { txn, offer, label, count: n };
  }

  /** The newest `rows` transaction rows (for the canary). */
  recentTxnRows(rows: number): Float32Array {
    const n = Math.min(rows, this.#size);
    const out = new Float32Array(n * TXN_DIM);
    for (let k = 0; k < n; k++) {
      const at = (this.#next - 1 - k + this.#cap) % this.#cap;
      out.set(this.#txn.subarray(at * TXN_DIM, (at + 1) * TXN_DIM), k * TXN_DIM);
    }
    return out;
  }
}
