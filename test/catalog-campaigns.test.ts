/**
 * The delivery side of the catalog format: placement and tenant settings, campaign records, implied
 * campaigns, default bids and rules. Each validation rule has a failing case naming its exact field path.
 */
import { describe, expect, it } from 'vitest';
import { impliedCampaigns, parseCatalogJsonl, type CatalogIssue } from '../src/catalog/jsonl.js';
import { resolvePlacement } from '../src/catalog/schema.js';
import type { Campaign, Offer } from '../src/catalog/types.js';

const NOW = Date.UTC(2025, 5, 15, 12);

const tenant = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    kind: 'tenant',
    id: 'freshmart',
    name: 'FreshMart',
    currency: 'USD',
    placements: [
      { id: 'checkout', name: 'Checkout', slots: 3 },
      { id: 'confirmation', name: 'Confirmation', slots: 5 },
    ],
    ...over,
  });

const placement = (over: Record<string, unknown>) => tenant({ placements: [{ id: 'checkout', name: 'Checkout', slots: 3, ...over }] });

const offer = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    kind: 'offer',
    id: 'o1',
    tenant: 'freshmart',
    advertiser: 'acme',
    campaign: 'acme-spring',
    category: 'beverages/coffee/ground',
    title: 'Save $2 on Acme Cold Brew',
    creative: { headline: 'Save $2' },
    bid: { type: 'cpc', amount: 0.8 },
    status: 'active',
    start: '2025-06-01',
    end: '2025-07-01',
    ...over,
  });

const campaign = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    kind: 'campaign',
    id: 'acme-spring',
    tenant: 'freshmart',
    advertiser: 'acme',
    name: 'Acme spring',
    status: 'active',
    start: '2025-05-01',
    end: '2025-09-01',
    budget: { total: 5000, daily: 200 },
    ...over,
  });

const targeting = (t: Record<string, unknown>) => campaign({ targeting: t });
const cap = (c: Record<string, unknown>) => campaign({ frequency_caps: [{ scope: 'offer', max: 2, window: '1h', ...c }] });

const rule = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ kind: 'rule', id: 'r1', tenant: 'freshmart', when_departments: ['dairy_eggs'], offer_categories: ['bakery'], ...over });

function ok(lines: string[]) {
  const r = parseCatalogJsonl(lines.join('\n'), NOW);
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 1));
  return r;
}

function errorsOf(lines: string[]): CatalogIssue[] {
  const r = parseCatalogJsonl(lines.join('\n'), NOW);
  if (r.ok) throw new Error('expected the catalog to be refused');
  return r.errors;
}

function has(errors: CatalogIssue[], line: number, field: string, message?: RegExp): void {
  const hit = errors.find((e) => e.line === line && e.field === field && (message === undefined || message.test(e.message)));
  expect(hit, `no issue at line ${line} field "${field}" in ${JSON.stringify(errors, null, 1)}`).toBeDefined();
}

/** The one issue a single bad line (line 2, after a valid tenant) produces. */
function onlyIssue(line2: string, field: string, message?: RegExp, first: string = tenant()): void {
  const errors = errorsOf([first, line2]);
  has(errors, 2, field, message);
  expect(errors, JSON.stringify(errors)).toHaveLength(1);
}

