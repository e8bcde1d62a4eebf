/**
 * The popularity baseline: score each offer by its smoothed training click rate, ignoring the transaction.
 * A contextual model is only worth serving if it beats this on held-out AUC.
 */
import type { Impressions } from './impressions.js';

/** Per-offer click rate on `train`, shrunk towards the global rate with `priorStrength` pseudo-impressions. */
export function popularityScores(train: Impressions, priorStrength = 20): Float64Array {
  const clicks = new Float64Array(train.offerCount);
  const shows = new Float64Array(train.offerCount);
  let total = 0;
  for (let k = 0; k < train.count; k++) {
    clicks[train.offerIndex[k]] += train.label[k];
    shows[train.offerIndex[k]] += 1;
    total += train.label[k];
  }
  const global = train.count === 0 ? 0 : total / train.count;
  const rate = new Float64Array(train.offerCount);
  for (let o = 0; o < rate.length; o++) rate[o] = (clicks[o] + priorStrength * global) / (shows[o] + priorStrength);
  return rate;
}

/** The baseline's prediction for each impression of `data` (which must share `train`'s offer rows). */
export function predictPopularity(rates: Float64Array, data: Impressions): Float64Array {
  const p = new Float64Array(data.count);
  for (let k = 0; k < data.count; k++) p[k] = rates[data.offerIndex[k]];
  return p;
}
