import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { createGroundTruth, positionDecay } from '../bench/sim/engagement.js';
import { generateSimOffers } from '../bench/sim/offers.js';
import { completeJourneyDepartment, loadRealData } from '../bench/sim/real-data.js';
import { createTransactionSource } from '../bench/sim/transactions.js';
import type { Offer } from '../src/catalog/types.js';
import { DEPARTMENTS, departmentIndex } from '../src/features/taxonomy.js';
import { Transaction } from '../src/protocol/messages.js';

const DATA_DIR = fileURLToPath(new URL('../../shared/datasets', import.meta.url));
const hasData = existsSync(path.join(DATA_DIR, 'instacart_subset_1000users')) && existsSync(path.join(DATA_DIR, 'completejourney_sample'));

function offer(category: string, over: Partial<Offer> = {}): Offer {
  return {
    id: `o-${category}`,
    tenant: 't',
    advertiser: 'adv',
    campaign: 'c',
    category,
    title: '',
    creative: {},
    bid: { type: 'cpc', amount: 1 },
    price: 6,
    status: 'active',
    start: 0,
    end: 1e15,
    ...over,
  };
}

function basket(lines: Array<[string, number, number]>, over: Partial<Transaction> = {}): Transaction {
  return {
    id: 'b',
    ts: Date.UTC(2024, 2, 6, 14),
    utc_offset_min: 0,
    currency: 'USD',
    channel: 'web',
    country: 'US',
    items: lines.map(([category, price, quantity], i) => ({ sku: `s${i}`, category, price, quantity })),
    total: lines.reduce((s, [, p, q]) => s + p * q, 0),
    ...over,
  };
}

describe('simulated transactions', () => {
  it('synthetic generator: deterministic per seed and valid under the wire schema', () => {
    const a = createTransactionSource(5, null);
    const b = createTransactionSource(5, null);
    expect(a.provenance).toBe('synthetic');
    for (let i = 0; i < 300; i++) {
      const t = a.next();
      expect(b.next()).toEqual(t);
      expect(Value.Check(Transaction, t)).toBe(true);
    }
    expect(createTransactionSource(6, null).next()).not.toEqual(createTransactionSource(5, null).next());
  });

  it.skipIf(!hasData)('real generator: replays real baskets mapped onto the taxonomy, valid under the wire schema', async () => {
    const real = await loadRealData(DATA_DIR);
    expect(real.orders.length).toBeGreaterThan(10_000);
    const src = createTransactionSource(5, real);
    expect(src.provenance).toBe('real');
    const depts = new Set<number>();
    let other = 0;
    let lines = 0;
    for (let i = 0; i < 500; i++) {
      const t = src.next();
      expect(Value.Check(Transaction, t)).toBe(true);
      for (const it of t.items) {
        const d = departmentIndex(it.category);
        depts.add(d);
        lines++;
        if (DEPARTMENTS[d] === 'other') other++;
      }
    }
    expect(depts.size).toBeGreaterThan(15); // grocery departments plus the Complete Journey non-grocery lines
    expect(other / lines).toBeLessThan(0.02); // the department mapping leaves little unmapped
  });

  it('maps Complete Journey categories by text before store department', () => {
    const name = (d: string, c: string): string => DEPARTMENTS[completeJourneyDepartment(d, c)];
    expect(name('GROCERY', 'CAT FOOD')).toBe('pets');
    expect(name('GROCERY', 'BEERS/ALES')).toBe('alcohol');
    expect(name('DRUG GM', 'DIAPERS & DISPOSABLES')).toBe('baby');
    expect(name('GROCERY', 'ICE CREAM/MILK/SHERBTS')).toBe('frozen');
    expect(name('GROCERY', 'FLUID MILK PRODUCTS')).toBe('dairy_eggs');
    expect(name('GROCERY', 'SOUP')).toBe('pantry');
  });
});

describe('ground truth', () => {
  const truth = createGroundTruth(1);
  const baby = basket([
    ['baby/diapers', 14, 1],
    ['baby/wipes', 4, 2],
    ['produce/bananas', 1, 3],
  ]);
  const party = basket([
    ['snacks/chips', 3, 3],
    ['beverages/soda', 2, 4],
    ['alcohol/beer', 9, 2],
  ]);

  it('rewards affinity between basket and offer departments', () => {
    const babyOffer = offer('baby/formula');
    const alcoholOffer = offer('alcohol/wine');
    expect(truth.engageProbability(baby, babyOffer, 1)).toBeGreaterThan(2 * truth.engageProbability(party, babyOffer, 1));
    expect(truth.engageProbability(party, alcoholOffer, 1)).toBeGreaterThan(2 * truth.engageProbability(baby, alcoholOffer, 1));
  });

  it('decays with position and stays a probability', () => {
    const o = offer('snacks/nuts');
    const p1 = truth.engageProbability(party, o, 1);
    const p3 = truth.engageProbability(party, o, 3);
    expect(p3).toBeCloseTo(p1 * positionDecay(3), 12);
    expect(p3).toBeLessThan(p1);
    expect(p1).toBeGreaterThan(0);
    expect(p1).toBeLessThan(1);
  });

  it('has a base engagement rate of a few percent over random offers and baskets', () => {
    const src = createTransactionSource(2, null);
    const offers = generateSimOffers(3, { count: 200 });
    let s = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) s += truth.engageProbability(src.next(), offers[i % offers.length], 1);
    expect(s / n).toBeGreaterThan(0.01);
    expect(s / n).toBeLessThan(0.05);
  });
});