describe('placement and tenant settings', () => {
  it('resolves every default when the file omits them', () => {
    const { tenants } = ok([tenant()]);
    expect(tenants[0].blockedAdvertisers).toEqual([]);
    expect(tenants[0].blockedCategories).toEqual([]);
    expect(tenants[0].placements[0]).toEqual({
      id: 'checkout',
      name: 'Checkout',
      slots: 3,
      floorCpm: 0,
      minRelevance: 0,
      pricing: 'gsp',
      exploration: { epsilon: 0, pool: 10 },
      categoryExclusivity: false,
      holdout: 0,
      blockedAdvertisers: [],
      blockedCategories: [],
    });
  });

  it('reads every setting into camelCase; exploration.pool defaults to 10', () => {
    const { tenants } = ok([
      tenant({
        blocked_advertisers: ['shady-co'],
        blocked_categories: ['alcohol', 'health/pain_relief'],
        placements: [
          {
            id: 'checkout',
            name: 'Checkout',
            slots: 3,
            floor_cpm: 1.5,
            min_relevance: 0.01,
            pricing: 'first',
            exploration: { epsilon: 0.05 },
            category_exclusivity: true,
            holdout: 0.1,
            blocked_advertisers: ['acme'],
            blocked_categories: ['beverages/energy'],
          },
          { id: 'other', name: 'Other', slots: 2, exploration: { epsilon: 0.5, pool: 50 } },
        ],
      }),
    ]);
    const t = tenants[0];
    expect(t.blockedAdvertisers).toEqual(['shady-co']);
    expect(t.blockedCategories).toEqual(['alcohol', 'health/pain_relief']);
    expect(t.placements[0]).toEqual({
      id: 'checkout',
      name: 'Checkout',
      slots: 3,
      floorCpm: 1.5,
      minRelevance: 0.01,
      pricing: 'first',
      exploration: { epsilon: 0.05, pool: 10 },
      categoryExclusivity: true,
      holdout: 0.1,
      blockedAdvertisers: ['acme'],
      blockedCategories: ['beverages/energy'],
    });
    expect(t.placements[1].exploration).toEqual({ epsilon: 0.5, pool: 50 });
  });

  it.each([
    [{ floor_cpm: -0.01 }, 'placements[0].floor_cpm', /greater or equal to 0/],
    [{ min_relevance: 1.5 }, 'placements[0].min_relevance', /less or equal to 1/],
    [{ pricing: 'second' }, 'placements[0].pricing', /"gsp", "first"/],
    [{ exploration: { epsilon: 0.6 } }, 'placements[0].exploration.epsilon', /less or equal to 0.5/],
    [{ exploration: { epsilon: 0.1, pool: 1 } }, 'placements[0].exploration.pool', /greater or equal to 2/],
    [{ exploration: { epsilon: 0.1, pool: 51 } }, 'placements[0].exploration.pool', /less or equal to 50/],
    [{ exploration: { epsilon: 0.1, pool: 2.5 } }, 'placements[0].exploration.pool', /integer/],
    [{ exploration: { pool: 5 } }, 'placements[0].exploration.epsilon', /missing/],
    [{ exploration: { epsilon: 0.1, rate: 1 } }, 'placements[0].exploration.rate', /unknown field/],
    [{ category_exclusivity: 'yes' }, 'placements[0].category_exclusivity', /boolean/],
    [{ holdout: 1.2 }, 'placements[0].holdout', /less or equal to 1/],
    [{ holdout: -0.1 }, 'placements[0].holdout', /greater or equal to 0/],
    [{ blocked_advertisers: ['has space'] }, 'placements[0].blocked_advertisers[0]', /whitespace/],
    [{ blocked_categories: [''] }, 'placements[0].blocked_categories[0]', /length/],
    [{ blocked_categories: 'alcohol' }, 'placements[0].blocked_categories', /array/],
  ])('refuses placement setting %j at %s', (over, field, message) => {
    const errors = errorsOf([placement(over)]);
    has(errors, 1, field, message);
    expect(errors).toHaveLength(1);
  });

  it('refuses bad tenant-level blocked lists with their path', () => {
    const errors = errorsOf([tenant({ blocked_advertisers: [1] }), tenant({ id: 't2', blocked_categories: [''] })]);
    has(errors, 1, 'blocked_advertisers[0]', /string/);
    has(errors, 2, 'blocked_categories[0]', /length/);
  });

  it('resolvePlacement fills defaults for code that builds catalogs directly, with fresh arrays', () => {
    const a = resolvePlacement({ id: 'p', name: 'P', slots: 2 });
    const b = resolvePlacement({ id: 'p', name: 'P', slots: 2 });
    expect(a).toMatchObject({ floorCpm: 0, pricing: 'gsp', exploration: { epsilon: 0, pool: 10 }, holdout: 0 });
    a.blockedCategories.push('x');
    expect(b.blockedCategories).toEqual([]);
  });
});

