import { resolvePlacement, resolveTenant } from '../src/catalog/schema.js';
import { describe, expect, it } from 'vitest';
import { PRICE_TIERS, type Campaign, type Offer, type Placement, type Rule, type Targeting, type Tenant } from '../src/catalog/types.js';
import { clearRows, count, has, nextSet, rowsOf, wordsFor } from '../src/delivery/bitset.js';
import { EligibilityIndex } from '../src/delivery/eligibility-index.js';
import type { RequestContext } from '../src/delivery/types.js';
import { CHANNELS } from '../src/features/spec.js';
import { DEPARTMENTS, departmentIndex } from '../src/features/taxonomy.js';
import { Prng } from '../src/learning/prng.js';

const FAR = 8.64e15;
const dept = (name: string): number => DEPARTMENTS.indexOf(name as (typeof DEPARTMENTS)[number]);
const bit = (...names: string[]): number => names.reduce((m, n) => m | (1 << dept(n)), 0);

function placement(id: string, over: Partial<Placement> = {}): Placement {
  return resolvePlacement({ id, name: id, slots: 3, ...over });
}

function tenant(over: Partial<Tenant> = {}): Tenant {
  return resolveTenant({ id: 't1', name: 'T1', currency: 'USD', placements: [placement('checkout'), placement('confirm')], ...over });
}

function offer(id: string, over: Partial<Offer> = {}): Offer {
  return {
    id,
    tenant: 't1',
    advertiser: 'adv-a',
    campaign: 'c-open',
    category: 'pantry/pasta',
    title: id,
    creative: {},
    bid: { type: 'cpc', amount: 1 },
    status: 'active',
    start: 0,
    end: FAR,
    ...over,
  };
}

function campaign(id: string, targeting: Targeting = {}, over: Partial<Campaign> = {}): Campaign {
  return {
    id,
    tenant: 't1',
    advertiser: 'adv-a',
    name: id,
    status: 'active',
    start: 0,
    end: FAR,
    budget: {},
    pacing: 'even',
    frequencyCaps: [],
    targeting,
    ...over,
  };
}

function ctx(over: Partial<RequestContext> = {}): RequestContext {
  return {
    placement: 'checkout',
    channel: CHANNELS.indexOf('web'),
    country: 'US',
    basketDepartments: bit('pantry'),
    basketTotal: 50,
    priceTier: 1,
    hour: 12,
    weekday: 3,
    now: 1000,
    ...over,
  };
}

function rows(idx: EligibilityIndex, c: RequestContext): number[] {
  const out = new Uint32Array(idx.words);
  idx.eligible(c, out);
  return rowsOf(out);
}

/** One open offer (row 0) plus one offer per targeted campaign (row 1), so every test sees both sides. */
function withTargeting(t: Targeting, over: Partial<Campaign> = {}): EligibilityIndex {
  return EligibilityIndex.build(tenant(), [offer('open'), offer('targeted', { campaign: 'c-t' })], [campaign('c-open'), campaign('c-t', t, over)]);
}

describe('bitset helpers', () => {
  it('has, count, clearRows and nextSet agree across word boundaries and the tail word', () => {
    const n = 70;
    const bits = new Uint32Array(wordsFor(n));
    expect(bits.length).toBe(3);
    for (const r of [0, 31, 32, 63, 64, 69]) bits[r >>> 5] |= 1 << (r & 31);
    expect(count(bits)).toBe(6);
    expect(has(bits, 31)).toBe(true);
    expect(has(bits, 30)).toBe(false);
    expect(nextSet(bits, 1)).toBe(31);
    expect(nextSet(bits, 32)).toBe(32);
    expect(nextSet(bits, 65)).toBe(69);
    expect(nextSet(bits, 70)).toBe(-1);
    clearRows(bits, Int32Array.from([31, 64]));
    expect(rowsOf(bits)).toEqual([0, 32, 63, 69]);
  });
});

