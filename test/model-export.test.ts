import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGroundTruth } from '../bench/sim/engagement.js';
import { simulateImpressions } from '../bench/sim/impressions.js';
import { generateSimOffers } from '../bench/sim/offers.js';
import { createTransactionSource } from '../bench/sim/transactions.js';
import { TxrankError } from '../src/errors/codes.js';
import { FEATURE_SPEC_VERSION, OFFER_DIM, TXN_DIM } from '../src/features/spec.js';
import type { Impressions } from '../src/learning/impressions.js';
import { PARAM_NAMES, initWeights, offerEmbed, train, txnEmbed, type TwoTowerWeights } from '../src/learning/two-tower.js';
import { readModelDir, validateManifest } from '../src/model/model-dir.js';
import { buildModelFiles, modelVersionFor, writeModelDir } from '../src/model/onnx-export.js';
import { weightsFromModel } from '../src/model/onnx-weights.js';
import { TxnTower, computeOfferSide } from '../src/model/scorer.js';

const META = { parent: null, createdAt: '2025-01-01T00:00:07.000Z', training: { seed: 1 }, metrics: { auc: 0.6 } };

let tmp: string;
let w: TwoTowerWeights;
let data: Impressions;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'txrank-model-export-'));
  const offers = generateSimOffers(1, { count: 40 });
  data = simulateImpressions({
    source: createTransactionSource(2, null),
    offers,
    currency: 'USD',
    truth: createGroundTruth(3),
    transactions: 1500,
    perTxn: 2,
    seed: 4,
  });
  w = initWeights({ txn: TXN_DIM, offer: OFFER_DIM, hidden: 8, embed: 4 }, 5);
  train(w, data, { epochs: 1, batchSize: 64, learningRate: 0.01, l2: 0, seed: 6 });
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('model directory', () => {
  it('round-trips through writeModelDir / readModelDir', async () => {
    const dir = path.join(tmp, 'm1');
    const written = await writeModelDir(dir, w, { ...META, extraFiles: { 'NOTES.md': 'hello\n' } });
    const loaded = await readModelDir(dir);
    expect(loaded.manifest).toEqual(written);
    expect(loaded.manifest.version).toBe(modelVersionFor(w));
    expect(loaded.manifest.version).toMatch(/^tt-1-[0-9a-f]{8}$/);
    expect(loaded.manifest.featureSpecVersion).toBe(FEATURE_SPEC_VERSION);
    expect(loaded.manifest.dims).toEqual({ txn: TXN_DIM, offer: OFFER_DIM, embed: 4 });
    expect(Buffer.from(loaded.txnTower)).toEqual(await readFile(path.join(dir, 'txn_tower.onnx')));
    expect(await readFile(path.join(dir, 'NOTES.md'), 'utf8')).toBe('hello\n');
    // The ONNX initializers give back exactly the trained weights.
    const back = weightsFromModel(loaded);
    expect(back.dims).toEqual(w.dims);
    for (const name of PARAM_NAMES) expect(Array.from(back[name])).toEqual(Array.from(w[name]));
  });

  it('replaces an existing directory atomically and leaves no temp directories', async () => {
    const dir = path.join(tmp, 'm-replace');
    await writeModelDir(dir, w, META);
    const other = initWeights(w.dims, 99);
    await writeModelDir(dir, other, META);
    expect((await readModelDir(dir)).manifest.version).toBe(modelVersionFor(other));
    expect((await readdir(tmp)).filter((n) => n.startsWith('m-replace'))).toEqual(['m-replace']);
  });

  it('is byte-deterministic: same weights and meta give the same bytes', () => {
    const a = buildModelFiles(w, META).files;
    const b = buildModelFiles(structuredClone(w), META).files;
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [name, bytes] of a) expect(Buffer.from(b.get(name) as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
  });

  it('ONNX Runtime towers match the TypeScript forward pass within 1e-5', async () => {
    const dir = path.join(tmp, 'm2');
    await writeModelDir(dir, w, META);
    const model = await readModelDir(dir);
    const rows = 50;
    const tower = await TxnTower.create(model);
    try {
      const u = await tower.run(data.txn, rows);
      const uTs = txnEmbed(w, data.txn, rows);
      expect(u.length).toBe(rows * 4);
      for (let i = 0; i < u.length; i++) expect(Math.abs(u[i] - uTs[i])).toBeLessThan(1e-5);
    } finally {
      await tower.release();
    }
    const side = await computeOfferSide(model, data.offer, data.offerCount);
    const ts = offerEmbed(w, data.offer, data.offerCount);
    expect(side.emb.length).toBe(data.offerCount * 4);
    expect(side.bias.length).toBe(data.offerCount);
    for (let i = 0; i < ts.emb.length; i++) expect(Math.abs(side.emb[i] - ts.emb[i])).toBeLessThan(1e-5);
    for (let i = 0; i < ts.bias.length; i++) expect(Math.abs(side.bias[i] - ts.bias[i])).toBeLessThan(1e-5);
    // The bias head is not trivially zero, or the comparison above would prove little.
    expect(ts.bias.some((b) => Math.abs(b - ts.bias[0]) > 1e-4)).toBe(true);
  });

  it('computeOfferSide with n = 0 returns empty arrays', async () => {
    const dir = path.join(tmp, 'm3');
    await writeModelDir(dir, w, META);
    const side = await computeOfferSide(await readModelDir(dir), new Float32Array(0), 0);
    expect(side.emb.length).toBe(0);
    expect(side.bias.length).toBe(0);
  });

  it('refuses a model trained on another feature spec version, naming both versions', async () => {
    const dir = path.join(tmp, 'm-spec');
    await writeModelDir(dir, w, META);
    const file = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    manifest.featureSpecVersion = FEATURE_SPEC_VERSION + 1;
    await writeFile(file, JSON.stringify(manifest));
    const err = await readModelDir(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TxrankError);
    expect((err as TxrankError).code).toBe('internal');
    expect((err as TxrankError).message).toContain(`feature spec version ${FEATURE_SPEC_VERSION + 1}`);
    expect((err as TxrankError).message).toContain(`feature spec version ${FEATURE_SPEC_VERSION};`);
  });

  it('refuses a tampered ONNX file by its sha256', async () => {
    const dir = path.join(tmp, 'm-tamper');
    await writeModelDir(dir, w, META);
    const file = path.join(dir, 'offer_tower.onnx');
    const bytes = await readFile(file);
    bytes[bytes.length - 3] ^= 0x01; // one flipped bit, same size
    await writeFile(file, bytes);
    await expect(readModelDir(dir)).rejects.toThrow(/offer_tower\.onnx has sha256 [0-9a-f]{64}, the manifest says/);
  });

  it('refuses wrong dims, bad file names and a missing file', async () => {
    const goodDir = path.join(tmp, 'm-good');
    await writeModelDir(goodDir, w, META);
    const good = (await readModelDir(goodDir)).manifest;
    expect(() => validateManifest({ ...good, dims: { ...good.dims, txn: TXN_DIM + 1 } })).toThrow(/dims\.txn/);
    expect(() => validateManifest({ ...good, files: { ...good.files, txnTower: '../evil.onnx' } })).toThrow(/plain file name/);
    expect(() => validateManifest({ ...good, format: 'something/2' })).toThrow(/format/);
    expect(() => validateManifest(good)).not.toThrow();
    const dir = path.join(tmp, 'm-missing');
    await cp(goodDir, dir, { recursive: true });
    await rm(path.join(dir, 'txn_tower.onnx'));
    await expect(readModelDir(dir)).rejects.toThrow(/cannot read txn_tower\.onnx/);
  });
});