describe('campaign records', () => {
  it('reads a full record: times in ms, windows in ms, targeting in camelCase, defaults filled', () => {
    const r = ok([
      tenant(),
      campaign({
        bid: { type: 'cpm', amount: 4 },
        pacing: 'asap',
        frequency_caps: [
          { scope: 'offer', max: 2, window: '30m' },
          { scope: 'campaign', max: 3, window: '12h' },
          { scope: 'advertiser', max: 5, window: '7d' },
          { scope: 'offer', max: 1, window_ms: 90_000 },
        ],
        targeting: {
          placements: ['checkout'],
          channels: ['app', 'web'],
          countries: ['US', 'CA'],
          basket_departments_any: ['dairy_eggs', 'bakery'],
          basket_departments_none: ['baby'],
          basket_min: 10,
          basket_max: 200,
          price_tiers: ['mid', 'premium'],
          hours: [0, 12, 23],
          weekdays: [0, 6],
        },
      }),
      campaign({ id: 'plain', budget: {} }),
    ]);
    const c = r.campaigns.find((x) => x.id === 'acme-spring');
    expect(c).toEqual({
      id: 'acme-spring',
      tenant: 'freshmart',
      advertiser: 'acme',
      name: 'Acme spring',
      status: 'active',
      start: Date.UTC(2025, 4, 1),
      end: Date.UTC(2025, 8, 1),
      budget: { total: 5000, daily: 200 },
      bid: { type: 'cpm', amount: 4 },
      pacing: 'asap',
      frequencyCaps: [
        { scope: 'offer', max: 2, windowMs: 30 * 60_000 },
        { scope: 'campaign', max: 3, windowMs: 12 * 3_600_000 },
        { scope: 'advertiser', max: 5, windowMs: 7 * 86_400_000 },
        { scope: 'offer', max: 1, windowMs: 90_000 },
      ],
      targeting: {
        placements: ['checkout'],
        channels: ['app', 'web'],
        countries: ['US', 'CA'],
        basketDepartmentsAny: ['dairy_eggs', 'bakery'],
        basketDepartmentsNone: ['baby'],
        basketMin: 10,
        basketMax: 200,
        priceTiers: ['mid', 'premium'],
        hours: [0, 12, 23],
        weekdays: [0, 6],
      },
    } satisfies Campaign);
    // A record with no offers is kept; an unlimited budget is {}; pacing defaults to even; no bid key at all.
    const plain = r.campaigns.find((x) => x.id === 'plain');
    expect(plain).toMatchObject({ budget: {}, pacing: 'even', frequencyCaps: [], targeting: {} });
    expect(plain && 'bid' in plain).toBe(false);
  });

  it('sorts campaigns and rules by (tenant, id) in code-unit order', () => {
    const r = ok([
      tenant({ id: 'zeta' }),
      tenant({ id: 'alpha' }),
      campaign({ id: 'b', tenant: 'zeta' }),
      campaign({ id: 'a', tenant: 'zeta' }),
      campaign({ id: 'c', tenant: 'alpha' }),
      campaign({ id: 'B', tenant: 'alpha' }),
      rule({ id: 'x', tenant: 'zeta' }),
      rule({ id: 'y', tenant: 'alpha' }),
      rule({ id: 'x', tenant: 'alpha' }),
    ]);
    expect(r.campaigns.map((c) => `${c.tenant}/${c.id}`)).toEqual(['alpha/B', 'alpha/c', 'zeta/a', 'zeta/b']);
    expect(r.rules.map((x) => `${x.tenant}/${x.id}`)).toEqual(['alpha/x', 'alpha/y', 'zeta/x']);
  });

  it('refuses a duplicate campaign id at the later line, naming the first, across tenants too', () => {
    const errors = errorsOf([tenant(), tenant({ id: 't2' }), campaign(), campaign({ tenant: 't2' })]);
    has(errors, 4, 'id', /duplicate campaign id \(first defined on line 3\)/);
    expect(errors).toHaveLength(1);
  });

  it('refuses a campaign whose tenant is not in the file', () => {
    onlyIssue(campaign({ tenant: 'ghost' }), 'tenant', /"ghost" is not defined/);
  });

  it('checks ids like offer ids', () => {
    onlyIssue(campaign({ id: 'has space' }), 'id', /whitespace/);
    onlyIssue(campaign({ advertiser: '' }), 'advertiser', /length/);
  });

  it.each([
    [{ budget: { total: 0 } }, 'budget.total', /greater than 0/],
    [{ budget: { daily: -5 } }, 'budget.daily', /greater than 0/],
    [{ budget: { total: '100' } }, 'budget.total', /number/],
    [{ budget: { total: 100, daily: 101 } }, 'budget.daily', /at most budget.total \(100\)/],
    [{ budget: { weekly: 5 } }, 'budget.weekly', /unknown field/],
    [{ budget: undefined }, 'budget', /missing/],
    [{ status: 'live' }, 'status', /"active", "paused", "archived"/],
    [{ pacing: 'fast' }, 'pacing', /"even", "asap"/],
    [{ bid: { type: 'cpc', amount: 0 } }, 'bid.amount', /greater than 0/],
    [{ name: '' }, 'name', /length/],
    [{ start: '2025-09-01', end: '2025-05-01' }, 'end', /after start/],
    [{ start: 'yesterday' }, 'start', /ISO-8601/],
    [{ end: 1_800_000_000 }, 'end', /seconds instead of milliseconds/],
    [{ end: undefined }, 'end', /missing/],
    [{ extra: 1 }, 'extra', /unknown field/],
  ])('refuses campaign %j at %s', (over, field, message) => {
    onlyIssue(campaign(over), field, message);
  });

  it.each([
    [{ scope: 'buyer' }, 'frequency_caps[0].scope', /"offer", "campaign", "advertiser"/],
    [{ max: 0 }, 'frequency_caps[0].max', /greater or equal to 1/],
    [{ max: 1.5 }, 'frequency_caps[0].max', /integer/],
    [{ window: '5s' }, 'frequency_caps[0].window', /minutes, hours or days/],
    [{ window: '0h' }, 'frequency_caps[0].window', /minutes, hours or days/],
    [{ window: '1.5h' }, 'frequency_caps[0].window', /minutes, hours or days/],
    [{ window: '31d' }, 'frequency_caps[0].window', /between 1 minute and 30 days/],
    [{ window: '1h', window_ms: 3_600_000 }, 'frequency_caps[0].window_ms', /not both/],
    [{ window: undefined }, 'frequency_caps[0].window', /missing \(or give window_ms\)/],
    [{ window: undefined, window_ms: 10 }, 'frequency_caps[0].window_ms', /greater or equal to 60000/],
    [{ window: undefined, window_ms: 31 * 86_400_000 }, 'frequency_caps[0].window_ms', /less or equal to/],
    [{ per: 'day' }, 'frequency_caps[0].per', /unknown field/],
  ])('refuses frequency cap %j at %s', (over, field, message) => {
    onlyIssue(cap(over), field, message);
  });

  it('refuses more than 20 caps', () => {
    const caps = Array.from({ length: 21 }, () => ({ scope: 'offer', max: 1, window: '1h' }));
    onlyIssue(campaign({ frequency_caps: caps }), 'frequency_caps', /less or equal to 20/);
    expect(ok([tenant(), campaign({ frequency_caps: caps.slice(1) })]).campaigns[0].frequencyCaps).toHaveLength(20);
  });

  it.each([
    [{ placements: ['nowhere'] }, 'targeting.placements[0]', /placement "nowhere" is not defined for tenant "freshmart"/],
    [{ channels: ['tv'] }, 'targeting.channels[0]', /"web", "app", "in_store", "other"/],
    [{ countries: ['us'] }, 'targeting.countries[0]', /ISO 3166-1 alpha-2/],
    [{ countries: ['USA'] }, 'targeting.countries[0]', /ISO 3166-1 alpha-2/],
    [{ basket_departments_any: ['dairy'] }, 'targeting.basket_departments_any[0]', /must be one of "produce", "dairy_eggs"/],
    [{ basket_departments_none: ['produce', 'Produce'] }, 'targeting.basket_departments_none[1]', /must be one of/],
    [{ basket_min: 50, basket_max: 50 }, 'targeting.basket_max', /greater than targeting.basket_min \(50\)/],
    [{ basket_min: 80, basket_max: 50 }, 'targeting.basket_max', /greater than targeting.basket_min/],
    [{ basket_min: -1 }, 'targeting.basket_min', /greater or equal to 0/],
    [{ price_tiers: ['cheap'] }, 'targeting.price_tiers[0]', /"budget", "value", "mid", "premium"/],
    [{ hours: [24] }, 'targeting.hours[0]', /less or equal to 23/],
    [{ hours: [1.5] }, 'targeting.hours[0]', /integer/],
    [{ weekdays: [7] }, 'targeting.weekdays[0]', /less or equal to 6/],
    [{ weekdays: [-1] }, 'targeting.weekdays[0]', /greater or equal to 0/],
    [{ hours: [3, 3] }, 'targeting.hours', /twice/],
    [{ age: [18] }, 'targeting.age', /unknown field/],
  ])('refuses targeting %j at %s', (t, field, message) => {
    onlyIssue(targeting(t), field, message);
  });

  it.each(['placements', 'channels', 'countries', 'basket_departments_any', 'basket_departments_none', 'price_tiers', 'hours', 'weekdays'])(
    'refuses an empty targeting.%s: omit the field to not restrict',
    (key) => {
      onlyIssue(targeting({ [key]: [] }), `targeting.${key}`, /must not be empty; omit the field to not restrict/);
    },
  );

  it('checks targeted placements against a tenant defined later in the file', () => {
    expect(ok([targeting({ placements: ['confirmation'] }), tenant()]).campaigns[0].targeting.placements).toEqual(['confirmation']);
    const errors = errorsOf([targeting({ placements: ['checkout', 'nope'] }), tenant()]);
    expect(errors).toEqual([{ line: 1, field: 'targeting.placements[1]', message: 'placement "nope" is not defined for tenant "freshmart"' }]);
  });

  it('reports every problem of one campaign record at once', () => {
    const errors = errorsOf([
      tenant(),
      campaign({
        budget: { total: 10, daily: 20 },
        end: '2025-01-01',
        frequency_caps: [{ scope: 'offer', max: 0, window: '1h' }, { scope: 'offer', max: 1 }],
        targeting: { placements: ['nope'], hours: [], basket_min: 5, basket_max: 1 },
      }),
    ]);
    for (const field of [
      'budget.daily',
      'end',
      'frequency_caps[0].max',
      'frequency_caps[1].window',
      'targeting.placements[0]',
      'targeting.hours',
      'targeting.basket_max',
    ]) {
      has(errors, 2, field);
    }
  });
});

