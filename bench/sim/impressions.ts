/**
 * Logged impressions for training, as a uniformly random exploration policy would log them: every transaction
 * is shown `perTxn` offers drawn uniformly (without replacement) from the offer set, each in slot 1, and the
 * buyer's engagement is drawn from the ground truth. Features are built with the engine's own serving code,
 * so the model is trained on exactly what it will see.
 *
 * Slot 1 only: the model then predicts slot-1 engagement, and the slot effect stays a separate concern of
 * ranking. A uniform logging policy keeps the data unbiased without propensity weighting.
 */
import type { Offer } from '../../src/catalog/types.js';
import { offerMatrix } from '../../src/features/offer.js';
import { TXN_DIM } from '../../src/features/spec.js';
import { transactionFeatures } from '../../src/features/transaction.js';
import type { Impressions } from '../../src/learning/impressions.js';
import { basketContext, type GroundTruth } from './engagement.js';
import { Prng } from './prng.js';
import type { TransactionSource } from './transactions.js';

export interface SimulatedImpressions extends Impressions {
  /** The ground-truth probability behind each label: the ceiling any model can reach. */
  trueP: Float64Array;
}

export function simulateImpressions(options: {
  source: TransactionSource;
  offers: readonly Offer[];
  /** Currency of the offers' tenant. */
  currency: string;
  truth: GroundTruth;
  transactions: number;
  perTxn: number;
  seed: number;
}): SimulatedImpressions {
  const { source, offers, currency, truth, transactions, perTxn } = options;
  if (perTxn > offers.length) throw new Error(`perTxn ${perTxn} exceeds the ${offers.length} offers`);
  const rng = new Prng(options.seed);
  const count = transactions * perTxn;
  const txn = new Float32Array(transactions * TXN_DIM);
  const txnIndex = new Uint32Array(count);
  const offerIndex = new Uint32Array(count);
  const label = new Uint8Array(count);
  const trueP = new Float64Array(count);
  const chosen = new Set<number>();
  let k = 0;
  for (let t = 0; t < transactions; t++) {
    const tx = source.next();
    transactionFeatures(tx, txn, t * TXN_DIM);
    const ctx = basketContext(tx);
    chosen.clear();
    while (chosen.size < perTxn) chosen.add(rng.int(offers.length));
    for (const o of chosen) {
      const p = truth.engageProbabilityCtx(ctx, offers[o], currency, 1);
      txnIndex[k] = t;
      offerIndex[k] = o;
      trueP[k] = p;
      label[k] = rng.next() < p ? 1 : 0;
      k++;
    }
  }
  return {
    txn,
    txnCount: transactions,
    offer: offerMatrix(offers, currency),
    offerCount: offers.length,
    txnIndex,
    offerIndex,
    label,
    count,
    trueP,
  };
}
