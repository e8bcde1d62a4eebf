import { describe, expect, it } from 'vitest';
import { createGroundTruth } from '../bench/sim/engagement.js';
import { simulateImpressions } from '../bench/sim/impressions.js';
import { generateSimOffers } from '../bench/sim/offers.js';
import { createTransactionSource } from '../bench/sim/transactions.js';
import { OFFER_DIM, TXN_DIM } from '../src/features/spec.js';
import { auc, clickMetrics } from '../src/learning/metrics.js';
import { PARAM_NAMES, cloneWeights, initWeights, predictImpressions, train, weightsDigest } from '../src/learning/two-tower.js';
import { buildOfferTowerOnnx, buildTxnTowerOnnx } from '../src/model/onnx-export.js';

const DIMS = { txn: TXN_DIM, offer: OFFER_DIM, hidden: 16, embed: 8 };

function simulate(txnSeed: number, impSeed: number, transactions: number) {
  return simulateImpressions({
    source: createTransactionSource(txnSeed, null),
    offers: generateSimOffers(100, { count: 120 }),
    currency: 'USD',
    truth: createGroundTruth(101),
    transactions,
    perTxn: 3,
    seed: impSeed,
  });
}

describe('two-tower training', () => {
  const trainSet = simulate(1, 2, 12_000);
  const testSet = simulate(3, 4, 6_000);

  it('reduces held-out log loss and learns a ranking better than chance', () => {
    const w = initWeights(DIMS, 5, 0.03);
    const before = clickMetrics(predictImpressions(w, testSet), testSet.label);
    const history = train(w, trainSet, { epochs: 3, batchSize: 128, learningRate: 0.005, l2: 1e-6, seed: 6 });
    const after = clickMetrics(predictImpressions(w, testSet), testSet.label);
    expect(history).toHaveLength(3);
    expect(history[2]).toBeLessThan(history[0]);
    expect(after.logLoss).toBeLessThan(before.logLoss);
    expect(after.auc).toBeGreaterThan(0.56); // untrained: 0.47; the ground truth itself: 0.68
    expect(after.calibration).toBeGreaterThan(0.75);
    expect(after.calibration).toBeLessThan(1.33);
  });

  it('is deterministic: same seeds give identical weights and ONNX bytes, another seed does not', () => {
    const run = (shuffleSeed: number) => {
      const w = initWeights(DIMS, 7, 0.03);
      train(w, trainSet, { epochs: 1, batchSize: 256, learningRate: 0.005, l2: 1e-6, seed: shuffleSeed });
      return w;
    };
    const a = run(8);
    const b = run(8);
    const c = run(9);
    for (const name of PARAM_NAMES) expect(Array.from(b[name])).toEqual(Array.from(a[name]));
    expect(weightsDigest(a)).toBe(weightsDigest(b));
    expect(Buffer.from(buildTxnTowerOnnx(a)).equals(Buffer.from(buildTxnTowerOnnx(b)))).toBe(true);
    expect(Buffer.from(buildOfferTowerOnnx(a)).equals(Buffer.from(buildOfferTowerOnnx(b)))).toBe(true);
    expect(weightsDigest(c)).not.toBe(weightsDigest(a));
  });

  it('continues training from cloned weights without touching the original', () => {
    const w = initWeights(DIMS, 10, 0.03);
    const digest = weightsDigest(w);
    const copy = cloneWeights(w);
    train(copy, trainSet, { epochs: 1, batchSize: 256, learningRate: 0.005, l2: 0, seed: 1 });
    expect(weightsDigest(w)).toBe(digest);
    expect(weightsDigest(copy)).not.toBe(digest);
  });
});

describe('metrics', () => {
  it('AUC is 1 for a perfect ranking, 0 for a reversed one, 0.5 for ties', () => {
    expect(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(auc([0.1, 0.2], [0, 0])).toBeNaN();
  });

  it('calibration is mean predicted over observed rate; log loss matches the formula', () => {
    const m = clickMetrics([0.2, 0.2, 0.2, 0.2], [1, 0, 0, 0]);
    expect(m.calibration).toBeCloseTo(0.8, 12);
    expect(m.logLoss).toBeCloseTo(-(Math.log(0.2) + 3 * Math.log(0.8)) / 4, 12);
  });
});