describe('offers and their campaigns', () => {
  it('an offer without a bid takes its campaign record\'s bid; its own bid overrides', () => {
    const r = ok([
      tenant(),
      offer({ id: 'a', bid: undefined }),
      offer({ id: 'b', bid: { type: 'cpa', amount: 9 } }),
      campaign({ bid: { type: 'cpc', amount: 1.25 } }), // after its offers: order does not matter
    ]);
    expect(r.offers.find((o) => o.id === 'a')?.bid).toEqual({ type: 'cpc', amount: 1.25 });
    expect(r.offers.find((o) => o.id === 'b')?.bid).toEqual({ type: 'cpa', amount: 9 });
    // The offer keeps its own flight; the campaign's is applied at serving time.
    expect(r.offers[0].start).toBe(Date.UTC(2025, 5, 1));
    expect(r.campaigns).toHaveLength(1);
  });

  it('refuses an offer without a bid when its campaign record has none', () => {
    const errors = errorsOf([tenant(), campaign(), offer({ bid: undefined })]);
    expect(errors).toEqual([
      { line: 3, field: 'bid', message: 'required field is missing: campaign "acme-spring" (line 2) defines no default bid' },
    ]);
  });

  it('refuses an offer without a bid whose campaign has no record', () => {
    onlyIssue(offer({ bid: undefined }), 'bid', /missing: campaign "acme-spring" has no campaign record/);
  });

  it('does not blame offers for a missing default bid when the campaign\'s own bid is the problem', () => {
    const errors = errorsOf([tenant(), campaign({ bid: { type: 'cpc', amount: -1 } }), offer({ bid: undefined })]);
    expect(errors).toEqual([expect.objectContaining({ line: 2, field: 'bid.amount' })]);
  });

  it('refuses an offer whose advertiser or tenant differs from its campaign record\'s', () => {
    const errors = errorsOf([tenant(), tenant({ id: 't2' }), campaign(), offer({ id: 'a', advertiser: 'other' }), offer({ id: 'b', tenant: 't2' })]);
    expect(errors).toEqual([
      { line: 4, field: 'advertiser', message: 'advertiser "other" differs from advertiser "acme" of campaign "acme-spring" (line 3)' },
      { line: 5, field: 'tenant', message: 'tenant "t2" differs from tenant "freshmart" of campaign "acme-spring" (line 3)' },
    ]);
  });

  it('implies a campaign for offers naming one without a record: active, unlimited, asap, flight over its offers', () => {
    const r = ok([
      tenant(),
      offer({ id: 'a', start: '2025-06-10', end: '2025-06-20' }),
      offer({ id: 'b', start: '2025-06-01', end: '2025-06-15', status: 'paused' }),
      offer({ id: 'c', campaign: 'other', advertiser: 'zeta' }),
    ]);
    expect(r.campaigns).toEqual([
      {
        id: 'acme-spring',
        tenant: 'freshmart',
        advertiser: 'acme',
        name: 'acme-spring',
        status: 'active',
        start: Date.UTC(2025, 5, 1),
        end: Date.UTC(2025, 5, 20),
        budget: {},
        pacing: 'asap',
        frequencyCaps: [],
        targeting: {},
      },
      expect.objectContaining({ id: 'other', advertiser: 'zeta', tenant: 'freshmart' }),
    ]);
    expect(r.campaigns[0]).not.toHaveProperty('bid');
  });

  it('implies one campaign per tenant when tenants reuse a campaign id (existing catalogs load unchanged)', () => {
    const r = ok([tenant(), tenant({ id: 't2' }), offer({ id: 'a' }), offer({ id: 'b', tenant: 't2' })]);
    expect(r.campaigns.map((c) => `${c.tenant}/${c.id}`)).toEqual(['freshmart/acme-spring', 't2/acme-spring']);
  });

  it('refuses offers of one implied campaign that disagree on the advertiser', () => {
    const errors = errorsOf([tenant(), offer({ id: 'a' }), offer({ id: 'b', advertiser: 'other' })]);
    expect(errors).toEqual([
      {
        line: 3,
        field: 'advertiser',
        message:
          'advertiser "other" differs from advertiser "acme" of campaign "acme-spring" (implied, first named on line 2); ' +
          'a campaign belongs to one advertiser',
      },
    ]);
  });

  it('every offer\'s campaign is in the result', () => {
    const r = ok([tenant(), campaign({ id: 'c1' }), offer({ id: 'a', campaign: 'c1' }), offer({ id: 'b', campaign: 'c2' })]);
    const keys = new Set(r.campaigns.map((c) => `${c.tenant}/${c.id}`));
    for (const o of r.offers) expect(keys.has(`${o.tenant}/${o.campaign}`)).toBe(true);
  });

  it('impliedCampaigns() applies the same rule to offers built in code', () => {
    const base: Offer = {
      id: 'x', tenant: 't', advertiser: 'a', campaign: 'c', category: 'snacks', title: 't', creative: {},
      bid: { type: 'cpc', amount: 1 }, status: 'active', start: 10, end: 20,
    };
    const cs = impliedCampaigns([base, { ...base, id: 'y', start: 5, end: 15 }, { ...base, id: 'z', tenant: 's' }]);
    expect(cs.map((c) => [c.tenant, c.id, c.start, c.end, c.pacing])).toEqual([
      ['s', 'c', 10, 20, 'asap'],
      ['t', 'c', 5, 20, 'asap'],
    ]);
  });
});

