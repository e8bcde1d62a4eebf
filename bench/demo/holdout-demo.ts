/**
 * `npm run demo:holdout`: the AI against the rules baseline on the same traffic. A txrank server (in this
 * process, shipped model, learning on) serves simulated checkouts on the demo catalog, whose checkout
 * placement holds out a share of buyers for the rules policy. Simulated buyers (bench/sim, ground truth the
 * engine never reads) send impressions, clicks and, after some clicks, conversions with a value. At the end
 * the server's own report (GET /v1/report, docs/REPORTS.md) is fetched and written: CTR, conversion rate,
 * RPM and ROAS per arm, and the AI's lift with 95% confidence intervals.
 *
 *   npm run demo:holdout [-- --seconds 90 --rate 300 --holdout 0.3 --pricing catalog|gsp|first --offers 2000 --out bench/results/demo-holdout]
 *
 * --holdout overrides the checkout placement's share (the demo catalog ships 0.1) so that a short run gathers
 * enough rules-arm traffic for a tight interval.
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
import { Prng } from '../../src/learning/prng.js';
import { TxrankServer } from '../../src/server.js';
import { offPolicyEstimate, renderOpe } from '../../src/reporting/ope.js';
import { createGroundTruth } from '../sim/engagement.js';
import { loadRealDataIfPresent } from '../sim/real-data.js';
import { createTransactionSource } from '../sim/transactions.js';
import { defaultDataDir } from '../load/traffic.js';
import { runOpenLoop } from './open-loop.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '90' },
    rate: { type: 'string', default: '300' },
    holdout: { type: 'string', default: '0.3' },
    pricing: { type: 'string', default: 'catalog' },
    offers: { type: 'string', default: '2000' },
    seed: { type: 'string', default: '5' },
    out: { type: 'string', default: 'bench/results/demo-holdout' },
  },
});
const SECONDS = Number(values.seconds);
const RATE = Number(values.rate);
const HOLDOUT = Number(values.holdout);
const SEED = Number(values.seed);
/** The simulated buyer converts after a click with this probability, buying the offer's product. */
const CONVERSION_RATE = 0.1;

/** The demo catalog with the checkout placement's holdout share (and, if asked, its pricing) replaced. */
function withHoldout(text: string, share: number, pricing: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (!line.startsWith('{"kind":"tenant"')) return line;
      const t = JSON.parse(line) as { placements: { id: string; holdout?: number; pricing?: string }[] };
      for (const p of t.placements) {
        if (p.id !== 'checkout') continue;
        p.holdout = share;
        if (pricing !== 'catalog') p.pricing = pricing;
      }
      return JSON.stringify(t);
    })
    .join('\n');
}

