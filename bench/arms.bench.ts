/**
 * The arms offline, against the simulator's ground truth: what the AI arm and the rules arm choose for the
 * same baskets (the real decide path: eligibility, selection, one offer per advertiser, exploration), and what
 * the simulated buyer's true engagement probability says those choices are worth. Two oracles that know the
 * truth bound what any model could do: one ranks by true p x bid (revenue), one by true p (clicks).
 *
 * No server, no sampling noise from drawn clicks: the figures are expectations (true CTR of the shown offers
 * at their slots, first-price revenue per 1,000 impressions), so a difference between arms shows in a few
 * thousand baskets. `npm run demo:holdout` measures the same comparison live, with drawn clicks, through the
 * server and its report.
 *
 *   npm run build && node dist/bench/arms.bench.js [--model models/shipped] [--txns 3000] [--offers 2000] [--seed 5]
 *                                                  [--out bench/results/arms]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { Unpackr } from 'msgpackr';
import { parseCatalogJsonl } from '../src/catalog/jsonl.js';
import { generateDemoCatalog } from '../src/catalog/demo.js';
import type { Offer } from '../src/catalog/types.js';
import { CampaignTable } from '../src/delivery/campaign-table.js';
import { buildRequestContext } from '../src/delivery/request-context.js';
import { TXN_DIM } from '../src/features/spec.js';
import { transactionFeatures } from '../src/features/transaction.js';
import { readModelDir } from '../src/model/model-dir.js';
import type { DecisionAnswer, Transaction } from '../src/protocol/messages.js';
import { bidScale } from '../src/ranking/bid-scale.js';
import { CatalogView } from '../workers/inference/catalog-view.js';
import { decideBatch } from '../workers/inference/decide.js';
import { createGroundTruth, type GroundTruth } from './sim/engagement.js';
import { loadRealDataIfPresent } from './sim/real-data.js';
import { createTransactionSource } from './sim/transactions.js';
import { defaultDataDir } from './load/traffic.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/shipped' },
    txns: { type: 'string', default: '3000' },
    offers: { type: 'string', default: '2000' },
    seed: { type: 'string', default: '5' },
    out: { type: 'string', default: 'bench/results/arms' },
  },
});
const TXNS = Number(values.txns);
const SEED = Number(values.seed);
/** The simulated buyer's conversion rate after a click (as in the holdout demo), for CPA revenue. */
const CVR = 0.1;
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

interface Tally {
  shown: number;
  trueCtr: number;
  modelP: number;
  revenue: number;
}

const tally = (): Tally => ({ shown: 0, trueCtr: 0, modelP: 0, revenue: 0 });

/** Expected first-price revenue of showing `offer` at a slot with true engagement probability pt. */
function revenue(offer: Offer, pt: number): number {
  switch (offer.bid.type) {
    case 'cpm':
      return offer.bid.amount / 1000;
    case 'cpc':
      return pt * offer.bid.amount;
    case 'cpa':
      return pt * CVR * offer.bid.amount;
  }
}

function add(t: Tally, offer: Offer, pt: number, modelP: number): void {
  t.shown++;
  t.trueCtr += pt;
  t.modelP += modelP;
  t.revenue += revenue(offer, pt);
}

/** Top 3 by `key` among active offers, one per advertiser, valued at their slots by the truth. */
function oracle(t: Tally, truth: GroundTruth, txn: Transaction, offers: Offer[], key: (o: Offer, p1: number) => number): void {
  const scored = offers.map((o) => ({ o, k: key(o, truth.engageProbability(txn, o, 1)) })).sort((a, b) => b.k - a.k);
  const seen = new Set<string>();
  for (const { o } of scored) {
    if (seen.has(o.advertiser)) continue;
    seen.add(o.advertiser);
    add(t, o, truth.engageProbability(txn, o, seen.size), 0);
    if (seen.size === 3) break;
  }
}