describe('rule records', () => {
  it('reads rules into camelCase', () => {
    const r = ok([tenant(), rule({ when_departments: ['dairy_eggs', 'produce'], offer_categories: ['bakery', 'produce/fruit'] })]);
    expect(r.rules).toEqual([{ id: 'r1', tenant: 'freshmart', whenDepartments: ['dairy_eggs', 'produce'], offerCategories: ['bakery', 'produce/fruit'] }]);
  });

  it('refuses a duplicate (tenant, id); the same id in another tenant is fine', () => {
    const errors = errorsOf([tenant(), tenant({ id: 't2' }), rule(), rule({ tenant: 't2' }), rule()]);
    expect(errors).toEqual([{ line: 5, field: 'id', message: 'duplicate rule id for tenant "freshmart" (first defined on line 3)' }]);
  });

  it.each([
    [{ tenant: 'ghost' }, 'tenant', /"ghost" is not defined/],
    [{ when_departments: ['dairy'] }, 'when_departments[0]', /must be one of "produce"/],
    [{ when_departments: [] }, 'when_departments', /greater or equal to 1/],
    [{ offer_categories: [] }, 'offer_categories', /greater or equal to 1/],
    [{ offer_categories: [''] }, 'offer_categories[0]', /length/],
    [{ offer_categories: ['bakery', 'bakery'] }, 'offer_categories', /twice/],
    [{ id: undefined }, 'id', /missing/],
    [{ priority: 1 }, 'priority', /unknown field/],
  ])('refuses rule %j at %s', (over, field, message) => {
    onlyIssue(rule(over), field, message);
  });
});