describe('EligibilityIndex: static rules', () => {
  it('excludes paused and archived offers and offers of paused or archived campaigns', () => {
    const offers = [
      offer('ok'),
      offer('paused', { status: 'paused' }),
      offer('archived', { status: 'archived' }),
      offer('camp-paused', { campaign: 'c-p' }),
      offer('camp-archived', { campaign: 'c-a' }),
    ];
    const idx = EligibilityIndex.build(tenant(), offers, [campaign('c-open'), campaign('c-p', {}, { status: 'paused' }), campaign('c-a', {}, { status: 'archived' })]);
    expect(rows(idx, ctx())).toEqual([0]);
  });

  it('blocks advertisers at tenant and at placement level', () => {
    const offers = [offer('a'), offer('b', { advertiser: 'adv-b' }), offer('c', { advertiser: 'adv-c' })];
    const t = tenant({ blockedAdvertisers: ['adv-b'], placements: [placement('checkout', { blockedAdvertisers: ['adv-c'] }), placement('confirm')] });
    const idx = EligibilityIndex.build(t, offers, [campaign('c-open')]);
    expect(rows(idx, ctx())).toEqual([0]);
    expect(rows(idx, ctx({ placement: 'confirm' }))).toEqual([0, 2]);
  });

  it('blocks category path prefixes on whole segments, at tenant and at placement level', () => {
    const offers = [
      offer('soda', { category: 'beverages/soda' }),
      offer('bev', { category: 'beverages' }),
      offer('bevx', { category: 'beveragesx/soda' }),
      offer('energy', { category: 'drinks/energy/cans' }),
      offer('drinks', { category: 'drinks/juice' }),
      offer('wine', { category: 'Alcohol/Wine' }),
    ];
    const t = tenant({
      blockedCategories: ['beverages', 'bev', 'alcohol'],
      placements: [placement('checkout', { blockedCategories: ['drinks/energy'] }), placement('confirm')],
    });
    const idx = EligibilityIndex.build(t, offers, [campaign('c-open')]);
    // "beverages" blocks beverages and beverages/soda, not beveragesx; "bev" blocks nothing; case-insensitive.
    expect(rows(idx, ctx())).toEqual([2, 4]);
    expect(rows(idx, ctx({ placement: 'confirm' }))).toEqual([2, 3, 4]);
  });

  it('honours placement targeting and gives an unknown placement no rows', () => {
    const idx = withTargeting({ placements: ['confirm'] });
    expect(rows(idx, ctx())).toEqual([0]);
    expect(rows(idx, ctx({ placement: 'confirm' }))).toEqual([0, 1]);
    expect(rows(idx, ctx({ placement: 'nope' }))).toEqual([]);
  });

  it('treats an offer whose campaign is missing as unrestricted', () => {
    const targeted = campaign('c-t', { countries: ['FR'] });
    const idx = EligibilityIndex.build(tenant(), [offer('ghost', { campaign: 'c-missing' }), offer('t', { campaign: 'c-t' })], [targeted]);
    expect(idx.campaignOf[0]).toBe(-1);
    expect(rows(idx, ctx({ country: 'US' }))).toEqual([0]);
  });
});

