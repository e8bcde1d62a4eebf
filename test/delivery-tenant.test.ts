/**
 * A worker's per-tenant delivery state (workers/inference/tenant-delivery.ts) over a real shared campaign
 * table: budgets cut a campaign's offers out of the eligible rows, pacing throttles draw per request, and a
 * daily budget spent yesterday serves again after midnight without any new charge moving the table.
 */
import { describe, expect, it } from 'vitest';
import { parseCatalogJsonl } from '../src/catalog/jsonl.js';
import { CampaignTable, utcDay } from '../src/delivery/campaign-table.js';
import { rowsOf } from '../src/delivery/bitset.js';
import { bidScale } from '../src/ranking/bid-scale.js';
import type { RequestContext } from '../src/delivery/types.js';
import { TenantDelivery } from '../workers/inference/tenant-delivery.js';

const FLIGHT = { start: '2020-01-01', end: '2090-01-01' };
function catalog() {
  const lines = [
    { kind: 'tenant', id: 't', name: 'T', currency: 'USD', placements: [{ id: 'p', name: 'P', slots: 3 }] },
    { kind: 'campaign', id: 'daily', tenant: 't', advertiser: 'a1', name: 'Daily', status: 'active', ...FLIGHT, budget: { daily: 10 }, pacing: 'asap', bid: { type: 'cpc', amount: 1 } },
    { kind: 'campaign', id: 'paced', tenant: 't', advertiser: 'a2', name: 'Paced', status: 'active', ...FLIGHT, budget: { daily: 1000 }, bid: { type: 'cpc', amount: 1 } },
    { kind: 'offer', id: 'o1', tenant: 't', advertiser: 'a1', campaign: 'daily', category: 'bakery/bread', title: 'x', creative: {}, status: 'active', ...FLIGHT },
    { kind: 'offer', id: 'o2', tenant: 't', advertiser: 'a2', campaign: 'paced', category: 'snacks/chips', title: 'y', creative: {}, status: 'active', ...FLIGHT },
  ];
  const parsed = parseCatalogJsonl(lines.map((l) => JSON.stringify(l)).join('\n'));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed;
}

function ctx(now: number): RequestContext {
  return { placement: 'p', channel: 0, country: 'US', basketDepartments: 0, basketTotal: 20, priceTier: 1, hour: 12, weekday: 3, now };
}

describe('TenantDelivery', () => {
  const day = Date.UTC(2026, 10, 29, 12);
  const setup = () => {
    const c = catalog();
    const table = CampaignTable.create({ capacity: 16 });
    const scale = new Float32Array(c.offers.map((o) => bidScale(o.bid)));
    const d = new TenantDelivery(c.tenants[0], c.offers, c.campaigns, c.rules, scale, table);
    return { c, table, d };
  };

  it('cuts a campaign whose daily budget is spent, and serves it again the next UTC day', () => {
    const { table, d } = setup();
    d.refresh(day);
    expect(rowsOf(d.eligibleRows(ctx(day), null, () => 0))).toEqual([0, 1]);
    // Yesterday's spend reaches the daily budget (as the ledger writes it after a commit).
    const slot = table.slotOf('t', 'daily');
    table.writeSpend(slot, { spentTotal: 10, spentDay: 10, day: utcDay(day), impressions: 100, clicks: 10, conversions: 0, unbilled: 0 });
    d.refresh(day + 20);
    expect(rowsOf(d.eligibleRows(ctx(day + 20), null, () => 0))).toEqual([1]);
    // Midnight passes; nothing is charged, so the table's epoch does not move.
    const tomorrow = Date.UTC(2026, 10, 30, 0, 0, 1);
    d.refresh(tomorrow);
    expect(rowsOf(d.eligibleRows(ctx(tomorrow), null, () => 0))).toEqual([0, 1]);
  });

  it('draws a paced campaign in with its throttle probability', () => {
    const { table, d } = setup();
    table.writeThrottle(table.slotOf('t', 'paced'), 0.25);
    d.refresh(day);
    let shown = 0;
    let u = 0;
    // A deterministic uniform sequence: exactly a quarter of the draws fall below 0.25.
    const random = () => ((u++ % 100) + 0.5) / 100;
    for (let i = 0; i < 400; i++) if (rowsOf(d.eligibleRows(ctx(day), null, random)).includes(1)) shown++;
    expect(shown).toBe(100);
  });

  it('applies a buyer\'s caps from the served history', () => {
    const lines = [
      { kind: 'tenant', id: 't', name: 'T', currency: 'USD', placements: [{ id: 'p', name: 'P', slots: 3 }] },
      { kind: 'campaign', id: 'capped', tenant: 't', advertiser: 'a1', name: 'C', status: 'active', ...FLIGHT, budget: {}, bid: { type: 'cpc', amount: 1 }, frequency_caps: [{ scope: 'advertiser', max: 1, window: '1h' }] },
      { kind: 'offer', id: 'o1', tenant: 't', advertiser: 'a1', campaign: 'capped', category: 'bakery', title: 'x', creative: {}, status: 'active', ...FLIGHT },
      { kind: 'offer', id: 'o2', tenant: 't', advertiser: 'a1', campaign: 'capped', category: 'bakery', title: 'y', creative: {}, status: 'active', ...FLIGHT },
    ];
    const p = parseCatalogJsonl(lines.map((l) => JSON.stringify(l)).join('\n'));
    if (!p.ok) throw new Error('invalid');
    const d = new TenantDelivery(p.tenants[0], p.offers, p.campaigns, p.rules, new Float32Array([1, 1]), CampaignTable.create({ capacity: 16 }));
    d.refresh(day);
    const history = [{ offerId: 'o1', campaign: 'capped', advertiser: 'a1', ts: day - 60_000 }];
    expect(rowsOf(d.eligibleRows(ctx(day), history, () => 0))).toEqual([]);
    // Outside the window the cap no longer binds.
    expect(rowsOf(d.eligibleRows(ctx(day + 3_600_000), history, () => 0))).toEqual([0, 1]);
  });
});
