/**
 * Held-out metrics for a click model: log loss (how good the probabilities are), AUC (how good the ranking
 * is) and calibration (mean predicted / observed rate; 1 is perfect, and ranking by expected value needs it
 * because p multiplies the bid).
 */
import { logLossTerm } from './two-tower.js';

export interface ClickMetrics {
  logLoss: number;
  auc: number;
  /** mean(p) / mean(label). */
  calibration: number;
  meanPredicted: number;
  observedRate: number;
  count: number;
}

export function logLoss(p: ArrayLike<number>, label: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += logLossTerm(p[i], label[i]);
  return p.length === 0 ? 0 : s / p.length;
}

/**
 * Area under the ROC curve by the rank-sum (Mann-Whitney) formula, with tied scores given their average rank
 * so a constant predictor scores exactly 0.5. NaN when one class is absent.
 */
export function auc(score: ArrayLike<number>, label: ArrayLike<number>): number {
  const n = score.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => score[a] - score[b]);
  let pos = 0;
  let rankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && score[idx[j + 1]] === score[idx[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (label[idx[k]] === 1) {
        pos++;
        rankSum += avgRank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

export function clickMetrics(p: ArrayLike<number>, label: ArrayLike<number>): ClickMetrics {
  let sp = 0;
  let sl = 0;
  for (let i = 0; i < p.length; i++) {
    sp += p[i];
    sl += label[i];
  }
  const n = p.length;
  const meanPredicted = n === 0 ? 0 : sp / n;
  const observedRate = n === 0 ? 0 : sl / n;
  return {
    logLoss: logLoss(p, label),
    auc: auc(p, label),
    calibration: observedRate === 0 ? NaN : meanPredicted / observedRate,
    meanPredicted,
    observedRate,
    count: n,
  };
}
