/**
 * Micro-benchmark of the per-request scoring designs (not a test: timings never go in tests).
 *
 *   A. composed scorer: one session.run of txn tower + MatMul(Eᵀ) + Add + Sigmoid + Mul (the serving Scorer)
 *   B. txn-tower session.run, then the dot products, sigmoid and ×bidScale in a plain JS loop
 *
 * plus the one-off costs: the offer tower over the catalog and opening the scorer session.
 *
 * Run: npx tsc -p . && node dist/bench/scorer.bench.js [--model models/shipped] [--iters 2000]
 * Without --model it exports a randomly initialised model to a temp dir (timings do not depend on weights).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OFFER_DIM, TXN_DIM } from '../src/features/spec.js';
import { Prng } from '../src/learning/prng.js';
import { initWeights } from '../src/learning/two-tower.js';
import { interact } from '../src/model/interaction.js';
import { readModelDir, type LoadedModel } from '../src/model/model-dir.js';
import { writeModelDir } from '../src/model/onnx-export.js';
import { Scorer, TxnTower, computeOfferSide } from '../src/model/scorer.js';
import { buildScorerModel } from '../src/model/scorer-graph.js';
import { median } from 'simple-statistics';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Timing {
  meanUs: number;
  p50Us: number;
  p99Us: number;
}

async function time(iters: number, fn: () => Promise<unknown>): Promise<Timing> {
  for (let i = 0; i < Math.min(300, iters); i++) await fn();
  const samples = new Float64Array(iters);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) {
    const s = process.hrtime.bigint();
    await fn();
    samples[i] = Number(process.hrtime.bigint() - s) / 1000;
  }
  const total = Number(process.hrtime.bigint() - t0) / 1000;
  samples.sort();
  return { meanUs: total / iters, p50Us: samples[Math.floor(iters * 0.5)], p99Us: samples[Math.floor(iters * 0.99)] };
}

function fmt(t: Timing): string {
  return `mean ${t.meanUs.toFixed(1).padStart(7)} µs  p50 ${t.p50Us.toFixed(1).padStart(7)}  p99 ${t.p99Us.toFixed(1).padStart(7)}`;
}

/** Random but feature-shaped offer rows: one department, one advertiser bucket, one bid type, a price. */
function offerRows(rng: Prng, n: number): Float32Array {
  const m = new Float32Array(n * OFFER_DIM);
  for (let i = 0; i < n; i++) {
    const o = i * OFFER_DIM;
    m[o + rng.int(21)] = 1;
    m[o + 21 + rng.int(16)] = 1;
    m[o + 37 + rng.int(3)] = 1;
    m[o + 40] = rng.next();
    m[o + 41 + rng.int(5)] = 1;
    m[o + 46] = rng.next();
  }
  return m;
}

async function main(): Promise<void> {
  const iters = Number(arg('--iters') ?? 2000);
  const rng = new Prng(1);
  let tmp: string | null = null;
  let model: LoadedModel;
  const modelDir = arg('--model');
  if (modelDir) {
    model = await readModelDir(modelDir);
  } else {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'txrank-bench-'));
    const w = initWeights({ txn: TXN_DIM, offer: OFFER_DIM, hidden: 32, embed: 16 }, 3);
    await writeModelDir(path.join(tmp, 'm'), w, { parent: null, createdAt: '2025-01-01T00:00:00.000Z', training: {}, metrics: {} });
    model = await readModelDir(path.join(tmp, 'm'));
  }
  const d = model.manifest.dims.embed;
  console.log(`node ${process.version}, ${os.cpus().length} cpus (${os.cpus()[0]?.model ?? '?'}), model ${model.manifest.version}, d = ${d}`);

  for (const n of [1_000, 10_000]) {
    const offers = offerRows(rng, n);
    let t = process.hrtime.bigint();
    const { emb, bias } = await computeOfferSide(model, offers, n);
    const offerSideMs = Number(process.hrtime.bigint() - t) / 1e6;
    const scale = new Float32Array(n).map(() => rng.uniform(0.01, 2));
    t = process.hrtime.bigint();
    buildScorerModel(model.txnTower, emb, bias, scale, n, d);
    const graphMs = Number(process.hrtime.bigint() - t) / 1e6;
    t = process.hrtime.bigint();
    const scorer = await Scorer.create(model, emb, bias, scale, n);
    const createMs = Number(process.hrtime.bigint() - t) / 1e6;
    const tower = await TxnTower.create(model);
    console.log(`\nn = ${n}: offer tower (session create + run + release) ${offerSideMs.toFixed(2)} ms; Scorer.create ${createMs.toFixed(2)} ms (of which graph build ${graphMs.toFixed(2)} ms)`);

    for (const batch of [1, 8]) {
      const txn = new Float32Array(batch * TXN_DIM).map(() => (rng.next() < 0.3 ? rng.next() : 0));
      const pJs = new Float32Array(batch * n);
      const evJs = new Float32Array(batch * n);
      const a = await time(iters, () => scorer.score(txn, batch));
      const b = await time(iters, async () => {
        const u = await tower.run(txn, batch);
        interact(u, batch, emb, bias, scale, n, d, pJs, evJs);
      });
      const towerOnly = await time(iters, () => tower.run(txn, batch));
      // Both designs must agree, or the comparison is meaningless.
      const ref = await scorer.score(txn, batch);
      let maxDiff = 0;
      for (let i = 0; i < ref.p.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref.p[i] - pJs[i]));
      console.log(`  batch ${batch}: A composed ONNX  ${fmt(a)}`);
      console.log(`  batch ${batch}: B tower + JS loop ${fmt(b)}   (tower alone ${towerOnly.meanUs.toFixed(1)} µs; max |pA - pB| ${maxDiff.toExponential(1)})`);
    }
    await scorer.release();
    await tower.release();

    // A swap's first request: Scorer.create warms the session, so the first score should cost what the
    // second does (an unwarmed session's first run plans and allocates its buffers: ~4x at 10k offers).
    const txn1 = new Float32Array(TXN_DIM).map(() => (rng.next() < 0.3 ? rng.next() : 0));
    const first: number[] = [];
    const second: number[] = [];
    for (let i = 0; i < 25; i++) {
      const fresh = await Scorer.create(model, emb, bias, scale, n);
      for (const into of [first, second]) {
        const s = process.hrtime.bigint();
        await fresh.score(txn1, 1, false);
        into.push(Number(process.hrtime.bigint() - s) / 1000);
      }
      await fresh.release();
    }
    console.log(`  fresh scorer (25 creates), batch 1: first score median ${median(first).toFixed(1)} µs, second ${median(second).toFixed(1)} µs`);
  }
  if (tmp) await rm(tmp, { recursive: true, force: true });
}

await main();
