/**
 * Delivery end to end, on a real server (uWS on a loopback port, LMDB in a temp dir, two inference worker
 * threads, ONNX Runtime): targeting, competitive exclusion, second-price prices, frequency caps, exploration
 * propensities, the holdout split with the rules arm, and a budget cut-off under concurrent load with
 * durable, once-only billing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../src/catalog/store.js';
import { CampaignTable } from '../src/delivery/campaign-table.js';
import { SpendLedger } from '../src/delivery/spend-ledger.js';
import type { DecisionClient } from '../src/client/client.js';
import type { DecisionAnswer, RankedOffer } from '../src/protocol/messages.js';
import { startTestServer, type TestServer } from './helpers/harness.js';

const T = 'shop';
const FLIGHT = { start: '2020-01-01', end: '2090-01-01' };
const BUDGET_TOTAL = 0.5; // cpm 50 => 0.05 per impression => 10 impressions
const EPSILON = 0.5;
const POOL = 4;

function catalog(): string {
  const lines: object[] = [
    {
      kind: 'tenant',
      id: T,
      name: 'Shop',
      currency: 'USD',
      placements: [
        { id: 'checkout', name: 'Checkout', slots: 3 },
        { id: 'explore', name: 'Explore', slots: 2, exploration: { epsilon: EPSILON, pool: POOL } },
        { id: 'split', name: 'Split', slots: 2, holdout: 0.5 },
        { id: 'gsp', name: 'Second price', slots: 3 },
      ],
    },
    { kind: 'rule', id: 'dairy-bakery', tenant: T, when_departments: ['dairy_eggs'], offer_categories: ['bakery'] },
  ];
  const campaign = (id: string, advertiser: string, extra: object) => ({ kind: 'campaign', id, tenant: T, advertiser, name: id, status: 'active', ...FLIGHT, budget: {}, ...extra });
  const offer = (id: string, c: string, advertiser: string, category: string, extra: object = {}) => ({
    kind: 'offer',
    id,
    tenant: T,
    advertiser,
    campaign: c,
    category,
    title: id,
    creative: { headline: id },
    status: 'active',
    ...FLIGHT,
    ...extra,
  });
  lines.push(campaign('budget-cpm', 'adv-budget', { budget: { total: BUDGET_TOTAL }, pacing: 'asap', bid: { type: 'cpm', amount: 50 }, targeting: { placements: ['checkout'] } }));
  for (let i = 0; i < 3; i++) lines.push(offer(`budget-${i}`, 'budget-cpm', 'adv-budget', ['produce/fruit', 'dairy_eggs/milk', 'baby/wipes'][i]));
  lines.push(campaign('capped', 'adv-capped', { bid: { type: 'cpc', amount: 8 }, frequency_caps: [{ scope: 'campaign', max: 2, window: '1h' }], targeting: { placements: ['explore', 'split', 'gsp'] } }));
  for (let i = 0; i < 3; i++) lines.push(offer(`capped-${i}`, 'capped', 'adv-capped', ['baby/diapers', 'snacks/chips', 'produce/fruit'][i]));
  lines.push(campaign('app-only', 'adv-app', { bid: { type: 'cpc', amount: 50 }, targeting: { channels: ['app'], placements: ['gsp'] } }));
  lines.push(offer('app-0', 'app-only', 'adv-app', 'baby/diapers'));
  const cats = ['bakery/bread', 'bakery/cake', 'snacks/chips', 'baby/food', 'produce/veg', 'beverages/soda', 'pantry/pasta', 'household/paper'];
  for (let a = 0; a < 8; a++) {
    lines.push(campaign(`fill-${a}`, `adv-${a}`, { bid: { type: 'cpc', amount: 0.3 + 0.1 * a } }));
    for (let i = 0; i < 4; i++) lines.push(offer(`fill-${a}-${i}`, `fill-${a}`, `adv-${a}`, cats[(a + i) % cats.length]));
  }
  return lines.map((l) => JSON.stringify(l)).join('\n');
}

let seq = 0;
function request(placement: string, overrides: Record<string, unknown> = {}, txn: Record<string, unknown> = {}) {
  seq++;
  return {
    tenant: T,
    placement,
    k: 3,
    txn: {
      id: `t-${seq}`,
      ts: Date.UTC(2026, 10, 27, 18, 30),
      currency: 'USD',
      channel: 'web' as const,
      country: 'US',
      items: [
        { sku: 'diapers', category: 'baby/diapers', price: 24.99, quantity: 1 },
        { sku: 'milk', category: 'dairy_eggs/milk', price: 3.79, quantity: 1 },
      ],
      total: 28.78,
      ...txn,
    },
    ...overrides,
  };
}

function decision(a: unknown): DecisionAnswer {
  const d = a as DecisionAnswer;
  if (d.type !== 'decision') throw new Error(`expected a decision, got ${JSON.stringify(a)}`);
  return d;
}

const BIDS = new Map<string, number>();
function bidOf(o: RankedOffer): number {
  return BIDS.get(o.campaign_id) ?? NaN;
}

describe('delivery on a real server', () => {
  let t: TestServer;
  let c: DecisionClient;

  beforeAll(async () => {
    for (const l of catalog().split('\n')) {
      const r = JSON.parse(l) as { kind: string; id: string; bid?: { amount: number } };
      if (r.kind === 'campaign' && r.bid) BIDS.set(r.id, r.bid.amount);
    }
    t = await startTestServer({ catalog: catalog(), tenants: [T], overrides: { poolSize: 2 } });
    c = await t.connect(T);
  }, 60_000);

  afterAll(async () => {
    await c?.close();
    await t?.close();
  });

  it('targets by channel and placement, and shows at most one offer per advertiser', async () => {
    for (let i = 0; i < 20; i++) {
      const web = decision(await c.decide(request('gsp')));
      expect(web.policy).toBe('ai');
      expect(web.offers.some((o) => o.campaign_id === 'app-only')).toBe(false);
      // budget-cpm targets the checkout placement only.
      expect(web.offers.some((o) => o.campaign_id === 'budget-cpm')).toBe(false);
      const advertisers = web.offers.map((o) => o.advertiser_id);
      expect(new Set(advertisers).size).toBe(advertisers.length);
    }
    const app = decision(await c.decide(request('gsp', {}, { channel: 'app' })));
    expect(app.offers.map((o) => o.campaign_id)).toContain('app-only');
  });

  it('prices by second price: each slot pays what keeps it above the next, never above its bid', async () => {
    let checked = 0;
    for (let i = 0; i < 20; i++) {
      const d = decision(await c.decide(request('gsp', { k: 3 })));
      const o = d.offers;
      for (let j = 0; j < o.length; j++) {
        expect(o[j].propensity).toBe(1);
        expect(o[j].price).toBeGreaterThan(0);
        expect(o[j].price).toBeLessThanOrEqual(bidOf(o[j]) + 1e-9);
        if (j + 1 < o.length) {
          // No offer here has delivery history, so every value carries the same cold-start factor, which
          // cancels: price_j = bid_j x ev_{j+1} / ev_j.
          expect(o[j].price).toBeCloseTo((bidOf(o[j]) * o[j + 1].ev) / o[j].ev, 5);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('enforces a frequency cap per buyer key (campaign: 2 per hour)', async () => {
    let shownCapped = 0;
    for (let i = 0; i < 8; i++) {
      const d = decision(await c.decide(request('gsp', { buyer: 'buyer-capped' })));
      if (d.offers.some((o) => o.campaign_id === 'capped')) shownCapped++;
    }
    expect(shownCapped).toBe(2);
    // Another buyer is not capped by the first one's history.
    const other = decision(await c.decide(request('gsp', { buyer: 'buyer-fresh' })));
    expect(other.offers.some((o) => o.campaign_id === 'capped')).toBe(true);
  });

  it('logs exact propensities for an exploring placement, consistent with epsilon-greedy', async () => {
    // Slot 1: (1 - eps) + eps/|P| for the greedy pick, eps/|P| for an explored one, |P| = min(pool, candidates).
    const allowed = new Set<number>();
    for (let m = 1; m <= POOL; m++) {
      allowed.add(Number((1 - EPSILON + EPSILON / m).toFixed(9)));
      allowed.add(Number((EPSILON / m).toFixed(9)));
    }
    let explored = 0;
    const n = 200;
    for (let i = 0; i < n; i++) {
      const d = decision(await c.decide(request('explore', { k: 2 })));
      expect(d.offers.length).toBeGreaterThan(0);
      for (const o of d.offers) {
        expect(o.propensity).toBeGreaterThan(0);
        expect(o.propensity).toBeLessThanOrEqual(1);
      }
      const p1 = Number(d.offers[0].propensity.toFixed(9));
      expect(allowed.has(p1)).toBe(true);
      if (p1 < 1 - EPSILON) explored++;
    }
    // An explored first slot happens with probability eps x (1 - 1/|P|) = 0.375 with |P| = 4.
    expect(explored / n).toBeGreaterThan(0.2);
    expect(explored / n).toBeLessThan(0.55);
  });

  it('splits the holdout deterministically by buyer, and the rules arm shows the rule\'s categories by bid', async () => {
    const arms = new Map<string, string>();
    let rules = 0;
    const buyers = 200;
    for (let i = 0; i < buyers; i++) {
      const d = decision(await c.decide(request('split', { buyer: `b-${i}`, k: 2 })));
      arms.set(`b-${i}`, d.policy);
      if (d.policy === 'rules') {
        rules++;
        // The basket has dairy: the rule maps it to bakery; highest bids first.
        expect(d.offers.length).toBeGreaterThan(0);
        for (const o of d.offers) expect(['fill-0', 'fill-1', 'fill-6', 'fill-7']).toContain(o.campaign_id);
        const bids = d.offers.map(bidOf);
        expect([...bids].sort((a, b) => b - a)).toEqual(bids);
      }
    }
    const sd = Math.sqrt(0.25 / buyers);
    expect(Math.abs(rules / buyers - 0.5)).toBeLessThan(4 * sd);
    for (let i = 0; i < 20; i++) {
      const d = decision(await c.decide(request('split', { buyer: `b-${i}`, k: 2 })));
      expect(d.policy).toBe(arms.get(`b-${i}`));
    }
  });

  it('bills each shown offer once per kind: a repeated click under another event id is not charged', async () => {
    const d = decision(await c.decide(request('gsp', { buyer: 'clicker' })));
    const o = d.offers.find((x) => x.bid_type === 'cpc');
    expect(o).toBeDefined();
    const ev = (id: string, kind: 'impression' | 'click') => c.event({ event_id: id, decision_id: d.decision_id, offer_id: o!.offer_id, kind });
    expect(await ev('i1', 'impression')).toMatchObject({ type: 'ack', status: 'accepted' });
    expect(await ev('c1', 'click')).toMatchObject({ type: 'ack', status: 'accepted' });
    expect(await ev('c2', 'click')).toMatchObject({ type: 'ack', status: 'accepted' });
    clickCharge = { campaign: o!.campaign_id, price: o!.price };
  });

  let clickCharge: { campaign: string; price: number } | null = null;

  it('stops a campaign at its budget under concurrent load across workers; billed spend never exceeds it', async () => {
    const conns = await Promise.all([0, 1, 2, 3].map(() => t.connect(T)));
    let budgetShown = 0;
    let billedImpressions = 0;
    const perConn = 60;
    await Promise.all(
      conns.map(async (cn, ci) => {
        // Pipelined: 6 requests in flight per connection.
        for (let wave = 0; wave < perConn / 6; wave++) {
          const ds = await Promise.all(Array.from({ length: 6 }, () => cn.decide(request('checkout', { buyer: `load-${ci}-${wave}` }))));
          for (const a of ds) {
            const d = decision(a);
            const acks = await Promise.all(
              d.offers.map((o, j) => cn.event({ event_id: `imp-${j}`, decision_id: d.decision_id, offer_id: o.offer_id, kind: 'impression' })),
            );
            for (const ack of acks) expect(ack).toMatchObject({ type: 'ack', status: 'accepted' });
            for (const o of d.offers) {
              if (o.campaign_id === 'budget-cpm') {
                budgetShown++;
                billedImpressions++;
                // First price is not set here: gsp, so the price is at most the bid.
                expect(o.price).toBeLessThanOrEqual(50);
              }
            }
          }
        }
      }),
    );
    expect(budgetShown).toBeGreaterThan(0);
    // The budget is spent: after the workers' refresh, no decision shows the campaign any more.
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 30; i++) {
      const d = decision(await conns[0].decide(request('checkout')));
      expect(d.offers.some((o) => o.campaign_id === 'budget-cpm')).toBe(false);
    }
    await Promise.all(conns.map((cn) => cn.close()));

    // The report, over HTTP with the tenant's key: both arms served, and the campaign's impressions (counted
    // in the event transactions) equal the impressions sent. Decision counts flush every second.
    await new Promise((r) => setTimeout(r, 1200));
    const res = await fetch(`${t.http}/v1/report?tenant=${T}&format=json`, { headers: { authorization: `Bearer ${t.keys[T]}` } });
    expect(res.status).toBe(200);
    const report = (await res.json()) as { tenants: { tenant: string; holdout: { ai: number; rules: number }; campaigns: { arm: string; campaign: string; impressions: number; clicks: number }[] }[] };
    const mine = report.tenants.find((x) => x.tenant === T)!;
    expect(mine.holdout.ai).toBeGreaterThan(0);
    expect(mine.holdout.rules).toBeGreaterThan(0);
    const budgetRows = mine.campaigns.filter((r) => r.campaign === 'budget-cpm');
    expect(budgetRows.reduce((n, r) => n + r.impressions, 0)).toBe(billedImpressions);
    const clickedRows = mine.campaigns.filter((r) => r.campaign === clickCharge!.campaign);
    // One click counted, though two were accepted.
    expect(clickedRows.reduce((n, r) => n + r.clicks, 0)).toBe(1);
    const other = await fetch(`${t.http}/v1/report?tenant=someone-else`, { headers: { authorization: `Bearer ${t.keys[T]}` } });
    expect(other.status).toBe(403);

    await c.close();
    await t.server.close();

    // Read the durable ledger after shutdown, as a restarted server would.
    const storage = openStorage(t.dataDir);
    try {
      const ledger = new SpendLedger(storage.root, CampaignTable.create({ capacity: 64 }), () => undefined, { refreshIntervalMs: 0 });
      const spend = ledger.spendOf(T, 'budget-cpm');
      expect(spend).toBeDefined();
      expect(spend!.spentTotal).toBeLessThanOrEqual(BUDGET_TOTAL);
      expect(spend!.spentTotal).toBeGreaterThan(BUDGET_TOTAL - 0.05 - 1e-9);
      // Over-delivery: impressions served before the workers saw the cut-off, bounded by what was in flight
      // (4 connections x 6 pipelined x 1 offer of the campaign per answer), never billed.
      expect(spend!.impressions).toBe(billedImpressions);
      expect(spend!.unbilled).toBeLessThanOrEqual(4 * 6 * 0.05 + 1e-9);
      const clicked = ledger.spendOf(T, clickCharge!.campaign);
      expect(clicked!.clicks).toBe(1);
      expect(clicked!.spentTotal).toBeCloseTo(clickCharge!.price, 9);
      ledger.close();
    } finally {
      await storage.close();
    }
  }, 120_000);
});
