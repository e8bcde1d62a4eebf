/**
 * A labelled example: one offer shown in one decision, joined with what the buyer did. The join
 * (src/events/) produces them; the online trainer (workers/trainer/) consumes them. They carry the
 * transaction features exactly as served (no recomputation, so no training/serving skew) and name the
 * catalog version whose offer record gives the offer features.
 */
export interface LabelledExample {
  /** Monotonic sequence number in the example stream; consumers persist the last one they used. */
  seq: number;
  decisionId: string;
  tenant: string;
  offerId: string;
  catalogVersion: number;
  /** The model version that served the decision. */
  modelVersion: string;
  /** 1-based slot the offer was shown in. */
  position: number;
  /** Probability with which the serving policy chose this offer for this slot (1 for a greedy policy). */
  propensity: number;
  /** TXN_DIM transaction features as served. */
  txnFeatures: Float32Array;
  /** 1 when the impression was clicked within the click attribution window, else 0. */
  label: 0 | 1;
  /** Decision time, ms since epoch. */
  decidedAt: number;
}

/** Where the trainer reads examples from: everything after `afterSeq`, oldest first, at most `limit`. */
export interface ExampleSource {
  read(afterSeq: number, limit: number): LabelledExample[];
}
