import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateSimOffers } from '../bench/sim/offers.js';
import { createTransactionSource } from '../bench/sim/transactions.js';
import { offerMatrix } from '../src/features/offer.js';
import { FEATURE_SPEC_VERSION, TXN_DIM } from '../src/features/spec.js';
import { transactionFeatures } from '../src/features/transaction.js';
import { readModelDir } from '../src/model/model-dir.js';
import { modelVersionFor } from '../src/model/onnx-export.js';
import { weightsFromModel } from '../src/model/onnx-weights.js';
import { Scorer, computeOfferSide } from '../src/model/scorer.js';

const SHIPPED = fileURLToPath(new URL('../models/shipped', import.meta.url));

// Fails when the feature spec changes without retraining: rebuild with the command in docs/MODEL.md.
describe('shipped model', () => {
  it('loads, matches this engine and was trained on real data', async () => {
    const model = await readModelDir(SHIPPED);
    expect(model.manifest.featureSpecVersion).toBe(FEATURE_SPEC_VERSION);
    expect(model.manifest.version).toBe(modelVersionFor(weightsFromModel(model)));
    expect(model.manifest.training.data).toBe('real');
    expect(model.manifest.metrics.auc).toBeGreaterThan(model.manifest.metrics.popularityAuc);
    expect(model.txnTower.length + model.offerTower.length).toBeLessThan(64 * 1024);
  });

  it('scores plausible engagement probabilities', async () => {
    const model = await readModelDir(SHIPPED);
    const offers = generateSimOffers(1, { count: 200 });
    const { emb, bias } = await computeOfferSide(model, offerMatrix(offers, 'USD'), offers.length);
    const scorer = await Scorer.create(model, emb, bias, new Float32Array(offers.length).fill(1), offers.length);
    try {
      const src = createTransactionSource(2, null);
      const batch = 16;
      const txn = new Float32Array(batch * TXN_DIM);
      for (let r = 0; r < batch; r++) transactionFeatures(src.next(), txn, r * TXN_DIM);
      const { p } = await scorer.score(txn, batch);
      const mean = p.reduce((s, x) => s + x, 0) / p.length;
      expect(mean).toBeGreaterThan(0.005);
      expect(mean).toBeLessThan(0.1);
      expect(Math.max(...p)).toBeGreaterThan(2 * Math.min(...p)); // it discriminates between offers
    } finally {
      await scorer.release();
    }
  });
});
