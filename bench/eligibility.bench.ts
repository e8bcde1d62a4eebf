/**
 * Micro-benchmark of eligibility (src/delivery/eligibility-index.ts), tinybench; timings never go in tests.
 * One synthetic tenant: 10,000 offers over ~500 campaigns with varied targeting (placements, channels,
 * countries, basket departments any/none, basket ranges, tiers, hours, weekdays, flights), brand-safety
 * blocks on the tenant and the placement, and 20 rules. Measures:
 *   - EligibilityIndex.build (once per catalog version per tenant);
 *   - eligible() per request with the flight cache warm (the steady state);
 *   - eligible() when every call crosses a flight boundary (the O(n) recompute; worst case, rare in practice);
 *   - ruleMatches() (holdout arm) and buildRequestContext (main thread);
 *   - for scale, a per-offer scan of the same rules (what the index replaces).
 *
 * Run: npx tsc -p . && node dist/bench/eligibility.bench.js [--time-ms 500]
 * Writes bench/results/eligibility.json.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { PRICE_TIERS, type Campaign, type Offer, type Placement, type Rule, type Targeting, type Tenant } from '../src/catalog/types.js';
import { count, EligibilityIndex } from '../src/delivery/eligibility-index.js';
import { buildRequestContext } from '../src/delivery/request-context.js';
import type { RequestContext } from '../src/delivery/types.js';
import { CHANNELS } from '../src/features/spec.js';
import { DEPARTMENTS, departmentIndex } from '../src/features/taxonomy.js';
import { Prng } from '../src/learning/prng.js';
import type { Transaction } from '../src/protocol/messages.js';

const N_OFFERS = 10_000;
const N_CAMPAIGNS = 500;
const N_REQUESTS = 4096;
const DAY = 86_400_000;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function placement(id: string, over: Partial<Placement> = {}): Placement {
  return { id, name: id, slots: 3, floorCpm: 0, minRelevance: 0, pricing: 'gsp', exploration: { epsilon: 0, pool: 10 }, categoryExclusivity: false, holdout: 0, blockedAdvertisers: [], blockedCategories: [], ...over };
}

interface Fixture {
  tenant: Tenant;
  offers: Offer[];
  campaigns: Campaign[];
  rules: Rule[];
  contexts: RequestContext[];
  txns: Transaction[];
  now: number;
}

function fixture(seed: number): Fixture {
  const rng = new Prng(seed);
  const now = Date.UTC(2024, 5, 7, 12);
  const sub = <T>(items: readonly T[], p: number): T[] => items.filter(() => rng.bernoulli(p));
  const maybe = <T>(p: number, f: () => T): T | undefined => (rng.bernoulli(p) ? f() : undefined);
  const countries = ['US', 'CA', 'GB', 'FR', 'DE', 'ES', 'IT', 'NL', 'SE', 'JP', 'AU', 'BR', 'MX', 'IN', 'PL'];
  const placements = ['checkout', 'confirmation', 'cart', 'email'];
  const money = [10, 20, 25, 30, 40, 50, 60, 75, 100, 150, 200, 250, 300, 400, 500];
  const tenant: Tenant = {
    id: 'bench',
    name: 'Bench',
    currency: 'USD',
    placements: placements.map((p, i) => placement(p, i === 0 ? { blockedCategories: ['beverages/energy', 'health/supplements'], blockedAdvertisers: ['adv-7'] } : {})),
    blockedAdvertisers: ['adv-3', 'adv-99'],
    blockedCategories: ['alcohol/spirits', 'tobacco'],
  };
  const campaigns: Campaign[] = [];
  for (let c = 0; c < N_CAMPAIGNS; c++) {
    const lo = maybe(0.25, () => rng.pick(money));
    const targeting: Targeting = {
      placements: maybe(0.3, () => sub(placements, 0.5)),
      channels: maybe(0.3, () => sub(CHANNELS, 0.6)),
      countries: maybe(0.5, () => sub(countries, 0.3)),
      basketDepartmentsAny: maybe(0.4, () => sub(DEPARTMENTS, 0.15)),
      basketDepartmentsNone: maybe(0.2, () => sub(DEPARTMENTS, 0.1)),
      basketMin: lo,
      basketMax: maybe(0.2, () => (lo ?? 0) + rng.pick(money)),
      priceTiers: maybe(0.2, () => sub(PRICE_TIERS, 0.6)),
      hours: maybe(0.2, () => Array.from({ length: 24 }, (_, h) => h).filter(() => rng.bernoulli(0.6))),
      weekdays: maybe(0.15, () => [0, 1, 2, 3, 4, 5, 6].filter(() => rng.bernoulli(0.7))),
    };
    const start = now - rng.int(30) * DAY;
    campaigns.push({
      id: `camp-${String(c).padStart(4, '0')}`,
      tenant: tenant.id,
      advertiser: `adv-${rng.int(120)}`,
      name: `c${c}`,
      status: rng.bernoulli(0.08) ? 'paused' : 'active',
      start,
      end: start + (1 + rng.int(60)) * DAY,
      budget: {},
      pacing: 'even',
      frequencyCaps: [],
      targeting,
    });
  }
  const cats = ['beverages/soda', 'beverages/energy/cans', 'snacks/chips', 'dairy_eggs/yogurt', 'pantry/pasta', 'alcohol/wine', 'alcohol/spirits/gin', 'household/cleaning', 'pets/dog', 'health/supplements', 'baby/diapers', 'produce/fruit', 'frozen/pizza'];
  const offers: Offer[] = [];
  for (let i = 0; i < N_OFFERS; i++) {
    const c = campaigns[rng.int(N_CAMPAIGNS)];
    const start = c.start + rng.int(5) * DAY;
    offers.push({
      id: `o-${String(i).padStart(5, '0')}`,
      tenant: tenant.id,
      advertiser: c.advertiser,
      campaign: c.id,
      category: rng.pick(cats),
      title: '',
      creative: {},
      bid: { type: 'cpc', amount: 1 },
      status: rng.bernoulli(0.05) ? 'paused' : 'active',
      start,
      end: rng.bernoulli(0.7) ? c.end : start + (1 + rng.int(40)) * DAY,
    });
  }
  const rules: Rule[] = Array.from({ length: 20 }, (_, r) => ({ id: `r${r}`, tenant: tenant.id, whenDepartments: sub(DEPARTMENTS, 0.15), offerCategories: sub(cats.map((x) => x.split('/')[0]), 0.2) }));
  const txns: Transaction[] = [];
  const contexts: RequestContext[] = [];
  for (let q = 0; q < N_REQUESTS; q++) {
    const lines = 1 + rng.int(12);
    const txn: Transaction = {
      id: `t${q}`,
      ts: now + rng.int(3_600_000),
      utc_offset_min: rng.pick([-300, 0, 60, 120, 540]),
      currency: rng.pick(['USD', 'USD', 'EUR', 'GBP']),
      channel: rng.pick(CHANNELS),
      country: rng.pick(countries),
      items: Array.from({ length: lines }, (_, k) => ({ sku: `s${k}`, category: rng.pick(DEPARTMENTS), price: Math.round(rng.uniform(0.5, 30) * 100) / 100, quantity: 1 + rng.int(3) })),
      total: 0,
    };
    txn.total = txn.items.reduce((s, it) => s + it.price * it.quantity, 0);
    txns.push(txn);
    contexts.push(buildRequestContext(txn, rng.pick(placements), tenant.currency, now + q));
  }
  return { tenant, offers, campaigns, rules, contexts, txns, now };
}

/** The per-request, per-offer rule scan that the index replaces (campaign lookups already resolved). */
function scanEligible(f: Fixture, campaignOf: Int32Array, c: RequestContext, out: Uint8Array): number {
  const p = f.tenant.placements.find((x) => x.id === c.placement);
  if (p === undefined) return 0;
  let n = 0;
  const channel = CHANNELS[c.channel];
  const tier = PRICE_TIERS[c.priceTier];
  for (let i = 0; i < f.offers.length; i++) {
    out[i] = 0;
    const o = f.offers[i];
    const camp = f.campaigns[campaignOf[i]];
    if (o.status !== 'active' || camp.status !== 'active') continue;
    if (!(o.start <= c.now && c.now < o.end && camp.start <= c.now && c.now < camp.end)) continue;
    if (f.tenant.blockedAdvertisers.includes(o.advertiser) || p.blockedAdvertisers.includes(o.advertiser)) continue;
    let blocked = false;
    for (const b of f.tenant.blockedCategories) if (o.category === b || o.category.startsWith(b + '/')) blocked = true;
    for (const b of p.blockedCategories) if (o.category === b || o.category.startsWith(b + '/')) blocked = true;
    if (blocked) continue;
    const t = camp.targeting;
    if (t.placements && t.placements.length > 0 && !t.placements.includes(p.id)) continue;
    if (t.channels && t.channels.length > 0 && !t.channels.includes(channel)) continue;
    if (t.countries && t.countries.length > 0 && !t.countries.includes(c.country)) continue;
    if (t.priceTiers && t.priceTiers.length > 0 && !t.priceTiers.includes(tier)) continue;
    if (t.hours && t.hours.length > 0 && !t.hours.includes(c.hour)) continue;
    if (t.weekdays && t.weekdays.length > 0 && !t.weekdays.includes(c.weekday)) continue;
    if (t.basketDepartmentsAny && t.basketDepartmentsAny.length > 0 && !t.basketDepartmentsAny.some((d) => (c.basketDepartments >>> departmentIndex(d)) & 1)) continue;
    if (t.basketDepartmentsNone && t.basketDepartmentsNone.length > 0 && t.basketDepartmentsNone.some((d) => (c.basketDepartments >>> departmentIndex(d)) & 1)) continue;
    if (t.basketMin !== undefined && c.basketTotal < t.basketMin) continue;
    if (t.basketMax !== undefined && !(c.basketTotal < t.basketMax)) continue;
    out[i] = 1;
    n++;
  }
  return n;
}

