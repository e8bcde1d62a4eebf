import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSimOffers } from '../bench/sim/offers.js';
import { createTransactionSource } from '../bench/sim/transactions.js';
import { TxrankError } from '../src/errors/codes.js';
import { offerMatrix } from '../src/features/offer.js';
import { OFFER_DIM, TXN_DIM } from '../src/features/spec.js';
import { transactionFeatures } from '../src/features/transaction.js';
import { Prng } from '../src/learning/prng.js';
import { initWeights, offerEmbed, txnEmbed, type TwoTowerWeights } from '../src/learning/two-tower.js';
import { readModelDir, type LoadedModel } from '../src/model/model-dir.js';
import { writeModelDir } from '../src/model/onnx-export.js';
import { Scorer, computeOfferSide } from '../src/model/scorer.js';

const N = 300;
const D = 8;
let tmp: string;
let w: TwoTowerWeights;
let model: LoadedModel;
let offerRows: Float32Array;
let bidScale: Float32Array;

/** `batch` feature rows of simulated transactions. */
function txnRows(seed: number, batch: number): Float32Array {
  const src = createTransactionSource(seed, null);
  const out = new Float32Array(batch * TXN_DIM);
  for (let r = 0; r < batch; r++) transactionFeatures(src.next(), out, r * TXN_DIM);
  return out;
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'txrank-scorer-'));
  // Untrained but scaled-up random weights spread p over (0, 1), which makes the comparison demanding.
  w = initWeights({ txn: TXN_DIM, offer: OFFER_DIM, hidden: 16, embed: D }, 11, 0.2);
  for (const a of [w.txnW2, w.offerW2]) for (let i = 0; i < a.length; i++) a[i] *= 3;
  const rng = new Prng(12);
  for (let i = 0; i < w.biasW.length; i++) w.biasW[i] = rng.normal() * 0.5;
  await writeModelDir(path.join(tmp, 'm'), w, { parent: null, createdAt: '2025-01-01T00:00:00.000Z', training: {}, metrics: {} });
  model = await readModelDir(path.join(tmp, 'm'));
  offerRows = offerMatrix(generateSimOffers(13, { count: N }), 'USD');
  bidScale = new Float32Array(N).map(() => rng.uniform(0.05, 3));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('Scorer', () => {
  it('p = sigmoid(u·e + b) of the TypeScript model and ev = p × bidScale', async () => {
    const { emb, bias } = await computeOfferSide(model, offerRows, N);
    const scorer = await Scorer.create(model, emb, bias, bidScale, N);
    try {
      expect(scorer.n).toBe(N);
      expect(scorer.modelVersion).toBe(model.manifest.version);
      const batch = 4;
      const txn = txnRows(21, batch);
      const { p, ev } = await scorer.score(txn, batch);
      expect(p.length).toBe(batch * N);
      expect(ev.length).toBe(batch * N);
      const u = txnEmbed(w, txn, batch);
      const ref = offerEmbed(w, offerRows, N);
      let lo = 1;
      let hi = 0;
      for (let r = 0; r < batch; r++) {
        for (let i = 0; i < N; i++) {
          let z = ref.bias[i];
          for (let j = 0; j < D; j++) z += u[r * D + j] * ref.emb[i * D + j];
          const want = 1 / (1 + Math.exp(-z));
          expect(Math.abs(p[r * N + i] - want)).toBeLessThan(1e-5);
          expect(Math.abs(ev[r * N + i] - p[r * N + i] * bidScale[i])).toBeLessThan(1e-5 * bidScale[i]);
          lo = Math.min(lo, want);
          hi = Math.max(hi, want);
        }
      }
      expect(hi - lo).toBeGreaterThan(0.3); // the check above covered a real spread of probabilities
    } finally {
      await scorer.release();
    }
  });

  it('scores batch rows independently', async () => {
    const { emb, bias } = await computeOfferSide(model, offerRows, N);
    const scorer = await Scorer.create(model, emb, bias, bidScale, N);
    try {
      const batch = 5;
      const txn = txnRows(31, batch);
      const all = await scorer.score(txn, batch);
      for (let r = 0; r < batch; r++) {
        const one = await scorer.score(txn.slice(r * TXN_DIM, (r + 1) * TXN_DIM), 1);
        for (let i = 0; i < N; i++) {
          expect(Math.abs(one.p[i] - all.p[r * N + i])).toBeLessThan(1e-6);
          expect(Math.abs(one.ev[i] - all.ev[r * N + i])).toBeLessThan(1e-6);
        }
      }
      // Different transactions really do get different scores.
      expect(all.p.subarray(0, N)).not.toEqual(all.p.subarray(N, 2 * N));
    } finally {
      await scorer.release();
    }
  });

  it('serves a tenant with no offers (n = 0) without a session', async () => {
    const scorer = await Scorer.create(model, new Float32Array(0), new Float32Array(0), new Float32Array(0), 0);
    expect(scorer.n).toBe(0);
    const out = await scorer.score(txnRows(41, 2), 2);
    expect(out.p.length).toBe(0);
    expect(out.ev.length).toBe(0);
    await scorer.release();
    await scorer.release();
  });

  it('release is idempotent and waits for a run already started; score afterwards rejects', async () => {
    const { emb, bias } = await computeOfferSide(model, offerRows, N);
    const scorer = await Scorer.create(model, emb, bias, bidScale, N);
    const pending = scorer.score(txnRows(51, 1), 1);
    const r1 = scorer.release();
    const r2 = scorer.release();
    expect(r1).toBe(r2);
    const res = await pending;
    expect(res.p.length).toBe(N);
    await Promise.all([r1, r2, scorer.release()]);
    const err = await scorer.score(txnRows(52, 1), 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TxrankError);
    expect((err as TxrankError).message).toMatch(/released/);
  });

  it('rejects mismatched offer-side arrays and short inputs', async () => {
    const { emb, bias } = await computeOfferSide(model, offerRows, N);
    await expect(Scorer.create(model, emb, bias, bidScale.subarray(1), N)).rejects.toThrow(/expected/);
    await expect(Scorer.create(model, emb.subarray(D), bias, bidScale, N)).rejects.toThrow(/expected/);
    const scorer = await Scorer.create(model, emb, bias, bidScale, N);
    try {
      await expect(scorer.score(new Float32Array(TXN_DIM), 2)).rejects.toThrow(/batch of 2/);
      await expect(scorer.score(new Float32Array(TXN_DIM), 0)).rejects.toThrow(/bad batch/);
    } finally {
      await scorer.release();
    }
  });
});