describe('EligibilityIndex: targeting dimensions', () => {
  it('channel', () => {
    const idx = withTargeting({ channels: ['app', 'in_store'] });
    expect(rows(idx, ctx({ channel: CHANNELS.indexOf('web') }))).toEqual([0]);
    expect(rows(idx, ctx({ channel: CHANNELS.indexOf('app') }))).toEqual([0, 1]);
    expect(rows(idx, ctx({ channel: CHANNELS.indexOf('in_store') }))).toEqual([0, 1]);
  });

  it('price tier', () => {
    const idx = withTargeting({ priceTiers: ['premium'] });
    expect(rows(idx, ctx({ priceTier: PRICE_TIERS.indexOf('mid') }))).toEqual([0]);
    expect(rows(idx, ctx({ priceTier: PRICE_TIERS.indexOf('premium') }))).toEqual([0, 1]);
  });

  it('hour', () => {
    const idx = withTargeting({ hours: [0, 23] });
    expect(rows(idx, ctx({ hour: 12 }))).toEqual([0]);
    expect(rows(idx, ctx({ hour: 0 }))).toEqual([0, 1]);
    expect(rows(idx, ctx({ hour: 23 }))).toEqual([0, 1]);
  });

  it('weekday', () => {
    const idx = withTargeting({ weekdays: [0, 6] });
    expect(rows(idx, ctx({ weekday: 3 }))).toEqual([0]);
    expect(rows(idx, ctx({ weekday: 6 }))).toEqual([0, 1]);
  });

  it('country, with an unknown country getting only the untargeted rows', () => {
    const idx = EligibilityIndex.build(
      tenant(),
      [offer('open'), offer('fr', { campaign: 'c-fr' }), offer('us', { campaign: 'c-us' })],
      [campaign('c-open'), campaign('c-fr', { countries: ['FR', 'BE'] }), campaign('c-us', { countries: ['US'] })],
    );
    expect(rows(idx, ctx({ country: 'US' }))).toEqual([0, 2]);
    expect(rows(idx, ctx({ country: 'BE' }))).toEqual([0, 1]);
    expect(rows(idx, ctx({ country: 'ZZ' }))).toEqual([0]);
  });

  it('basket departments any: shown only when the basket has one of them', () => {
    const idx = withTargeting({ basketDepartmentsAny: ['dairy_eggs', 'bakery'] });
    expect(rows(idx, ctx({ basketDepartments: bit('pantry') }))).toEqual([0]);
    expect(rows(idx, ctx({ basketDepartments: bit('pantry', 'bakery') }))).toEqual([0, 1]);
    expect(rows(idx, ctx({ basketDepartments: bit('dairy_eggs') }))).toEqual([0, 1]);
    expect(rows(idx, ctx({ basketDepartments: 0 }))).toEqual([0]);
  });

  it('basket departments none: never shown when the basket has one of them', () => {
    const idx = withTargeting({ basketDepartmentsNone: ['baby', 'alcohol'] });
    expect(rows(idx, ctx({ basketDepartments: bit('pantry') }))).toEqual([0, 1]);
    expect(rows(idx, ctx({ basketDepartments: bit('pantry', 'alcohol') }))).toEqual([0]);
    expect(rows(idx, ctx({ basketDepartments: bit('baby') }))).toEqual([0]);
  });

  it('basket departments any and none together; department aliases map through the taxonomy', () => {
    const idx = withTargeting({ basketDepartmentsAny: ['dairy'], basketDepartmentsNone: ['wine'] });
    expect(rows(idx, ctx({ basketDepartments: bit('dairy_eggs') }))).toEqual([0, 1]);
    expect(rows(idx, ctx({ basketDepartments: bit('dairy_eggs', 'alcohol') }))).toEqual([0]);
  });

  it('basket total: min inclusive, max exclusive', () => {
    const idx = withTargeting({ basketMin: 20, basketMax: 100 });
    expect(rows(idx, ctx({ basketTotal: 19.99 }))).toEqual([0]);
    expect(rows(idx, ctx({ basketTotal: 20 }))).toEqual([0, 1]);
    expect(rows(idx, ctx({ basketTotal: 99.99 }))).toEqual([0, 1]);
    expect(rows(idx, ctx({ basketTotal: 100 }))).toEqual([0]);
    expect(rows(idx, ctx({ basketTotal: 0 }))).toEqual([0]);
  });

  it('basket total with one-sided ranges', () => {
    const idx = EligibilityIndex.build(
      tenant(),
      [offer('open'), offer('min', { campaign: 'c-min' }), offer('max', { campaign: 'c-max' })],
      [campaign('c-open'), campaign('c-min', { basketMin: 50 }), campaign('c-max', { basketMax: 50 })],
    );
    expect(rows(idx, ctx({ basketTotal: 49.5 }))).toEqual([0, 2]);
    expect(rows(idx, ctx({ basketTotal: 50 }))).toEqual([0, 1]);
    expect(rows(idx, ctx({ basketTotal: 1e9 }))).toEqual([0, 1]);
  });

  it('an empty targeting list does not restrict', () => {
    const idx = withTargeting({ countries: [], channels: [], hours: [], basketDepartmentsAny: [] });
    expect(rows(idx, ctx({ country: 'ZZ', hour: 3, basketDepartments: 0 }))).toEqual([0, 1]);
  });
});

