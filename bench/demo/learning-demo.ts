/**
 * `npm run demo`: the feedback loop, visible. A txrank server (in this process, learning loop on) serves
 * simulated checkouts; simulated buyers decide impressions and clicks from the simulator's ground truth
 * (bench/sim/engagement.ts, never read by the engine); engagement flows back on the same socket; the trainer
 * exports candidates, the model manager promotes them, and the click-through rate by time window and by model
 * version is written as a report with a plot.
 *
 * By default the server starts from a cold model (random weights), so the learning curve is the whole story;
 * `--start shipped` starts from the shipped model instead.
 *
 *   npm run demo [-- --seconds 150 --rate 250 --start cold|shipped --offers 2000 --out bench/results/demo-learning]
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseCatalogJsonl } from '../../src/catalog/jsonl.js';
import { generateDemoCatalog } from '../../src/catalog/demo.js';
import { loadCatalogText, openStorage } from '../../src/catalog/store.js';
import type { Offer } from '../../src/catalog/types.js';
import { DecisionClient } from '../../src/client/client.js';
import { resolveOptions } from '../../src/config/options.js';
import { OFFER_DIM, TXN_DIM } from '../../src/features/spec.js';
import { initWeights } from '../../src/learning/two-tower.js';
import { Prng } from '../../src/learning/prng.js';
import { writeModelDir } from '../../src/model/onnx-export.js';
import { TxrankServer } from '../../src/server.js';
import { createGroundTruth } from '../sim/engagement.js';
import { loadRealDataIfPresent } from '../sim/real-data.js';
import { createTransactionSource } from '../sim/transactions.js';
import { defaultDataDir } from '../load/traffic.js';
import { runOpenLoop } from './open-loop.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '150' },
    rate: { type: 'string', default: '250' },
    window: { type: 'string', default: '10' },
    start: { type: 'string', default: 'cold' },
    offers: { type: 'string', default: '2000' },
    seed: { type: 'string', default: '5' },
    out: { type: 'string', default: 'bench/results/demo-learning' },
  },
});
const SECONDS = Number(values.seconds);
const RATE = Number(values.rate);
const WINDOW_S = Number(values.window);
const SEED = Number(values.seed);

interface WindowStats {
  start: number;
  impressions: number;
  clicks: number;
  byModel: Record<string, { impressions: number; clicks: number }>;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'txrank-demo-'));
  const dataDir = join(work, 'data');
  const catalogText = generateDemoCatalog({ offers: Number(values.offers), tenants: 1, seed: SEED });
  const parsed = parseCatalogJsonl(catalogText);
  if (!parsed.ok) throw new Error('demo catalog invalid');
  const offers = new Map<string, Offer>(parsed.offers.map((o) => [o.id, o]));
  const tenant = parsed.tenants[0];
  const storage = openStorage(dataDir);
  await loadCatalogText(storage, catalogText, 'demo');
  const key = await storage.keys.mint('tenant', tenant.id, 'demo');
  await storage.close();

  let modelDir = 'models/shipped';
  if (values.start === 'cold') {
    modelDir = join(work, 'cold-model');
    const w = initWeights({ txn: TXN_DIM, offer: OFFER_DIM, hidden: 32, embed: 16 }, SEED);
    await writeModelDir(modelDir, w, { parent: null, createdAt: '2026-01-01T00:00:00.000Z', training: { note: 'untrained: random initial weights' }, metrics: {} });
  }
  const server = await TxrankServer.start(
    resolveOptions({ port: 0, dataDir, modelDir, demo: false, learning: true, clickWindowMs: 2000, exportEveryExamples: 4000, exportEverySeconds: 10 }),
    { info: (m) => console.log(`txrank: ${m}`), warn: (m) => console.warn(`txrank: ${m}`) },
  );
  await server.waitReady();
  const { data: real, note } = await loadRealDataIfPresent(defaultDataDir());
  console.log(`demo: traffic ${note}`);
  const source = createTransactionSource(SEED, real);
  const truth = createGroundTruth(SEED);
  const rng = new Prng(SEED + 1);
  const client = await DecisionClient.connect(server.url, key);

  const windows: WindowStats[] = [];
  const t0 = Date.now();
  let eventSeq = 0;
  const oneCheckout = async (): Promise<void> => {
    const txn = source.next();
    const answer = await client.decide({ tenant: tenant.id, placement: tenant.placements[0].id, k: 3, txn: { ...txn, ts: Date.now() } });
    if (answer.type !== 'decision') return;
    const w = Math.floor((Date.now() - t0) / 1000 / WINDOW_S);
    const stats = (windows[w] ??= { start: w * WINDOW_S, impressions: 0, clicks: 0, byModel: {} });
    const m = (stats.byModel[answer.model_version] ??= { impressions: 0, clicks: 0 });
    const events: Promise<unknown>[] = [];
    for (const o of answer.offers) {
      const offer = offers.get(o.offer_id);
      if (!offer) continue;
      stats.impressions++;
      m.impressions++;
      const id = `e${++eventSeq}`;
      events.push(client.sendRaw({ v: 1, type: 'event', id, event_id: id, decision_id: answer.decision_id, offer_id: o.offer_id, kind: 'impression' }, id));
      if (rng.next() < truth.engageProbability(txn, offer, o.position)) {
        stats.clicks++;
        m.clicks++;
        const cid = `e${++eventSeq}`;
        events.push(client.sendRaw({ v: 1, type: 'event', id: cid, event_id: cid, decision_id: answer.decision_id, offer_id: o.offer_id, kind: 'click' }, cid));
      }
    }
    await Promise.all(events);
  };
  // Open loop at RATE checkouts/s, bounded by time and by 512 checkouts in flight.
  await runOpenLoop({
    seconds: SECONDS,
    rate: RATE,
    maxInFlight: 512,
    checkout: oneCheckout,
    onTick: (elapsed) => {
      if (elapsed % 10_000 >= 6) return;
      const last = windows[windows.length - 1];
      if (last) console.log(`demo: t=${last.start}s CTR ${(last.clicks / Math.max(1, last.impressions) * 100).toFixed(2)}% models ${Object.keys(last.byModel).join(', ')}`);
    },
  });
  await client.close();
  const finalModel = server.modelVersion;
  await server.close();
  rmSync(work, { recursive: true, force: true });
  // Whole windows only: the last one is cut short by the end of the run.
  writeReport(windows.filter((w) => w && w.start + WINDOW_S <= SECONDS), finalModel, note);
}

function writeReport(windows: WindowStats[], finalModel: string, note: string): void {
  const rows = windows.map((w) => ({
    start: w.start,
    impressions: w.impressions,
    clicks: w.clicks,
    ctr: w.clicks / Math.max(1, w.impressions),
    byModel: Object.fromEntries(Object.entries(w.byModel).map(([v, s]) => [v, { ...s, ctr: s.clicks / Math.max(1, s.impressions) }])),
  }));
  const versions: string[] = [];
  for (const w of rows) for (const v of Object.keys(w.byModel)) if (!versions.includes(v)) versions.push(v);
  const byVersion = versions.map((v) => {
    let imp = 0;
    let clk = 0;
    for (const w of rows) {
      const s = w.byModel[v];
      if (s) {
        imp += s.impressions;
        clk += s.clicks;
      }
    }
    return { version: v, impressions: imp, clicks: clk, ctr: clk / Math.max(1, imp) };
  });
  const out = String(values.out);
  mkdirSync(dirname(out), { recursive: true });
  const report = { date: new Date().toISOString(), start: values.start, seconds: SECONDS, rate: RATE, traffic: note, finalModel, windows: rows, byVersion };
  writeFileSync(`${out}.json`, JSON.stringify(report, null, 2));
  writeFileSync(`${out}.svg`, plot(rows, versions));
  const first = rows[0];
  const last = rows[rows.length - 1];
  const md = [
    `# Learning demo (${report.date.slice(0, 10)})`,
    '',
    `Start: **${values.start}** model; ${SECONDS} s of simulated checkouts at ${RATE}/s, k = 3; buyers click with the simulator's ground-truth probability; traffic ${note}.`,
    '',
    `CTR in the first ${WINDOW_S} s window: **${((first?.ctr ?? 0) * 100).toFixed(2)}%**; in the last: **${((last?.ctr ?? 0) * 100).toFixed(2)}%**.`,
    '',
    '![CTR by time window](' + out.split('/').pop() + '.svg)',
    '',
    '| model version (in order served) | impressions | clicks | CTR |',
    '|---|---|---|---|',
    ...byVersion.map((v) => `| ${v.version} | ${v.impressions} | ${v.clicks} | ${(v.ctr * 100).toFixed(2)}% |`),
    '',
    '| window start (s) | impressions | CTR | models serving in the window |',
    '|---|---|---|---|',
    ...rows.map((w) => `| ${w.start} | ${w.impressions} | ${(w.ctr * 100).toFixed(2)}% | ${Object.keys(w.byModel).join(', ')} |`),
  ].join('\n');
  writeFileSync(`${out}.md`, md + '\n');
  console.log(md);
  console.log(`demo: wrote ${out}.{json,md,svg}`);
}

/** CTR against time, one point per window, colored by the model that served most of the window. */
function plot(rows: { start: number; ctr: number; byModel: Record<string, { impressions: number }> }[], versions: string[]): string {
  const W = 640;
  const H = 320;
  const m = { l: 56, r: 16, t: 28, b: 44 };
  const xMax = Math.max(1, ...rows.map((r) => r.start + WINDOW_S));
  const yMax = Math.max(0.01, ...rows.map((r) => r.ctr)) * 1.15;
  const x = (v: number) => m.l + (v / xMax) * (W - m.l - m.r);
  const y = (v: number) => H - m.b - (v / yMax) * (H - m.t - m.b);
  const palette = ['#888888', '#1f77b4', '#2ca02c', '#d62728', '#9467bd', '#ff7f0e', '#17becf', '#8c564b'];
  const colorOf = (r: { byModel: Record<string, { impressions: number }> }) => {
    const top = Object.entries(r.byModel).sort((a, b) => b[1].impressions - a[1].impressions)[0]?.[0] ?? '';
    return palette[versions.indexOf(top) % palette.length];
  };
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`];
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">Click-through rate by ${WINDOW_S} s window (color: model serving)</text>`);
  parts.push(`<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`);
  for (let i = 0; i <= 5; i++) {
    const v = (yMax / 5) * i;
    parts.push(`<text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end">${(v * 100).toFixed(1)}%</text><line x1="${m.l}" y1="${y(v)}" x2="${W - m.r}" y2="${y(v)}" stroke="#eee"/>`);
  }
  for (let s = 0; s <= xMax; s += Math.max(WINDOW_S, Math.round(xMax / 8 / WINDOW_S) * WINDOW_S)) {
    parts.push(`<text x="${x(s)}" y="${H - m.b + 16}" text-anchor="middle">${s}</text>`);
  }
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">seconds</text>`);
  parts.push(`<polyline fill="none" stroke="#bbb" points="${rows.map((r) => `${x(r.start + WINDOW_S / 2)},${y(r.ctr)}`).join(' ')}"/>`);
  for (const r of rows) parts.push(`<circle cx="${x(r.start + WINDOW_S / 2)}" cy="${y(r.ctr)}" r="4" fill="${colorOf(r)}"/>`);
  versions.forEach((v, i) => parts.push(`<text x="${m.l + 8}" y="${m.t + 12 + i * 14}" fill="${palette[i % palette.length]}">● ${v}</text>`));
  parts.push('</svg>');
  return parts.join('\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