async function main(): Promise<void> {
  if (!(HOLDOUT > 0 && HOLDOUT < 1)) throw new Error('--holdout must be in (0, 1)');
  const work = mkdtempSync(join(tmpdir(), 'txrank-holdout-'));
  const dataDir = join(work, 'data');
  const catalogText = withHoldout(generateDemoCatalog({ offers: Number(values.offers), tenants: 1, seed: SEED }), HOLDOUT, String(values.pricing));
  const parsed = parseCatalogJsonl(catalogText);
  if (!parsed.ok) throw new Error('demo catalog invalid');
  const offers = new Map<string, Offer>(parsed.offers.map((o) => [o.id, o]));
  const tenant = parsed.tenants[0];
  const storage = openStorage(dataDir);
  await loadCatalogText(storage, catalogText, 'demo');
  const key = await storage.keys.mint('tenant', tenant.id, 'demo');
  await storage.close();

  const server = await TxrankServer.start(
    resolveOptions({ port: 0, dataDir, modelDir: 'models/shipped', demo: false, learning: true, clickWindowMs: 2000, exportEveryExamples: 4000, exportEverySeconds: 10 }),
    { info: (m) => console.log(`txrank: ${m}`), warn: (m) => console.warn(`txrank: ${m}`) },
  );
  try {
    await server.waitReady();
    const { data: real, note } = await loadRealDataIfPresent(defaultDataDir());
    console.log(`demo: traffic ${note}; checkout holdout ${HOLDOUT}`);
    const source = createTransactionSource(SEED, real);
    const truth = createGroundTruth(SEED);
    const rng = new Prng(SEED + 1);
    const client = await DecisionClient.connect(server.url, key);
    let eventSeq = 0;
    const arms = { ai: 0, rules: 0 };
    const oneCheckout = async (): Promise<void> => {
      const txn = source.next();
      // Buyers return: a pool of 20,000 buyer keys, so the holdout split is by buyer.
      const buyer = `buyer-${Math.floor(rng.next() * 20_000)}`;
      const answer = await client.decide({ tenant: tenant.id, placement: 'checkout', buyer, k: 3, txn: { ...txn, ts: Date.now() } });
      if (answer.type !== 'decision') return;
      arms[answer.policy]++;
      const events: Promise<unknown>[] = [];
      const send = (offerId: string, kind: 'impression' | 'click' | 'conversion', value?: number) => {
        const id = `e${++eventSeq}`;
        events.push(client.event({ event_id: id, decision_id: answer.decision_id, offer_id: offerId, kind, ...(value === undefined ? {} : { value, currency: tenant.currency }) }));
      };
      for (const o of answer.offers) {
        const offer = offers.get(o.offer_id);
        if (!offer) continue;
        send(o.offer_id, 'impression');
        if (rng.next() < truth.engageProbability(txn, offer, o.position)) {
          send(o.offer_id, 'click');
          if (rng.next() < CONVERSION_RATE) send(o.offer_id, 'conversion', Math.round((offer.price ?? 5) * (1 + Math.floor(rng.next() * 3)) * 100) / 100);
        }
      }
      await Promise.all(events);
    };
    await runOpenLoop({ seconds: SECONDS, rate: RATE, maxInFlight: 512, checkout: oneCheckout });
    await client.close();
    // Decision counts reach the report counters on their flush interval; wait one out.
    await new Promise((r) => setTimeout(r, 1500));
    const base = `http://127.0.0.1:${server.port}/v1/report?tenant=${encodeURIComponent(tenant.id)}`;
    const headers = { authorization: `Bearer ${key}` };
    const json = await (await fetch(`${base}&format=json`, { headers })).json();
    const text = await (await fetch(`${base}&format=text`, { headers })).text();
    await server.close();
    // Off-policy evaluation from the decision log's propensities (docs/REPORTS.md): the checkout explores.
    const storage2 = openStorage(dataDir, { readOnly: true });
    const ope = offPolicyEstimate(storage2.root, { tenant: tenant.id });
    await storage2.close();
    const out = values.out as string;
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(`${out}.json`, JSON.stringify({ date: new Date().toISOString(), seconds: SECONDS, rate: RATE, holdout: HOLDOUT, traffic: note, decisionsSeen: arms, report: json, offPolicy: ope }, null, 2));
    const md = [
      `# Holdout demo (${new Date().toISOString().slice(0, 10)})`,
      '',
      `${SECONDS} s at ${RATE} checkouts/s, shipped model with learning on, checkout holdout ${HOLDOUT} by buyer key; ` +
        `traffic: ${note}. Simulated buyers click by the simulator's ground truth and convert ${CONVERSION_RATE * 100}% of clicks.`,
      '',
      '```',
      text.trimEnd(),
      '```',
      '',
      'Off-policy evaluation from the logged propensities (`npm run ope`):',
      '',
      '```',
      renderOpe(ope),
      '```',
    ].join('\n');
    writeFileSync(`${out}.md`, md + '\n');
    console.log(text);
    console.log(renderOpe(ope));
    console.log(`wrote ${out}.json and ${out}.md`);
  } finally {
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
