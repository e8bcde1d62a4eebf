/**
 * In-process cost of one decision on the serving path, next to the cost of the ONNX call alone, for 1k and
 * 10k-offer catalogs. No sockets and no threads: this isolates the work a worker and the edge do per
 * decision, so the overhead over the model computation is visible. (The load benchmark measures the whole
 * server under traffic from another process.)
 *
 *   edge      parseInbound (msgpack decode + schema validation) + transaction features   (main thread)
 *   decide    decideBatch: ONNX scorer run + delivery + answer encode                    (worker)
 *   onnx      Scorer.score alone (the physical floor of the model computation)
 *   delivery  the delivery rules alone on one scored row, against the plain top-k they replaced:
 *               topk      eligibility by status and flight + top-k by ev (the path before delivery)
 *               rules     eligibility index (targeting, blocks, flights) + budgets + pacing draws +
 *                         frequency caps of a 20-entry buyer history + selection (one per advertiser,
 *                         floors, exploration, second-price prices)
 *             on the demo catalog, whose campaigns carry targeting, caps, budgets and pacing and whose
 *             checkout placement explores and holds out.
 *
 * Run: npm run build && node dist/bench/decision-path.bench.js [--iters 3000] [--out bench/results/decision-path.json]
 */
import { CampaignTable } from '../src/delivery/campaign-table.js';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { cpus } from 'node:os';
import * as hdr from 'hdr-histogram-js';
import { parseCatalogJsonl } from '../src/catalog/jsonl.js';
import { generateDemoCatalog } from '../src/catalog/demo.js';
import { TXN_DIM } from '../src/features/spec.js';
import { transactionFeatures } from '../src/features/transaction.js';
import { buildRequestContext } from '../src/delivery/request-context.js';
import { readModelDir } from '../src/model/model-dir.js';
import { encodeFrame } from '../src/client/client.js';
import { parseInbound } from '../src/protocol/validate.js';
import { EXAMPLE_DECIDE } from '../src/protocol/examples.js';
import type { DecideRequest } from '../src/protocol/messages.js';
import { CatalogView } from '../workers/inference/catalog-view.js';
import { decideBatch } from '../workers/inference/decide.js';
import { topK } from '../src/ranking/top-k.js';
import { Selector, selectedBuffer } from '../src/delivery/select.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const ITERS = Number(arg('--iters', '3000'));
const OUT = arg('--out', 'bench/results/decision-path.json');

interface Stats {
  p50: number;
  p99: number;
  mean: number;
}

async function measure(iters: number, fn: () => Promise<void> | void): Promise<Stats> {
  for (let i = 0; i < Math.min(500, iters); i++) await fn();
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 10_000_000, numberOfSignificantValueDigits: 3 });
  let total = 0;
  for (let i = 0; i < iters; i++) {
    const s = process.hrtime.bigint();
    await fn();
    const ns = Number(process.hrtime.bigint() - s);
    total += ns;
    h.recordValue(Math.max(1, Math.round(ns / 100))); // 0.1 us units
  }
  return { p50: h.getValueAtPercentile(50) / 10, p99: h.getValueAtPercentile(99) / 10, mean: total / iters / 1000 };
}

function baskets(count: number): DecideRequest[] {
  const cats = ['baby/diapers', 'dairy_eggs/milk', 'snacks/chips', 'beverages/coffee', 'pets/dog-food', 'produce/fruit', 'household/cleaning', 'frozen/pizza', 'beauty/skin', 'alcohol/wine'];
  const out: DecideRequest[] = [];
  for (let b = 0; b < count; b++) {
    const n = 1 + (b % 9);
    const items = Array.from({ length: n }, (_, i) => ({ sku: `s${b}-${i}`, category: cats[(b * 7 + i * 3) % cats.length], price: 1 + ((b * 13 + i * 7) % 40), quantity: 1 + (i % 3) }));
    out.push({
      ...EXAMPLE_DECIDE,
      id: b,
      k: 3,
      txn: { ...EXAMPLE_DECIDE.txn, id: `t${b}`, ts: EXAMPLE_DECIDE.txn.ts + b * 3_600_000, items, total: items.reduce((s, it) => s + it.price * it.quantity, 0) },
    });
  }
  return out;
}

