/**
 * A logged-impressions data set in the shape training wants: feature rows stored once, impressions as index
 * pairs. Many impressions share a transaction or an offer, so storing each feature row once keeps a few
 * hundred thousand impressions in a few megabytes and lets evaluation run each tower once per distinct row.
 */
export interface Impressions {
  /** [txnCount, TXN_DIM] row-major, built by transactionFeatures. */
  txn: Float32Array;
  txnCount: number;
  /** [offerCount, OFFER_DIM] row-major, built by offerFeatures / offerMatrix. */
  offer: Float32Array;
  offerCount: number;
  /** Impression k showed offer offerIndex[k] on transaction txnIndex[k] and was engaged iff label[k] = 1. */
  txnIndex: Uint32Array;
  offerIndex: Uint32Array;
  label: Uint8Array;
  count: number;
}

/** The impressions at `indices` (sharing the same feature rows; nothing is copied but the index arrays). */
export function subsetImpressions(data: Impressions, indices: ArrayLike<number>): Impressions {
  const n = indices.length;
  const txnIndex = new Uint32Array(n);
  const offerIndex = new Uint32Array(n);
  const label = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const i = indices[k];
    txnIndex[k] = data.txnIndex[i];
    offerIndex[k] = data.offerIndex[i];
    label[k] = data.label[i];
  }
  return { ...data, txnIndex, offerIndex, label, count: n };
}

export function positiveRate(data: Impressions): number {
  let s = 0;
  for (let k = 0; k < data.count; k++) s += data.label[k];
  return data.count === 0 ? 0 : s / data.count;
}