describe('EligibilityIndex: flights', () => {
  it('needs now inside both the offer flight and the campaign flight (start inclusive, end exclusive)', () => {
    const idx = EligibilityIndex.build(
      tenant(),
      [offer('open'), offer('f', { campaign: 'c-f', start: 1000, end: 2000 })],
      [campaign('c-open'), campaign('c-f', {}, { start: 1500, end: 3000 })],
    );
    expect(rows(idx, ctx({ now: 1200 }))).toEqual([0]); // offer started, campaign not yet
    expect(rows(idx, ctx({ now: 1500 }))).toEqual([0, 1]);
    expect(rows(idx, ctx({ now: 1999 }))).toEqual([0, 1]);
    expect(rows(idx, ctx({ now: 2000 }))).toEqual([0]); // offer ended, campaign still running
    expect(rows(idx, ctx({ now: 2500 }))).toEqual([0]);
  });

  it('caches the flight set until now crosses a boundary, in either direction', () => {
    const idx = EligibilityIndex.build(tenant(), [offer('f', { start: 1000, end: 2000 })], [campaign('c-open')]);
    expect(rows(idx, ctx({ now: 1200 }))).toEqual([0]);
    expect(idx.flightRecomputeCount).toBe(1);
    expect(rows(idx, ctx({ now: 1999 }))).toEqual([0]);
    expect(rows(idx, ctx({ now: 1000 }))).toEqual([0]);
    expect(idx.flightRecomputeCount).toBe(1);
    expect(rows(idx, ctx({ now: 2000 }))).toEqual([]); // exactly at validUntil
    expect(idx.flightRecomputeCount).toBe(2);
    expect(rows(idx, ctx({ now: 5000 }))).toEqual([]); // same window [2000, inf)
    expect(idx.flightRecomputeCount).toBe(2);
    expect(rows(idx, ctx({ now: 1999 }))).toEqual([0]); // clock went back below the window
    expect(idx.flightRecomputeCount).toBe(3);
    expect(rows(idx, ctx({ now: 999 }))).toEqual([]);
    expect(idx.flightRecomputeCount).toBe(4);
  });
});

describe('EligibilityIndex: lookups and rules', () => {
  it('exposes dense campaign and advertiser ids and their rows', () => {
    const offers = [offer('a1', { campaign: 'c2', advertiser: 'x' }), offer('b1', { campaign: 'c1', advertiser: 'y' }), offer('a2', { campaign: 'c2', advertiser: 'x' })];
    const idx = EligibilityIndex.build(tenant(), offers, [campaign('c1', {}, { advertiser: 'y' }), campaign('c2', {}, { advertiser: 'x' }), campaign('other', {}, { tenant: 't2' })]);
    expect(idx.campaigns.map((c) => c.id)).toEqual(['c1', 'c2']);
    expect(idx.campaignIndex('other')).toBe(-1);
    expect(Array.from(idx.offersOfCampaign(idx.campaignIndex('c2')))).toEqual([0, 2]);
    expect(Array.from(idx.offersOfAdvertiser(idx.advertiserIndex('y')))).toEqual([1]);
    expect(Array.from(idx.campaignOf)).toEqual([1, 0, 1]);
    expect(idx.advertisers[idx.advertiserOf[2]]).toBe('x');
    expect(idx.departmentOf[0]).toBe(departmentIndex('pantry'));
  });

  it('ruleMatches ORs the rules triggered by the basket and reports when none fires', () => {
    const offers = [offer('coffee', { category: 'beverages/coffee' }), offer('cookie', { category: 'snacks/cookies' }), offer('chips', { category: 'snacks/chips' }), offer('bev', { category: 'beveragesx' })];
    const rules: Rule[] = [
      { id: 'r1', tenant: 't1', whenDepartments: ['bakery'], offerCategories: ['beverages'] },
      { id: 'r2', tenant: 't1', whenDepartments: ['bakery', 'dairy_eggs'], offerCategories: ['snacks/cookies'] },
      { id: 'r3', tenant: 't2', whenDepartments: ['produce'], offerCategories: ['snacks'] },
    ];
    const idx = EligibilityIndex.build(tenant(), offers, [campaign('c-open')], rules);
    const out = new Uint32Array(idx.words).fill(0xffffffff);
    expect(idx.ruleMatches(bit('bakery', 'dairy_eggs'), out)).toBe(true);
    expect(rowsOf(out)).toEqual([0, 1]);
    expect(idx.ruleMatches(bit('dairy_eggs'), out)).toBe(true);
    expect(rowsOf(out)).toEqual([1]);
    expect(idx.ruleMatches(bit('produce'), out)).toBe(false); // r3 is another tenant's
    expect(count(out)).toBe(0);
  });
});

// ---- randomized comparison with a naive per-offer evaluator ---------------------------------------------------

function pathPrefix(category: string, prefix: string): boolean {
  const c = category.toLowerCase().split('/').filter((s) => s !== '');
  const p = prefix.toLowerCase().split('/').filter((s) => s !== '');
  return p.length > 0 && p.length <= c.length && p.every((s, i) => s === c[i]);
}

