/**
 * Costs of the learning loop's steps, measured with the real code on this machine:
 *   - validating a candidate (load, signature, canary, quality on 20,000 held-out examples), cold and warm;
 *   - exporting a candidate into the registry (ONNX encode, atomic write, fsync, registry.json update);
 *   - a registry state change (lock + atomic rewrite of registry.json);
 *   - the online trainer's throughput (examples per second of step time: features, predict, Adam);
 *   - what an inference worker pays to adopt a promoted model (readModelDir, offer side, scorer) for 1k / 10k offers.
 *
 *   npx tsc -p . && node dist/bench/swap.bench.js [--examples 120000] [--reps 10]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { impliedCampaigns } from '../src/catalog/jsonl.js';
import { resolveTenant } from '../src/catalog/schema.js';
import { openStorage } from '../src/catalog/store.js';
import { offerMatrix } from '../src/features/offer.js';
import { TXN_DIM } from '../src/features/spec.js';
import type { ExampleSource, LabelledExample } from '../src/learning/labelled-example.js';
import { materialize, OfferFeatureCache } from '../src/learning/online-features.js';
import { isHoldout } from '../src/learning/online-holdout.js';
import { resolveTrainerOptions } from '../src/learning/online-options.js';
import { OnlineTrainer } from '../src/learning/online-trainer.js';
import { cloneWeights } from '../src/learning/two-tower.js';
import { readModelDir } from '../src/model/model-dir.js';
import { weightsFromModel } from '../src/model/onnx-weights.js';
import { Scorer, computeOfferSide } from '../src/model/scorer.js';
import { buildCanary } from '../src/model-manager/canary.js';
import { checkLoadable, validateCandidate } from '../src/model-manager/validate.js';
import { openRegistry } from '../src/registry/registry.js';
import { createGroundTruth } from './sim/engagement.js';
import { simulateImpressions } from './sim/impressions.js';
import { generateSimOffers } from './sim/offers.js';
import { createTransactionSource } from './sim/transactions.js';

const { values } = parseArgs({ options: { examples: { type: 'string' }, reps: { type: 'string' } } });
const EXAMPLES = Number(values.examples ?? 120_000);
const REPS = Number(values.reps ?? 10);

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `p50 ${q(0.5).toFixed(1)} ms, min ${s[0].toFixed(1)}, max ${s[s.length - 1].toFixed(1)} (n=${s.length})`;
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await fn();
  return [performance.now() - t0, r];
}

class Memory implements ExampleSource {
  constructor(private readonly xs: LabelledExample[]) {}
  read(after: number, limit: number): LabelledExample[] {
    let i = 0;
    while (i < this.xs.length && this.xs[i].seq <= after) i++;
    return this.xs.slice(i, i + limit);
  }
}

async function main(): Promise<void> {
  const tmp = await mkdtemp(path.join(tmpdir(), 'txrank-swap-bench-'));
  try {
    const offers = generateSimOffers(5, { count: 600, tenant: 't1' }).sort((a, b) => (a.id < b.id ? -1 : 1));
    const dataDir = path.join(tmp, 'data');
    const storage = openStorage(dataDir);
    const catalogVersion = await storage.catalog.load({
      tenants: [resolveTenant({ id: 't1', name: 'T', currency: 'USD', placements: [{ id: 'c', name: 'C', slots: 3 }] })],
      offers,
      campaigns: impliedCampaigns(offers),
      rules: [],
      source: 'bench',
      sha256: '0'.repeat(64),
    });
    const txns = Math.ceil(EXAMPLES / 3);
    const imps = simulateImpressions({ source: createTransactionSource(6, null), offers, currency: 'USD', truth: createGroundTruth(7), transactions: txns, perTxn: 3, seed: 8 });
    const examples: LabelledExample[] = [];
    for (let k = 0; k < imps.count; k++) {
      const t = imps.txnIndex[k];
      examples.push({
        seq: k + 1, decisionId: `d${t}`, tenant: 't1', offerId: offers[imps.offerIndex[k]].id, catalogVersion, modelVersion: 'x',
        position: 1, propensity: 1, txnFeatures: imps.txn.slice(t * TXN_DIM, (t + 1) * TXN_DIM), label: imps.label[k] === 1 ? 1 : 0, decidedAt: 1e12 + t,
      });
    }
    const reg = await openRegistry(path.join(tmp, 'models'), { seedFrom: 'models/shipped' });
    const serving = await readModelDir((await reg.serving()).dir);
    const base = weightsFromModel(serving);

    // Trainer throughput: steps driven directly (no duty cycle), examples per second of step time.
    const trainer = new OnlineTrainer({ registry: reg, dataDir, createExampleSource: () => new Memory(examples), catalog: storage.catalog, options: resolveTrainerOptions({ exportEveryExamples: 100_000_000 }) });
    await trainer.start();
    const t0 = performance.now();
    let read = 0;
    for (let n = trainer.step(); n > 0; n = trainer.step()) read += n;
    const trainMs = performance.now() - t0;
    console.log(`trainer: ${read} examples in ${trainMs.toFixed(0)} ms = ${Math.round((read / trainMs) * 1000)} examples/s (readBatch 1024, batch 256; one core)`);

    // Export: publishCandidate of fresh weights each time.
    const exportMs: number[] = [];
    const versions: string[] = [];
    for (let i = 0; i < REPS; i++) {
      const w = cloneWeights(base);
      w.txnB1[0] += 1e-3 * (i + 1);
      const [ms, p] = await time(() => reg.publishCandidate(w, { parent: serving.manifest.version, training: { kind: 'bench' }, metrics: {} }));
      exportMs.push(ms);
      versions.push(p.version);
    }
    console.log(`export (publishCandidate: ONNX encode + atomic write + fsync + registry update): ${stats(exportMs)}`);

    // Registry state change: supersede one candidate at a time.
    const stateMs: number[] = [];
    for (const v of versions.slice(1)) stateMs.push((await time(() => reg.supersede([v], 'bench')))[0]);
    console.log(`registry state change (lock + atomic registry.json rewrite + fsync): ${stats(stateMs)}`);

    // Validation: held-out window of 20,000 like the manager's default.
    const held = materialize(examples.filter((e) => isHoldout(e.decisionId)).slice(-20_000), new OfferFeatureCache(storage.catalog)).data;
    const holdout = { txn: held.txn, offer: held.offer, label: held.label, count: held.count };
    const canary = buildCanary({ offer: offerMatrix(offers.slice(0, 256), 'USD') });
    const quality = { logLossMargin: 0.01, minHoldoutExamples: 2000, requireHoldout: false };
    const dir = reg.dirOf(versions[0]);
    const [cold, first] = await time(() => validateCandidate(dir, { canary, serving, holdout, quality }));
    const warm: number[] = [];
    let last = first;
    for (let i = 0; i < REPS; i++) {
      const [ms, r] = await time(() => validateCandidate(dir, { canary, serving, holdout, quality }));
      warm.push(ms);
      last = r;
    }
    const loadable: number[] = [];
    for (let i = 0; i < REPS; i++) loadable.push((await time(() => checkLoadable(dir, canary)))[0]);
    console.log(`validate (${holdout.count} held-out, ${canary.offerCount} canary offers x ${canary.txnCount} txns): cold ${cold.toFixed(1)} ms (first ONNX Runtime use in the process), warm ${stats(warm)}`);
    console.log(`  stages (warm, last run): ${JSON.stringify(Object.fromEntries(Object.entries(last.metrics).filter(([k]) => k.endsWith('Ms'))))}; ok=${last.ok}`);
    console.log(`checkLoadable (load + signature + canary): ${stats(loadable)}`);

    // Adopting a promoted model in a worker: read the dir, offer side, one scorer per tenant partition.
    for (const n of [1_000, 10_000]) {
      const many = generateSimOffers(9, { count: n, tenant: 't1' });
      const feats = offerMatrix(many, 'USD');
      const ms: number[] = [];
      for (let i = 0; i < REPS; i++) {
        ms.push(
          (
            await time(async () => {
              const m = await readModelDir(dir);
              const side = await computeOfferSide(m, feats, n);
              const s = await Scorer.create(m, side.emb, side.bias, new Float32Array(n).fill(1), n);
              await s.release();
            })
          )[0],
        );
      }
      console.log(`adopt a promoted model in a worker, ${n} offers (readModelDir + offer side + scorer): ${stats(ms)}`);
    }
    await storage.close();
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
