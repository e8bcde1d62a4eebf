/**
 * Fixtures for the learning-loop tests (registry, model manager, trainer): simulated labelled examples over a
 * real LMDB catalog, an example-source module that worker threads can import, and model directories that
 * must fail validation in one specific way each.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createGroundTruth } from '../../bench/sim/engagement.js';
import { simulateImpressions } from '../../bench/sim/impressions.js';
import { generateSimOffers } from '../../bench/sim/offers.js';
import { createTransactionSource } from '../../bench/sim/transactions.js';
import { impliedCampaigns } from '../../src/catalog/jsonl.js';
import { resolveTenant } from '../../src/catalog/schema.js';
import { openStorage } from '../../src/catalog/store.js';
import type { Offer } from '../../src/catalog/types.js';
import { TXN_DIM } from '../../src/features/spec.js';
import type { ExampleSource, LabelledExample } from '../../src/learning/labelled-example.js';
import { cloneWeights, type TwoTowerWeights } from '../../src/learning/two-tower.js';
import { readModelDir } from '../../src/model/model-dir.js';
import { buildTxnTowerOnnx, MANIFEST_FILE, modelVersionFor, sha256Hex, writeModelDir } from '../../src/model/onnx-export.js';
import { weightsFromModel } from '../../src/model/onnx-weights.js';

export const SHIPPED = 'models/shipped';
export const TENANT = 't1';

export async function shippedWeights(): Promise<TwoTowerWeights> {
  return weightsFromModel(await readModelDir(SHIPPED));
}

/** A copy of `w` with one bias nudged: different version, practically the same model. */
export function variant(w: TwoTowerWeights, k: number): TwoTowerWeights {
  const out = cloneWeights(w);
  out.txnB1[0] += 1e-4 * k;
  return out;
}

export interface SimWorld {
  dataDir: string;
  catalogVersion: number;
  offers: Offer[];
  examples: LabelledExample[];
}

/**
 * A catalog with `offerCount` simulated offers loaded into a fresh LMDB environment at `dataDir`, and
 * `transactions` x `perTxn` labelled examples (ground truth from bench/sim) naming that catalog version.
 */
export async function simWorld(dataDir: string, opts: { transactions: number; perTxn?: number; offerCount?: number; seed?: number }): Promise<SimWorld> {
  const seed = opts.seed ?? 5;
  const perTxn = opts.perTxn ?? 3;
  const offers = generateSimOffers(seed, { count: opts.offerCount ?? 120, tenant: TENANT }).sort((a, b) => (a.id < b.id ? -1 : 1));
  const storage = openStorage(dataDir);
  let catalogVersion: number;
  try {
    catalogVersion = await storage.catalog.load({
      tenants: [resolveTenant({ id: TENANT, name: 'Test', currency: 'USD', placements: [{ id: 'checkout', name: 'Checkout', slots: 3 }] })],
      offers,
      campaigns: impliedCampaigns(offers),
      rules: [],
      source: 'sim',
      sha256: '0'.repeat(64),
    });
  } finally {
    await storage.close();
  }
  const imps = simulateImpressions({
    source: createTransactionSource(seed + 1, null),
    offers,
    currency: 'USD',
    truth: createGroundTruth(seed + 2),
    transactions: opts.transactions,
    perTxn,
    seed: seed + 3,
  });
  const t0 = Date.UTC(2025, 5, 1);
  const examples: LabelledExample[] = [];
  for (let k = 0; k < imps.count; k++) {
    const t = imps.txnIndex[k];
    examples.push({
      seq: k + 1,
      decisionId: `dec-${seed}-${t}`,
      tenant: TENANT,
      offerId: offers[imps.offerIndex[k]].id,
      catalogVersion,
      modelVersion: 'tt-1-6ead99d6',
      position: 1,
      propensity: 1,
      txnFeatures: imps.txn.slice(t * TXN_DIM, (t + 1) * TXN_DIM),
      label: imps.label[k] === 1 ? 1 : 0,
      decidedAt: t0 + t * 1000,
    });
  }
  return { dataDir, catalogVersion, offers, examples };
}

/** An in-memory ExampleSource over examples sorted by seq. */
export class MemorySource implements ExampleSource {
  reads = 0;
  constructor(readonly examples: LabelledExample[]) {}
  read(afterSeq: number, limit: number): LabelledExample[] {
    this.reads++;
    let lo = 0;
    let hi = this.examples.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.examples[mid].seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return this.examples.slice(lo, lo + limit);
  }
}

