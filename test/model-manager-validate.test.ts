/**
 * Candidate validation with real ONNX Runtime sessions on real model directories: a good model passes, and
 * each failure fixture is rejected at its stage with a reason that names the problem.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../src/catalog/store.js';
import { OfferFeatureCache, materialize } from '../src/learning/online-features.js';
import { isHoldout } from '../src/learning/online-holdout.js';
import type { TwoTowerWeights } from '../src/learning/two-tower.js';
import { readModelDir, type LoadedModel } from '../src/model/model-dir.js';
import { buildCanary } from '../src/model-manager/canary.js';
import { checkLoadable, validateCandidate, type HoldoutSet, type QualityOptions } from '../src/model-manager/validate.js';
import { SHIPPED, fixtureModel, shippedWeights, simWorld, type FixtureKind } from './helpers/learning-fixtures.js';

let tmp: string;
let models: string;
let staging: string;
let base: TwoTowerWeights;
let serving: LoadedModel;
let holdout: HoldoutSet;
const canary = buildCanary();
const QUALITY: QualityOptions = { logLossMargin: 0.01, minHoldoutExamples: 1000, requireHoldout: false };

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'txrank-validate-'));
  models = path.join(tmp, 'models');
  staging = path.join(tmp, 'staging');
  base = await shippedWeights();
  serving = await readModelDir(SHIPPED);
  // Held-out examples as the manager builds them: simulated decisions, offer features from a real LMDB catalog.
  const world = await simWorld(path.join(tmp, 'data'), { transactions: 12_000 });
  const storage = openStorage(world.dataDir, { readOnly: true });
  const m = materialize(world.examples.filter((e) => isHoldout(e.decisionId)), new OfferFeatureCache(storage.catalog));
  await storage.close();
  holdout = { txn: m.data.txn, offer: m.data.offer, label: m.data.label, count: m.data.count };
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const dirOf = async (kind: FixtureKind, k = 1): Promise<string> => path.join(models, await fixtureModel(base, kind, k, models, staging));

describe('validateCandidate', () => {
  it('accepts a good model and reports canary and held-out metrics', async () => {
    expect(holdout.count).toBeGreaterThan(2000);
    const r = await validateCandidate(await dirOf('good'), { canary, serving, holdout, quality: QUALITY });
    expect(r.reason).toBeNull();
    expect(r).toMatchObject({ ok: true, stage: 'passed' });
    expect(r.metrics.canaryOffers).toBe(63);
    expect(r.metrics.canaryPMin).toBeGreaterThanOrEqual(0);
    expect(r.metrics.canaryPMax).toBeLessThanOrEqual(1);
    expect(r.metrics.holdoutExamples).toBe(holdout.count);
    expect(r.metrics.qualitySkipped).toBe(0);
    expect(Math.abs(r.metrics.logLoss - r.metrics.servingLogLoss)).toBeLessThan(1e-3);
    expect(r.metrics.auc).toBeGreaterThan(0.55);
    expect(r.metrics.totalMs).toBeGreaterThan(0);
  });

  it('rejects a corrupt ONNX file at the signature stage (ONNX Runtime cannot load it)', async () => {
    const r = await validateCandidate(await dirOf('corrupt-onnx'), { canary, serving, holdout, quality: QUALITY });
    expect(r).toMatchObject({ ok: false, stage: 'signature' });
    expect(r.reason).toMatch(/ONNX Runtime cannot load txn_tower\.onnx/);
  });

  it('rejects a file changed after its manifest at the load stage (sha256)', async () => {
    const r = await validateCandidate(await dirOf('sha-mismatch'), { canary, serving, holdout, quality: QUALITY });
    expect(r).toMatchObject({ ok: false, stage: 'load' });
    expect(r.reason).toMatch(/txn_tower\.onnx has sha256 [0-9a-f]+, the manifest says/);
  });

  it('rejects a model trained on another feature spec version at the load stage', async () => {
    const r = await validateCandidate(await dirOf('wrong-spec'), { canary, serving, holdout, quality: QUALITY });
    expect(r).toMatchObject({ ok: false, stage: 'load' });
    expect(r.reason).toMatch(/feature spec version 2 but this engine builds feature spec version 1/);
  });

  it('rejects a tower whose input width does not match the spec at the signature stage', async () => {
    const r = await validateCandidate(await dirOf('wrong-signature'), { canary, serving, holdout, quality: QUALITY });
    expect(r).toMatchObject({ ok: false, stage: 'signature' });
    expect(r.reason).toBe('signature: txn tower input txn has shape [batch, 36], expected [batch, 37]');
  });

  it('rejects a NaN-producing model at the canary stage', async () => {
    const r = await validateCandidate(await dirOf('nan'), { canary, serving, holdout, quality: QUALITY });
    expect(r).toMatchObject({ ok: false, stage: 'canary' });
    expect(r.reason).toMatch(/offer bias b\[0\] is NaN/);
  });

  it('rejects a clearly worse model at the quality gate, with both log losses in the reason', async () => {
    const r = await validateCandidate(await dirOf('worse'), { canary, serving, holdout, quality: QUALITY });
    expect(r).toMatchObject({ ok: false, stage: 'quality' });
    expect(r.reason).toMatch(/held-out log loss 0\.\d+ is worse than the serving model's 0\.\d+ by more than 1\.00%/);
    expect(r.metrics.logLoss).toBeGreaterThan(r.metrics.servingLogLoss * 1.2);
    // The bias shift moves every logit equally: ranking (AUC) stays (up to float32 rounding), calibration does not.
    expect(Math.abs(r.metrics.auc - r.metrics.servingAuc)).toBeLessThan(0.005);
    expect(r.metrics.calibration).toBeGreaterThan(3 * r.metrics.servingCalibration);
  });

  it('a generous margin lets the worse model through; too few held-out examples skip the gate unless required', async () => {
    const worse = await dirOf('worse', 2);
    expect((await validateCandidate(worse, { canary, serving, holdout, quality: { ...QUALITY, logLossMargin: 5 } })).ok).toBe(true);
    const few = { ...holdout, count: 10 };
    const skipped = await validateCandidate(worse, { canary, serving, holdout: few, quality: QUALITY });
    expect(skipped).toMatchObject({ ok: true, metrics: { qualitySkipped: 1, holdoutExamples: 10 } });
    const required = await validateCandidate(worse, { canary, serving, holdout: few, quality: { ...QUALITY, requireHoldout: true } });
    expect(required).toMatchObject({ ok: false, stage: 'quality', reason: 'quality: only 10 held-out examples, the quality gate needs 1000' });
  });

  it('checkLoadable runs load, signature and canary only', async () => {
    expect((await checkLoadable(await dirOf('worse', 3), canary)).ok).toBe(true);
    expect((await checkLoadable(await dirOf('nan', 3), canary)).stage).toBe('canary');
  });

  it('refuses a directory whose name is not its manifest version', async () => {
    const { cp } = await import('node:fs/promises');
    const wrong = path.join(models, 'tt-1-deadbeef');
    await cp(SHIPPED, wrong, { recursive: true });
    const r = await checkLoadable(wrong, canary);
    expect(r).toMatchObject({ ok: false, stage: 'load', reason: 'load: directory tt-1-deadbeef holds manifest version tt-1-6ead99d6' });
  });
});
