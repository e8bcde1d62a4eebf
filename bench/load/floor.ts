/**
 * The physical floor: the in-process cost of the model computation alone for one decision, with no socket,
 * no codec, no pool. For txrank that is one Scorer.score of one transaction over the whole tenant catalog
 * (txn tower + dot products + sigmoid + bid scale, the composed ONNX graph, exactly as a worker builds it);
 * for the naive baseline it is one run of its per-candidate graph (rows built + both towers per row).
 * txrank's server_us divided by the first is how much of a decision is overhead around the model.
 *
 * Runs as its own process (the coordinator forks it) so the servers are not running while it measures:
 *   node dist/bench/load/floor.js --catalog f.jsonl --traffic t.jsonl [--calls 2000]  -> one JSON line
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseCatalogJsonl } from '../../src/catalog/jsonl.js';
import { offerMatrix } from '../../src/features/offer.js';
import { TXN_DIM } from '../../src/features/spec.js';
import { transactionFeatures } from '../../src/features/transaction.js';
import { readModelDir } from '../../src/model/model-dir.js';
import { Scorer, computeOfferSide } from '../../src/model/scorer.js';
import { bidScale } from '../../src/ranking/bid-scale.js';
import { createNaiveEngine, scoreAll } from '../baselines/naive-server.js';
import { readTraffic } from './traffic.js';

export interface FloorResult {
  offers: number;
  calls: number;
  /** us per call: txrank's scorer, batch 1. */
  scorer: { p50: number; p99: number; mean: number };
  /** us per call: the transaction features alone. */
  features: { mean: number };
  /** us per call: the baseline's per-candidate graph (default session options), rows built included. */
  naive: { p50: number; p99: number; mean: number };
}

function stats(us: number[]): { p50: number; p99: number; mean: number } {
  const s = [...us].sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x * 10) / 10;
  return { p50: r(s[Math.floor(s.length * 0.5)]), p99: r(s[Math.floor(s.length * 0.99)]), mean: r(us.reduce((a, b) => a + b, 0) / us.length) };
}

export async function measureFloor(catalogFile: string, trafficFile: string, calls: number, modelDir = 'models/shipped'): Promise<FloorResult> {
  const text = await readFile(catalogFile, 'utf8');
  const parsed = parseCatalogJsonl(text);
  if (!parsed.ok) throw new Error('catalog invalid');
  const tenant = parsed.tenants[0];
  const offers = parsed.offers.filter((o) => o.tenant === tenant.id);
  const n = offers.length;
  const txns = (await readTraffic(trafficFile)).txns;
  const model = await readModelDir(modelDir);
  const { emb, bias } = await computeOfferSide(model, offerMatrix(offers, tenant.currency), n);
  const scorer = await Scorer.create(model, emb, bias, Float32Array.from(offers, (o) => bidScale(o.bid)), n);

  const feat = new Float32Array(TXN_DIM);
  const f0 = performance.now();
  for (let i = 0; i < calls; i++) transactionFeatures(txns[i % txns.length], feat);
  const featuresMean = ((performance.now() - f0) * 1000) / calls;

  const scorerUs: number[] = [];
  for (let i = 0; i < calls + 200; i++) {
    const x = new Float32Array(TXN_DIM);
    transactionFeatures(txns[i % txns.length], x);
    const t0 = performance.now();
    await scorer.score(x, 1);
    if (i >= 200) scorerUs.push((performance.now() - t0) * 1000);
  }
  await scorer.release();

  const engine = await createNaiveEngine(text, modelDir);
  const t = engine.tenants.get(tenant.id);
  if (!t) throw new Error('no tenant');
  const naiveCalls = Math.max(100, Math.min(calls, Math.round(2_000_000 / n)));
  const naiveUs: number[] = [];
  for (let i = 0; i < naiveCalls + 20; i++) {
    const t0 = performance.now();
    await scoreAll(engine, t, txns[i % txns.length]);
    if (i >= 20) naiveUs.push((performance.now() - t0) * 1000);
  }
  await engine.session.release();
  return { offers: n, calls, scorer: stats(scorerUs), features: { mean: Math.round(featuresMean * 100) / 100 }, naive: stats(naiveUs) };
}

if (process.argv[1]?.endsWith('floor.js')) {
  const { values } = parseArgs({ options: { catalog: { type: 'string' }, traffic: { type: 'string' }, calls: { type: 'string' } } });
  if (!values.catalog || !values.traffic) {
    console.error('usage: floor.js --catalog f.jsonl --traffic t.jsonl [--calls N]');
    process.exit(2);
  }
  measureFloor(values.catalog, values.traffic, Number(values.calls ?? 2000)).then(
    (r) => console.log(JSON.stringify(r)),
    (e: unknown) => {
      console.error(`floor: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