function naiveEligible(t: Tenant, offers: Offer[], campaigns: Campaign[], c: RequestContext): number[] {
  const p = t.placements.find((x) => x.id === c.placement);
  if (p === undefined) return [];
  const restricts = <T>(list: T[] | undefined): list is T[] => list !== undefined && list.length > 0;
  const basket = DEPARTMENTS.map((_, d) => (c.basketDepartments & (1 << d)) !== 0);
  const result: number[] = [];
  offers.forEach((o, i) => {
    const camp = campaigns.find((x) => x.tenant === t.id && x.id === o.campaign);
    if (o.status !== 'active' || (camp !== undefined && camp.status !== 'active')) return;
    if (t.blockedAdvertisers.includes(o.advertiser) || p.blockedAdvertisers.includes(o.advertiser)) return;
    if ([...t.blockedCategories, ...p.blockedCategories].some((b) => pathPrefix(o.category, b))) return;
    if (!(o.start <= c.now && c.now < o.end)) return;
    if (camp !== undefined && !(camp.start <= c.now && c.now < camp.end)) return;
    const g: Targeting = camp?.targeting ?? {};
    if (restricts(g.placements) && !g.placements.includes(p.id)) return;
    if (restricts(g.channels) && !g.channels.includes(CHANNELS[c.channel])) return;
    if (restricts(g.countries) && !g.countries.includes(c.country)) return;
    if (restricts(g.priceTiers) && !g.priceTiers.includes(PRICE_TIERS[c.priceTier])) return;
    if (restricts(g.hours) && !g.hours.includes(c.hour)) return;
    if (restricts(g.weekdays) && !g.weekdays.includes(c.weekday)) return;
    if (restricts(g.basketDepartmentsAny) && !g.basketDepartmentsAny.some((d) => basket[departmentIndex(d)])) return;
    if (restricts(g.basketDepartmentsNone) && g.basketDepartmentsNone.some((d) => basket[departmentIndex(d)])) return;
    if (g.basketMin !== undefined && c.basketTotal < g.basketMin) return;
    if (g.basketMax !== undefined && !(c.basketTotal < g.basketMax)) return;
    result.push(i);
  });
  return result;
}

function naiveRules(rules: Rule[], tenantId: string, offers: Offer[], mask: number): { fired: boolean; rows: number[] } {
  const fired = rules.filter((r) => r.tenant === tenantId && r.whenDepartments.some((d) => (mask & (1 << departmentIndex(d))) !== 0));
  const rows = offers.flatMap((o, i) => (fired.some((r) => r.offerCategories.some((pre) => pathPrefix(o.category, pre))) ? [i] : []));
  return { fired: fired.length > 0, rows };
}