/**
 * Writes the examples to `<dir>/examples.json` and an ES module `<dir>/source.mjs` exporting
 * createExampleSource(dataDir), for worker threads (which cannot import TypeScript). Returns the module path.
 */
export async function writeSourceModule(dir: string, examples: LabelledExample[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'examples.json');
  await writeFile(file, JSON.stringify(examples.map((e) => ({ ...e, txnFeatures: Array.from(e.txnFeatures) }))));
  const mod = path.join(dir, 'source.mjs');
  await writeFile(
    mod,
    `import { readFileSync } from 'node:fs';
export function createExampleSource(dataDir) {
  const examples = JSON.parse(readFileSync(${JSON.stringify(file)}, 'utf8')).map((e) => ({ ...e, txnFeatures: Float32Array.from(e.txnFeatures) }));
  return {
    dataDir,
    read(afterSeq, limit) {
      let i = 0;
      while (i < examples.length && examples[i].seq <= afterSeq) i++;
      return examples.slice(i, i + limit);
    },
  };
}
`,
  );
  return mod;
}

export type FixtureKind = 'good' | 'nan' | 'worse' | 'corrupt-onnx' | 'sha-mismatch' | 'wrong-spec' | 'wrong-signature';

/**
 * A model directory named by its version, built in `staging` and renamed into `into` in one step (so a
 * registry scan never sees it half-made). Each kind fails validation in one way:
 *   good            a near-copy of the base weights
 *   nan             the global bias is NaN: every score is NaN (canary)
 *   worse           the global bias is +2.5: scores ~10x too high (quality gate: log loss)
 *   corrupt-onnx    txn_tower.onnx is garbage but the manifest's sha256 matches it (ONNX Runtime refuses it)
 *   sha-mismatch    txn_tower.onnx changed after the manifest was written (readModelDir refuses it)
 *   wrong-spec      manifest featureSpecVersion 2 (readModelDir refuses it)
 *   wrong-signature txn tower reads 36 features, the spec has 37 (signature check)
 */
export async function fixtureModel(base: TwoTowerWeights, kind: FixtureKind, k: number, into: string, staging: string): Promise<string> {
  const w = variant(base, k + 1000 * ['good', 'nan', 'worse', 'corrupt-onnx', 'sha-mismatch', 'wrong-spec', 'wrong-signature'].indexOf(kind));
  if (kind === 'nan') w.biasB[0] = NaN;
  if (kind === 'worse') w.biasB[0] += 2.5;
  const version = modelVersionFor(w);
  const tmp = path.join(staging, `${version}-${kind}`);
  await writeModelDir(tmp, w, { parent: 'tt-1-6ead99d6', createdAt: '2025-06-01T00:00:00.000Z', training: { fixture: kind }, metrics: {} });
  const manifestPath = path.join(tmp, MANIFEST_FILE);
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown> & { sha256: { txnTower: string } };
  const txnPath = path.join(tmp, 'txn_tower.onnx');
  if (kind === 'corrupt-onnx') {
    const garbage = Buffer.from('this is not an ONNX model '.repeat(40));
    await writeFile(txnPath, garbage);
    manifest.sha256.txnTower = sha256Hex(garbage);
  } else if (kind === 'sha-mismatch') {
    const bytes = await readFile(txnPath);
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(txnPath, bytes);
  } else if (kind === 'wrong-spec') {
    manifest.featureSpecVersion = 2;
  } else if (kind === 'wrong-signature') {
    const narrow = { ...cloneWeights(w), dims: { ...w.dims, txn: 36 } } as TwoTowerWeights;
    narrow.txnW1 = w.txnW1.slice(0, 36 * w.dims.hidden);
    const bytes = buildTxnTowerOnnx(narrow);
    await writeFile(txnPath, bytes);
    manifest.sha256.txnTower = sha256Hex(bytes);
  }
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
  await mkdir(into, { recursive: true });
  await rm(path.join(into, version), { recursive: true, force: true });
  await rename(tmp, path.join(into, version));
  return version;
}

/** Polls `fn` until it returns a value other than undefined, or fails after `ms`. */
export async function eventually<T>(fn: () => T | undefined | Promise<T | undefined>, ms = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
