/**
 * Progressive validation: every example is predicted with the current weights before it is trained on, so
 * the running metrics measure the model on data it has not seen yet, with no separate test set (the
 * standard way to evaluate an online learner). Log loss and calibration run over everything since the window
 * started; AUC needs a sort, so it is computed over the most recent `aucWindow` predictions.
 */
import { auc } from './metrics.js';
import { logLossTerm } from './two-tower.js';

export interface ProgressiveSummary {
  examples: number;
  positives: number;
  logLoss: number;
  /** Over the last aucWindow predictions; NaN while one class is missing. */
  auc: number;
  /** mean p / observed rate; NaN with no positives. */
  calibration: number;
  meanPredicted: number;
  observedRate: number;
  /**
   * Normalised entropy: log loss / the log loss of always predicting the observed rate. Below 1 the model
   * knows more than the base rate; unlike raw log loss it compares windows whose engagement rates differ.
   */
  normalizedEntropy: number;
}

export class ProgressiveMetrics {
  #n = 0;
  #pos = 0;
  #loss = 0;
  #sumP = 0;
  readonly #p: Float64Array;
  readonly #y: Uint8Array;
  #next = 0;
  #filled = 0;

  constructor(aucWindow: number) {
    this.#p = new Float64Array(aucWindow);
    this.#y = new Uint8Array(aucWindow);
  }

  add(p: number, label: number): void {
    this.#n++;
    this.#pos += label;
    this.#loss += logLossTerm(p, label);
    this.#sumP += p;
    this.#p[this.#next] = p;
    this.#y[this.#next] = label;
    this.#next = (this.#next + 1) % this.#p.length;
    if (this.#filled < this.#p.length) this.#filled++;
  }

  get count(): number {
    return this.#n;
  }

  summary(): ProgressiveSummary {
    const n = this.#n;
    const rate = n === 0 ? NaN : this.#pos / n;
    const meanP = n === 0 ? NaN : this.#sumP / n;
    const baseline = n === 0 || this.#pos === 0 || this.#pos === n ? NaN : -(rate * Math.log(rate) + (1 - rate) * Math.log(1 - rate));
    return {
      examples: n,
      positives: this.#pos,
      logLoss: n === 0 ? NaN : this.#loss / n,
      auc: this.#filled === 0 ? NaN : auc(this.#p.subarray(0, this.#filled), this.#y.subarray(0, this.#filled)),
      calibration: this.#pos === 0 ? NaN : meanP / rate,
      meanPredicted: meanP,
      observedRate: rate,
      normalizedEntropy: n === 0 ? NaN : this.#loss / n / baseline,
    };
  }
}