describe('EligibilityIndex: randomized against a naive evaluator', () => {
  it('agrees on thousands of random requests over a random catalog', () => {
    const rng = new Prng(20240607);
    const sub = <T>(items: readonly T[], p: number): T[] => items.filter(() => rng.bernoulli(p));
    const maybe = <T>(p: number, f: () => T): T | undefined => (rng.bernoulli(p) ? f() : undefined);
    const countries = ['US', 'FR', 'DE', 'GB', 'JP'];
    const categories = ['beverages', 'beverages/soda', 'beverages/coffee/ground', 'bev/x', 'snacks/chips', 'dairy_eggs/yogurt', 'alcohol/wine', 'pantry/pasta', 'Beverages/Tea'];
    const adv = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5'];
    const placements = ['checkout', 'confirm', 'email'];
    const moneyPoints = [0, 10, 20, 25, 50, 75, 100, 250];
    const timePoints = [0, 1000, 2000, 3000, 4000, 5000, 6000];
    const t = tenant({
      blockedAdvertisers: ['a5'],
      blockedCategories: ['alcohol'],
      placements: [placement('checkout', { blockedCategories: ['beverages/soda'], blockedAdvertisers: ['a4'] }), placement('confirm', { blockedCategories: ['bev'] }), placement('email')],
    });
    const campaigns: Campaign[] = [];
    for (let c = 0; c < 40; c++) {
      const targeting: Targeting = {
        placements: maybe(0.3, () => sub(placements, 0.5)),
        channels: maybe(0.3, () => sub(CHANNELS, 0.5)),
        countries: maybe(0.4, () => sub(countries, 0.4)),
        basketDepartmentsAny: maybe(0.3, () => sub(DEPARTMENTS, 0.15)),
        basketDepartmentsNone: maybe(0.3, () => sub(DEPARTMENTS, 0.1)),
        basketMin: maybe(0.3, () => rng.pick(moneyPoints)),
        basketMax: maybe(0.3, () => rng.pick(moneyPoints)),
        priceTiers: maybe(0.3, () => sub(PRICE_TIERS, 0.5)),
        hours: maybe(0.3, () => Array.from({ length: 24 }, (_, h) => h).filter(() => rng.bernoulli(0.4))),
        weekdays: maybe(0.3, () => [0, 1, 2, 3, 4, 5, 6].filter(() => rng.bernoulli(0.5))),
      };
      const start = rng.bernoulli(0.5) ? 0 : rng.pick(timePoints);
      campaigns.push(
        campaign(`c${c}`, targeting, {
          advertiser: rng.pick(adv),
          status: rng.bernoulli(0.1) ? 'paused' : rng.bernoulli(0.05) ? 'archived' : 'active',
          start,
          end: rng.bernoulli(0.5) ? FAR : start + rng.pick([500, 1000, 2500]),
        }),
      );
    }
    campaigns.push(campaign('c-other-tenant', { countries: ['ZZ'] }, { tenant: 't2' }));
    const offers: Offer[] = [];
    for (let i = 0; i < 333; i++) {
      const start = rng.bernoulli(0.6) ? 0 : rng.pick(timePoints) + rng.int(3);
      offers.push(
        offer(`o${i}`, {
          advertiser: rng.pick(adv),
          campaign: rng.bernoulli(0.03) ? 'c-missing' : rng.bernoulli(0.02) ? 'c-other-tenant' : `c${rng.int(40)}`,
          category: rng.pick(categories),
          status: rng.bernoulli(0.08) ? 'paused' : 'active',
          start,
          end: rng.bernoulli(0.6) ? FAR : start + rng.pick([700, 1500, 3000]),
        }),
      );
    }
    const rules: Rule[] = Array.from({ length: 8 }, (_, r) => ({
      id: `r${r}`,
      tenant: r === 7 ? 't2' : 't1',
      whenDepartments: sub(DEPARTMENTS, 0.15),
      offerCategories: sub(['beverages', 'snacks', 'bev', 'dairy_eggs/yogurt', 'pantry'], 0.4),
    }));
    const idx = EligibilityIndex.build(t, offers, campaigns, rules);
    const out = new Uint32Array(idx.words);
    let nonEmpty = 0;
    let now = 0;
    for (let q = 0; q < 3000; q++) {
      // Mostly small steps forward (the cache's common case), sometimes a jump either way, often exactly on a boundary.
      now = rng.bernoulli(0.2) ? rng.pick(timePoints) + rng.int(3) : rng.bernoulli(0.1) ? rng.int(7000) : now + rng.int(40);
      const c = ctx({
        placement: rng.bernoulli(0.05) ? 'unknown' : rng.pick(placements),
        channel: rng.int(CHANNELS.length),
        country: rng.bernoulli(0.1) ? 'ZZ' : rng.pick(countries),
        basketDepartments: rng.nextU32() & rng.nextU32() & ((1 << DEPARTMENTS.length) - 1),
        basketTotal: rng.bernoulli(0.4) ? rng.pick(moneyPoints) : rng.uniform(0, 300),
        priceTier: rng.int(PRICE_TIERS.length),
        hour: rng.int(24),
        weekday: rng.int(7),
        now,
      });
      idx.eligible(c, out);
      const expected = naiveEligible(t, offers, campaigns, c);
      expect(rowsOf(out), `request ${q}: ${JSON.stringify(c)}`).toEqual(expected);
      if (expected.length > 0) nonEmpty++;
      const r = naiveRules(rules, t.id, offers, c.basketDepartments);
      expect(idx.ruleMatches(c.basketDepartments, out)).toBe(r.fired);
      expect(rowsOf(out)).toEqual(r.rows);
    }
    // The comparison is only meaningful if many requests have some eligible offers and some have none.
    expect(nonEmpty).toBeGreaterThan(1000);
    expect(nonEmpty).toBeLessThan(3000);
    expect(idx.flightRecomputeCount).toBeLessThan(3000);
  });
});