async function scenario(offers: number) {
  const parsed = parseCatalogJsonl(generateDemoCatalog({ offers, tenants: 1, seed: 1 }));
  if (!parsed.ok) throw new Error('demo catalog invalid');
  const model = await readModelDir('models/shipped');
  const tenant = parsed.tenants[0].id;
  const currency = parsed.tenants[0].currency;
  const view = await CatalogView.build({ version: 1, loadedAt: Date.now(), source: 'bench', sha256: '', tenants: parsed.tenants, offers: parsed.offers, campaigns: parsed.campaigns, rules: parsed.rules }, model, CampaignTable.create());
  const tv = view.tenants.get(tenant)!;
  const reqs = baskets(64).map((r) => ({ ...r, tenant, placement: parsed.tenants[0].placements[0].id }));
  const frames = reqs.map((r) => encodeFrame(r));
  let i = 0;

  const edge = await measure(ITERS, () => {
    const r = parseInbound(frames[i++ % frames.length], 65536);
    if (!r.ok || r.msg.type !== 'decide') throw new Error(r.ok ? 'not a decide' : r.message);
    const f = new Float32Array(TXN_DIM);
    transactionFeatures(r.msg.txn, f);
  });

  const decide = await measure(ITERS, async () => {
    const r = reqs[i++ % reqs.length];
    const features = new Float32Array(TXN_DIM);
    transactionFeatures(r.txn, features);
    const now = performance.timeOrigin + performance.now();
    const res = await decideBatch(view, {
      type: 'decide',
      features,
      jobs: [{ seq: 1, requestId: r.id, tenant, placement: r.placement, k: 3, arm: 'ai', ctx: buildRequestContext(r.txn, r.placement, currency, now), history: null, row: 0, receivedAt: now, deadline: now + 1e9 }],
    });
    if (!res[0].ok) throw new Error(JSON.stringify(res[0]));
  });

  // Delivery alone, on one scored row: the rules against the plain top-k they replaced.
  const d = tv.delivery;
  const placement = tv.placements.get(reqs[0].placement)!;
  const scored = await Promise.all(reqs.slice(0, 16).map(async (r) => {
    const f = new Float32Array(TXN_DIM);
    transactionFeatures(r.txn, f);
    return { r, ev: (await tv.scorer.score(f, 1, false)).ev, ctx: buildRequestContext(r.txn, r.placement, currency, Date.now()) };
  }));
  const history = tv.offers.slice(0, 20).map((o, j) => ({ offerId: o.id, campaign: o.campaign, advertiser: o.advertiser, ts: Date.now() - j * 60_000 }));
  const n = tv.offers.length;
  const active = new Uint8Array(n);
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  tv.offers.forEach((o, j) => {
    active[j] = o.status === 'active' ? 1 : 0;
    start[j] = o.start;
    end[j] = o.end;
  });
  const outRows = new Int32Array(20);
  const outEv = new Float64Array(20);
  const topk = await measure(ITERS, () => {
    const x = scored[i++ % scored.length];
    topK(x.ev, 0, n, { active, start, end }, Date.now(), 3, outRows, outEv);
  });
  const selector = new Selector();
  const picked = selectedBuffer(20);
  d.refresh(Date.now());
  const rules = await measure(ITERS, () => {
    const x = scored[i++ % scored.length];
    const mask = d.eligibleRows(x.ctx, history, Math.random);
    selector.select(
      { ev: x.ev, offset: 0, n, mult: d.mult, bidScale: tv.bidScale, bidAmount: d.bidAmount, eligible: mask, advertiserOf: d.index.advertiserOf, departmentOf: d.index.departmentOf, advertiserCount: d.index.advertisers.length, placement, k: 3, random: Math.random },
      picked,
    );
  });

  const onnx = await measure(ITERS, async () => {
    const r = reqs[i++ % reqs.length];
    const features = new Float32Array(TXN_DIM);
    transactionFeatures(r.txn, features);
    await tv.scorer.score(features, 1);
  });

  // Batched: what a worker does under load (one task of 8 decisions), per decision.
  const batch = 8;
  const batched = await measure(Math.ceil(ITERS / batch), async () => {
    const features = new Float32Array(batch * TXN_DIM);
    const now = performance.timeOrigin + performance.now();
    const jobs = [];
    for (let b = 0; b < batch; b++) {
      const r = reqs[i++ % reqs.length];
      transactionFeatures(r.txn, features, b * TXN_DIM);
      jobs.push({ seq: b, requestId: r.id, tenant, placement: r.placement, k: 3, arm: 'ai' as const, ctx: buildRequestContext(r.txn, r.placement, currency, now), history: null, row: b, receivedAt: now, deadline: now + 1e9 });
    }
    await decideBatch(view, { type: 'decide', features, jobs });
  });
  await view.retire();
  return {
    offers: tv.offers.length,
    edgeUs: edge,
    decideUs: decide,
    onnxUs: onnx,
    delivery: { topkUs: topk, rulesUs: rules, addedP50Us: rules.p50 - topk.p50, campaigns: d.index.campaigns.length, advertisers: d.index.advertisers.length, placement: placement.id },
    serverSideMedianUs: edge.p50 + decide.p50,
    overMedianOnnx: (edge.p50 + decide.p50) / onnx.p50,
    batch8PerDecisionUs: { p50: batched.p50 / batch, mean: batched.mean / batch },
  };
}

async function main() {
  const results = [];
  for (const n of [1000, 10000]) {
    const r = await scenario(n);
    results.push(r);
    console.log(
      `${String(r.offers).padStart(6)} offers  edge p50 ${r.edgeUs.p50.toFixed(1)} us | decide p50 ${r.decideUs.p50.toFixed(1)} p99 ${r.decideUs.p99.toFixed(1)} us | ` +
        `onnx alone p50 ${r.onnxUs.p50.toFixed(1)} p99 ${r.onnxUs.p99.toFixed(1)} us | server-side p50 ${r.serverSideMedianUs.toFixed(1)} us = ${r.overMedianOnnx.toFixed(2)}x onnx | ` +
        `batch of 8: ${r.batch8PerDecisionUs.p50.toFixed(1)} us/decision`,
    );
    console.log(
      `${' '.repeat(6)}        delivery rules p50 ${r.delivery.rulesUs.p50.toFixed(1)} p99 ${r.delivery.rulesUs.p99.toFixed(1)} us vs plain top-k p50 ${r.delivery.topkUs.p50.toFixed(1)} us: ` +
        `+${r.delivery.addedP50Us.toFixed(1)} us (${r.delivery.campaigns} campaigns, ${r.delivery.advertisers} advertisers, placement ${r.delivery.placement})`,
    );
  }
  const report = { date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, iters: ITERS, results };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(report, null, 2));
  console.log(`wrote ${OUT}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