interface Row {
  task: string;
  'mean us': number;
  'p50 us': number;
  'p99 us': number;
  'ops/s': number;
}

async function main(): Promise<void> {
  const timeMs = Number(arg('--time-ms', '500'));
  const f = fixture(42);
  const built = EligibilityIndex.build(f.tenant, f.offers, f.campaigns, f.rules);
  const out = new Uint32Array(built.words);
  const byId = new Map(f.campaigns.map((c, i) => [c.id, i]));
  const campaignOf = Int32Array.from(f.offers, (o) => byId.get(o.campaign) ?? 0);
  const scanOut = new Uint8Array(f.offers.length);

  // Sanity: the index and the scan agree on the benchmark's requests, and requests are not trivially empty.
  let eligibleSum = 0;
  for (const c of f.contexts.slice(0, 256)) {
    built.eligible(c, out);
    const n = count(out);
    const m = scanEligible(f, campaignOf, c, scanOut);
    if (n !== m) throw new Error(`index (${n}) and scan (${m}) disagree on ${JSON.stringify(c)}`);
    eligibleSum += n;
  }
  const meanEligible = eligibleSum / 256;

  let sink = 0;
  let q = 0;
  const bench = new Bench({ time: timeMs, warmupTime: 100 });
  bench.add(`EligibilityIndex.build (${N_OFFERS.toLocaleString('en-US')} offers, ${N_CAMPAIGNS} campaigns, ${f.rules.length} rules)`, () => {
    sink += EligibilityIndex.build(f.tenant, f.offers, f.campaigns, f.rules).words;
  });
  bench.add('eligible() (flight cache warm)', () => {
    built.eligible(f.contexts[q++ & (N_REQUESTS - 1)], out);
    sink += out[0];
  });
  // Two nows on either side of a boundary: every call recomputes the flight set.
  const boundary = f.offers[0].start;
  const flip = [{ ...f.contexts[0], now: boundary - 1 }, { ...f.contexts[0], now: boundary }];
  bench.add('eligible() (flight recompute on every call, worst case)', () => {
    built.eligible(flip[q++ & 1], out);
    sink += out[0];
  });
  bench.add('ruleMatches()', () => {
    sink += built.ruleMatches(f.contexts[q++ & (N_REQUESTS - 1)].basketDepartments, out) ? 1 : 0;
  });
  bench.add('buildRequestContext()', () => {
    sink += buildRequestContext(f.txns[q++ & (N_REQUESTS - 1)], 'checkout', 'USD', f.now).priceTier;
  });
  bench.add('per-offer rule scan (what the index replaces)', () => {
    sink += scanEligible(f, campaignOf, f.contexts[q++ & (N_REQUESTS - 1)], scanOut);
  });
  await bench.run();

  const round = (x: number | undefined): number => (x === undefined ? NaN : Math.round(x * 1000 * 100) / 100);
  const rows: Row[] = bench.tasks.map((task) => {
    const r = task.result as unknown as { latency?: { mean: number; p50?: number; p99?: number }; throughput?: { mean: number } } | undefined;
    return { task: task.name, 'mean us': round(r?.latency?.mean), 'p50 us': round(r?.latency?.p50), 'p99 us': round(r?.latency?.p99), 'ops/s': r?.throughput ? Math.round(r.throughput.mean) : NaN };
  });
  console.table(rows);
  console.log(`node ${process.version}; ${built.words} words per bitset; mean eligible offers per request ${meanEligible.toFixed(0)} of ${N_OFFERS}; (sink ${sink % 10})`);

  const here = dirname(fileURLToPath(import.meta.url));
  // dist/bench/eligibility.bench.js -> <repo>/bench/results
  const resultsDir = join(here, '..', '..', 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, 'eligibility.json');
  writeFileSync(
    file,
    JSON.stringify({ node: process.version, date: new Date().toISOString(), offers: N_OFFERS, campaigns: N_CAMPAIGNS, rules: f.rules.length, words: built.words, meanEligible, timeMs, rows }, null, 2) + '\n',
  );
  console.log(`wrote ${file}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
