/**
 * Two-tower weights -> a model directory (manifest.json, txn_tower.onnx, offer_tower.onnx) with exactly the
 * ONNX signatures documented in manifest.ts.
 *
 * The bytes are a pure function of the weights and the manifest fields: no clock, no random names. That is
 * what makes `models/train.ts --seed S` reproducible down to the sha256 of every file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FEATURE_SPEC_VERSION } from '../features/spec.js';
import { assertWeightShapes, paramShape, weightsDigest, type TwoTowerWeights } from '../learning/two-tower.js';
import { MODEL_FORMAT, type ModelManifest } from './manifest.js';
import { encodeModel, floatTensor, floatValueInfo, intAttr, node } from './onnx-util.js';

export const TXN_TOWER_FILE = 'txn_tower.onnx';
export const OFFER_TOWER_FILE = 'offer_tower.onnx';
export const MANIFEST_FILE = 'manifest.json';

/** Version strings are "tt-<spec version>-<first 8 hex of the weights' sha256>": unique per weights. */
export function modelVersionFor(w: TwoTowerWeights): string {
  return `tt-${FEATURE_SPEC_VERSION}-${weightsDigest(w).slice(0, 8)}`;
}

/** txn_tower.onnx: "txn" [batch, txn] -> Gemm -> Relu -> Gemm -> "u" [batch, embed]. */
export function buildTxnTowerOnnx(w: TwoTowerWeights): Uint8Array {
  assertWeightShapes(w);
  const { txn, embed } = w.dims;
  const t = (name: 'txnW1' | 'txnB1' | 'txnW2' | 'txnB2'): ReturnType<typeof floatTensor> =>
    floatTensor(name, paramShape(w.dims, name), w[name]);
  return encodeModel(
    {
      name: 'txn_tower',
      node: [
        node('Gemm', ['txn', 'txnW1', 'txnB1'], ['txn_h1_pre'], 'txn_gemm1'),
        node('Relu', ['txn_h1_pre'], ['txn_h1'], 'txn_relu1'),
        node('Gemm', ['txn_h1', 'txnW2', 'txnB2'], ['u'], 'txn_gemm2'),
      ],
      initializer: [t('txnW1'), t('txnB1'), t('txnW2'), t('txnB2')],
      input: [floatValueInfo('txn', ['batch', txn])],
      output: [floatValueInfo('u', ['batch', embed])],
    },
    'txrank two-tower: transaction tower',
  );
}

/** offer_tower.onnx: "offer" [n, offer] -> "e" [n, embed] (Gemm, Relu, Gemm) and "b" [n, 1] (Gemm). */
export function buildOfferTowerOnnx(w: TwoTowerWeights): Uint8Array {
  assertWeightShapes(w);
  const { offer, embed } = w.dims;
  const t = (
    name: 'offerW1' | 'offerB1' | 'offerW2' | 'offerB2' | 'biasW' | 'biasB',
  ): ReturnType<typeof floatTensor> => floatTensor(name, paramShape(w.dims, name), w[name]);
  return encodeModel(
    {
      name: 'offer_tower',
      node: [
        node('Gemm', ['offer', 'offerW1', 'offerB1'], ['offer_h1_pre'], 'offer_gemm1'),
        node('Relu', ['offer_h1_pre'], ['offer_h1'], 'offer_relu1'),
        node('Gemm', ['offer_h1', 'offerW2', 'offerB2'], ['e'], 'offer_gemm2'),
        // Explicit transB = 0 documents that biasW is stored [in, out] like every other weight here.
        node('Gemm', ['offer', 'biasW', 'biasB'], ['b'], 'offer_bias', [intAttr('transB', 0)]),
      ],
      initializer: [t('offerW1'), t('offerB1'), t('offerW2'), t('offerB2'), t('biasW'), t('biasB')],
      input: [floatValueInfo('offer', ['n', offer])],
      output: [floatValueInfo('e', ['n', embed]), floatValueInfo('b', ['n', 1])],
    },
    'txrank two-tower: offer tower',
  );
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface ExportMeta {
  /** Defaults to modelVersionFor(weights). */
  version?: string;
  parent: string | null;
  /** ISO-8601; pass a fixed value for reproducible bytes. */
  createdAt: string;
  training: Record<string, unknown>;
  metrics: Record<string, number>;
  /** Extra text files written into the directory in the same atomic step (e.g. TRAINING.md). */
  extraFiles?: Record<string, string>;
}

/** The manifest and file bytes of a model directory, without touching the disk. */
export function buildModelFiles(w: TwoTowerWeights, meta: ExportMeta): { manifest: ModelManifest; files: Map<string, Uint8Array> } {
  const txnTower = buildTxnTowerOnnx(w);
  const offerTower = buildOfferTowerOnnx(w);
  const manifest: ModelManifest = {
    format: MODEL_FORMAT,
    version: meta.version ?? modelVersionFor(w),
    parent: meta.parent,
    featureSpecVersion: FEATURE_SPEC_VERSION,
    dims: { txn: w.dims.txn, offer: w.dims.offer, embed: w.dims.embed },
    files: { txnTower: TXN_TOWER_FILE, offerTower: OFFER_TOWER_FILE },
    createdAt: meta.createdAt,
    training: meta.training,
    metrics: meta.metrics,
    sha256: { txnTower: sha256Hex(txnTower), offerTower: sha256Hex(offerTower) },
  };
  const files = new Map<string, Uint8Array>();
  files.set(TXN_TOWER_FILE, txnTower);
  files.set(OFFER_TOWER_FILE, offerTower);
  files.set(MANIFEST_FILE, new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n'));
  for (const [name, text] of Object.entries(meta.extraFiles ?? {})) {
    if (files.has(name) || name.includes('/') || name.includes('\\')) throw new Error(`bad extra file name ${name}`);
    files.set(name, new TextEncoder().encode(text));
  }
  return { manifest, files };
}

/**
 * Writes the model directory `dir` atomically: everything goes into a sibling temp directory that is renamed
 * into place, so a model manager watching `dir` never sees a half-written model. An existing `dir` is moved
 * aside first (a directory cannot be renamed over a non-empty one) and removed afterwards.
 */
export async function writeModelDir(dir: string, w: TwoTowerWeights, meta: ExportMeta): Promise<ModelManifest> {
  const { manifest, files } = buildModelFiles(w, meta);
  const abs = path.resolve(dir);
  await mkdir(path.dirname(abs), { recursive: true });
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = `${abs}.tmp-${suffix}`;
  const old = `${abs}.old-${suffix}`;
  await mkdir(tmp);
  try {
    // The manifest goes last: a reader that finds a manifest finds the files it names.
    const names = [...files.keys()].filter((n) => n !== MANIFEST_FILE).concat(MANIFEST_FILE);
    for (const name of names) await writeFile(path.join(tmp, name), files.get(name) as Uint8Array);
    let movedOld = false;
    try {
      await rename(abs, old);
      movedOld = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    try {
      await rename(tmp, abs);
    } catch (err) {
      if (movedOld) await rename(old, abs);
      throw err;
    }
    if (movedOld) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return manifest;
}
