import { describe, expect, it } from 'vitest';
import { generateDemoCatalog } from '../src/catalog/demo.js';
import { parseCatalogJsonl } from '../src/catalog/jsonl.js';
import { DEPARTMENTS, OTHER_DEPARTMENT, departmentIndex } from '../src/features/taxonomy.js';

const NOW = Date.UTC(2025, 5, 15, 14, 30);

function parse(text: string) {
  const r = parseCatalogJsonl(text, NOW);
  if (!r.ok) throw new Error(r.errors.slice(0, 5).map((e) => `line ${e.line}: ${e.field}: ${e.message}`).join('\n'));
  return r;
}

describe('demo catalog', () => {
  it('is deterministic for a seed (and the UTC day), and differs across seeds', () => {
    const a = generateDemoCatalog({ seed: 7, now: NOW });
    expect(generateDemoCatalog({ seed: 7, now: NOW + 3600_000 })).toBe(a);
    expect(generateDemoCatalog({ seed: 8, now: NOW })).not.toBe(a);
  });

  it('defaults: 2 tenants, 4,000 offers, valid under the loader', () => {
    const r = parse(generateDemoCatalog({ now: NOW }));
    expect(r.offers).toHaveLength(4000);
    expect(r.tenants.map((t) => [t.id, t.currency, t.placements.map((p) => `${p.id}:${p.slots}`)])).toEqual([
      ['freshmart', 'USD', ['checkout:3', 'order_confirmation:5']],
      ['hometown', 'USD', ['checkout:4']],
    ]);
    const perTenant = new Map<string, number>();
    for (const o of r.offers) perTenant.set(o.tenant, (perTenant.get(o.tenant) ?? 0) + 1);
    expect(perTenant.get('freshmart')).toBeGreaterThan(perTenant.get('hometown') ?? 0);
  });

  it('looks like a retail catalog: many advertisers, campaigns, mixed bids, live flights', () => {
    const { offers } = parse(generateDemoCatalog({ seed: 3, now: NOW }));
    const advertisers = new Set(offers.map((o) => o.advertiser));
    const campaigns = new Set(offers.map((o) => o.campaign));
    expect(advertisers.size).toBeGreaterThan(80);
    expect(campaigns.size).toBeGreaterThan(advertisers.size);
    const byType = { cpc: 0, cpm: 0, cpa: 0 };
    for (const o of offers) {
      byType[o.bid.type]++;
      const [lo, hi] = o.bid.type === 'cpc' ? [0.2, 3] : o.bid.type === 'cpm' ? [2, 25] : [2, 40];
      expect(o.bid.amount).toBeGreaterThanOrEqual(lo);
      expect(o.bid.amount).toBeLessThanOrEqual(hi);
      expect(o.creative).toMatchObject({ headline: expect.any(String), body: expect.any(String), cta: expect.any(String) });
      expect(String(o.creative.image_url)).toMatch(/^https:\/\/cdn\.example\//);
      expect(String(o.creative.landing_url)).toMatch(/^https:\/\//);
      expect(Buffer.byteLength(JSON.stringify(o.creative))).toBeLessThan(1024);
    }
    expect(byType.cpc / offers.length).toBeGreaterThan(0.6);
    expect(byType.cpm).toBeGreaterThan(0);
    expect(byType.cpa).toBeGreaterThan(0);
    const live = offers.filter((o) => o.status === 'active' && o.start <= NOW && NOW < o.end).length;
    expect(live / offers.length).toBeGreaterThan(0.75);
    expect(offers.some((o) => o.status === 'paused')).toBe(true);
    expect(offers.some((o) => o.status === 'active' && o.end <= NOW)).toBe(true); // expired
    expect(offers.filter((o) => o.price !== undefined).length / offers.length).toBeGreaterThan(0.9);
    expect(offers.some((o) => /^Save \$\d/.test(o.title))).toBe(true);
  });

  it('maps categories onto the taxonomy: many departments, none to "other"', () => {
    const { offers } = parse(generateDemoCatalog({ seed: 5, now: NOW }));
    const depts = new Set<number>();
    for (const o of offers) {
      expect(o.category.split('/')).toHaveLength(3);
      depts.add(departmentIndex(o.category));
    }
    expect(depts.has(OTHER_DEPARTMENT)).toBe(false);
    expect(depts.size).toBeGreaterThanOrEqual(DEPARTMENTS.length - 2);
  });

  it('scales to 10,000 offers for one tenant', () => {
    const { tenants, offers } = parse(generateDemoCatalog({ offers: 10_000, tenants: 1, seed: 1, now: NOW }));
    expect(tenants.map((t) => t.id)).toEqual(['freshmart']);
    expect(offers).toHaveLength(10_000);
    expect(new Set(offers.map((o) => o.id)).size).toBe(10_000);
  });

  it('generates more tenants with distinct ids and supported currencies', () => {
    const { tenants, offers } = parse(generateDemoCatalog({ offers: 700, tenants: 7, now: NOW }));
    expect(tenants).toHaveLength(7);
    expect(offers).toHaveLength(700);
    expect(new Set(offers.map((o) => o.tenant)).size).toBe(7);
  });

  it('defines a campaign record for every campaign, with budgets no 2-minute benchmark can spend, but a few small ones', () => {
    const text = generateDemoCatalog({ now: NOW });
    const r = parse(text);
    const recordIds = text.split('\n').filter((l) => l.startsWith('{"kind":"campaign"')).map((l) => (JSON.parse(l) as { id: string }).id);
    // No implied campaign: every campaign in the snapshot comes from a record.
    expect(new Set(recordIds)).toEqual(new Set(r.campaigns.map((c) => c.id)));
    const byKey = new Map(r.campaigns.map((c) => [`${c.tenant}/${c.id}`, c]));
    for (const o of r.offers) {
      const c = byKey.get(`${o.tenant}/${o.campaign}`);
      expect(c?.advertiser).toBe(o.advertiser);
    }
    // 120 s x 5,000 decisions/s x up to 5 slots at the largest CPM (25/1000) is 75,000 of spend, if one
    // campaign won every slot. Only the few deliberately small campaigns have a daily budget; every other one
    // has a total of millions and a flight centred on today, so even pacing plans half of it as spent already.
    const small = r.campaigns.filter((c) => c.budget.daily !== undefined);
    expect(small.length).toBeGreaterThanOrEqual(2);
    expect(small.length).toBeLessThanOrEqual(12);
    for (const c of small) expect(c.budget.daily).toBeLessThanOrEqual(100);
    for (const c of r.campaigns.filter((x) => x.budget.daily === undefined)) {
      expect(c.budget.total).toBeGreaterThanOrEqual(1_000_000);
      expect(c.start).toBeLessThan(NOW - 150 * 86_400_000);
      expect(c.end).toBeGreaterThan(NOW + 150 * 86_400_000);
    }
    for (const c of r.campaigns) expect(c.budget.total === undefined || c.budget.total >= (c.budget.daily ?? 0)).toBe(true);
    expect(r.campaigns.filter((c) => c.frequencyCaps.length > 0).length).toBeGreaterThanOrEqual(4);
    const targeted = r.campaigns.filter((c) => Object.keys(c.targeting).length > 0);
    expect(targeted.length).toBeGreaterThanOrEqual(3);
    expect(targeted.length).toBeLessThanOrEqual(16);
    expect(r.campaigns.some((c) => c.pacing === 'asap')).toBe(true);
    expect(r.campaigns.some((c) => c.pacing === 'even')).toBe(true);
    // Some offers omit their bid and take their campaign's default.
    const noBid = text.split('\n').filter((l) => l.startsWith('{"kind":"offer"') && !l.includes('"bid":'));
    expect(noBid.length).toBeGreaterThan(0);
    const offers = new Map(r.offers.map((o) => [o.id, o]));
    for (const line of noBid.slice(0, 20)) {
      const o = offers.get((JSON.parse(line) as { id: string }).id);
      expect(o?.bid).toEqual(byKey.get(`${o?.tenant}/${o?.campaign}`)?.bid);
    }
  });

  it('has rules and placement settings per tenant', () => {
    const r = parse(generateDemoCatalog({ now: NOW }));
    for (const t of r.tenants) {
      const rules = r.rules.filter((x) => x.tenant === t.id);
      expect(rules.length).toBeGreaterThanOrEqual(5);
      const checkout = t.placements.find((p) => p.id === 'checkout');
      expect(checkout).toMatchObject({ holdout: 0.1, exploration: { epsilon: 0.05, pool: 10 } });
      expect(checkout?.floorCpm).toBeGreaterThan(0);
      expect(checkout?.floorCpm).toBeLessThanOrEqual(1);
      expect(checkout?.blockedCategories).toHaveLength(1);
    }
    expect(r.rules).toContainEqual({ id: 'dairy-to-bakery-produce', tenant: 'freshmart', whenDepartments: ['dairy_eggs'], offerCategories: ['bakery', 'produce'] });
    // Every rule's categories lead somewhere: some offer of the tenant matches each rule.
    for (const rule of r.rules) {
      const match = r.offers.some((o) => o.tenant === rule.tenant && rule.offerCategories.some((c) => o.category === c || o.category.startsWith(`${c}/`)));
      expect(match, `${rule.tenant}/${rule.id}`).toBe(true);
    }
  });
});

