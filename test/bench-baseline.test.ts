/**
 * The naive baseline scores with the same model semantics as txrank: its per-candidate ONNX graph, built from
 * the shipped weights, gives the same p for every offer as the engine's composed scorer (towers precomputed),
 * to float32 rounding. Otherwise the benchmark would compare different models.
 */
import { describe, expect, it } from 'vitest';
import { generateDemoCatalog } from '../src/catalog/demo.js';
import { offerMatrix } from '../src/features/offer.js';
import { TXN_DIM } from '../src/features/spec.js';
import { transactionFeatures } from '../src/features/transaction.js';
import { readModelDir } from '../src/model/model-dir.js';
import { Scorer, computeOfferSide } from '../src/model/scorer.js';
import { bidScale } from '../src/ranking/bid-scale.js';
import { createNaiveEngine, scoreAll } from '../bench/baselines/naive-server.js';
import { generateTraffic } from '../bench/load/traffic.js';

describe('naive baseline', () => {
  it('computes the same p as the engine scorer from the same shipped weights', async () => {
    const catalog = generateDemoCatalog({ offers: 300, tenants: 1, seed: 3 });
    const engine = await createNaiveEngine(catalog, 'models/shipped');
    const tenant = engine.tenants.get('freshmart');
    expect(tenant).toBeDefined();
    if (!tenant) return;
    const n = tenant.offers.length;
    const model = await readModelDir('models/shipped');
    const { emb, bias } = await computeOfferSide(model, offerMatrix(tenant.offers, tenant.tenant.currency), n);
    const scorer = await Scorer.create(model, emb, bias, Float32Array.from(tenant.offers, (o) => bidScale(o.bid)), n);
    try {
      const txns = (await generateTraffic(5, 2, undefined)).txns;
      for (const txn of txns) {
        const naive = await scoreAll(engine, tenant, txn);
        const f = new Float32Array(TXN_DIM);
        transactionFeatures(txn, f);
        const { p } = await scorer.score(f, 1);
        expect(naive.length).toBe(n);
        let worst = 0;
        for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(naive[i] - p[i]));
        expect(worst).toBeLessThan(1e-5);
      }
    } finally {
      await scorer.release();
      await engine.session.release();
    }
  });
});