async function main(): Promise<void> {
  const parsed = parseCatalogJsonl(generateDemoCatalog({ offers: Number(values.offers), tenants: 1, seed: SEED }));
  if (!parsed.ok) throw new Error('demo catalog invalid');
  const model = await readModelDir(values.model as string);
  const view = await CatalogView.build(
    { version: 1, loadedAt: 0, source: 'bench', sha256: '', tenants: parsed.tenants, offers: parsed.offers, campaigns: parsed.campaigns, rules: parsed.rules },
    model,
    CampaignTable.create({ capacity: 4096 }),
  );
  const tenant = parsed.tenants[0];
  const byId = new Map(parsed.offers.map((o) => [o.id, o]));
  const active = parsed.offers.filter((o) => o.status === 'active');
  const { data: real, note } = await loadRealDataIfPresent(defaultDataDir());
  const source = createTransactionSource(SEED, real);
  const truth = createGroundTruth(SEED);
  const arms: Record<string, Tally> = { ai: tally(), rules: tally(), 'oracle: true p x bid': tally(), 'oracle: true p': tally() };
  const features = new Float32Array(TXN_DIM);
  for (let i = 0; i < TXNS; i++) {
    const txn = source.next();
    transactionFeatures(txn, features);
    for (const arm of ['ai', 'rules'] as const) {
      const now = Date.now();
      const [r] = await decideBatch(view, {
        type: 'decide',
        features: features.slice(),
        jobs: [{ seq: 1, requestId: i, tenant: tenant.id, placement: 'checkout', k: 3, arm, ctx: buildRequestContext(txn, 'checkout', tenant.currency, now), history: null, row: 0, receivedAt: now, deadline: now + 1e9 }],
      });
      if (!r.ok) throw new Error(r.error.message);
      const answer = unpackr.unpack(r.frame) as DecisionAnswer;
      for (const o of answer.offers) {
        const offer = byId.get(o.offer_id) as Offer;
        add(arms[arm], offer, truth.engageProbability(txn, offer, o.position), o.p);
      }
    }
    // The oracles are slow (every offer through the truth): a third of the baskets is plenty.
    if (i % 3 === 0) {
      oracle(arms['oracle: true p x bid'], truth, txn, active, (o, p1) => p1 * bidScale(o.bid));
      oracle(arms['oracle: true p'], truth, txn, active, (_o, p1) => p1);
    }
  }
  await view.retire();

  const rows = Object.entries(arms).map(([arm, t]) => ({
    arm,
    shown: t.shown,
    trueCtr: t.trueCtr / t.shown,
    modelP: arm.startsWith('oracle') ? null : t.modelP / t.shown,
    firstPriceRpm: (t.revenue / t.shown) * 1000,
  }));
  const ai = rows[0];
  const rules = rows[1];
  const lift = { ctr: ai.trueCtr / rules.trueCtr - 1, rpm: ai.firstPriceRpm / rules.firstPriceRpm - 1 };
  const md = [
    `# Arms offline (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Model ${model.manifest.version}, demo catalog (${values.offers} offers, seed ${SEED}), ${TXNS} baskets (${note}), checkout placement, k = 3.`,
    'True CTR and first-price revenue are expectations under the simulator\'s ground truth at the slots shown.',
    '',
    '| arm | offers shown | true CTR | model p (mean) | first-price RPM |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.arm} | ${r.shown} | ${(r.trueCtr * 100).toFixed(2)}% | ${r.modelP === null ? '-' : (r.modelP * 100).toFixed(2) + '%'} | ${r.firstPriceRpm.toFixed(2)} |`),
    '',
    `AI vs rules: CTR ${(lift.ctr * 100).toFixed(1)}%, first-price RPM ${(lift.rpm * 100).toFixed(1)}%.`,
  ].join('\n');
  const out = values.out as string;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(`${out}.json`, JSON.stringify({ date: new Date().toISOString(), model: model.manifest.version, txns: TXNS, offers: Number(values.offers), seed: SEED, traffic: note, rows, lift }, null, 2));
  writeFileSync(`${out}.md`, md + '\n');
  console.log(md);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
