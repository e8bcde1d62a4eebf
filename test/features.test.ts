import { describe, expect, it } from 'vitest';
import type { Offer } from '../src/catalog/types.js';
import { fnv1a, offerFeatures, offerMatrix } from '../src/features/offer.js';
import {
  ADVERTISER_BUCKETS,
  BID_TYPES,
  CHANNELS,
  OFFER,
  OFFER_DIM,
  PRICE_TIER_COUNT,
  TXN,
  TXN_DIM,
  priceTier,
} from '../src/features/spec.js';
import { DEPARTMENTS, DEPARTMENT_COUNT, OTHER_DEPARTMENT, departmentIndex } from '../src/features/taxonomy.js';
import { transactionFeatures } from '../src/features/transaction.js';
import type { Transaction } from '../src/protocol/messages.js';

const dept = (name: string): number => DEPARTMENTS.indexOf(name as (typeof DEPARTMENTS)[number]);

function txn(over: Partial<Transaction> = {}): Transaction {
  return {
    id: 't1',
    ts: Date.UTC(2024, 0, 10, 12, 0), // a Wednesday, noon UTC
    currency: 'USD',
    channel: 'web',
    country: 'US',
    items: [
      { sku: 'a', category: 'produce/fruit/apples', price: 2, quantity: 3 }, // 6
      { sku: 'b', category: 'baby/diapers', price: 14, quantity: 1 }, // 14
    ],
    total: 20,
    ...over,
  };
}

function feats(t: Transaction): Float32Array {
  const out = new Float32Array(TXN_DIM + 5).fill(9); // padding proves the writer clears its own slots only
  transactionFeatures(t, out, 5);
  return out.subarray(5);
}

function offer(over: Partial<Offer> = {}): Offer {
  return {
    id: 'o1',
    tenant: 't',
    advertiser: 'acme',
    campaign: 'c',
    category: 'beverages/coffee',
    title: 'x',
    creative: {},
    bid: { type: 'cpc', amount: 1.5 },
    price: 5,
    status: 'active',
    start: 0,
    end: 1e15,
    ...over,
  };
}

describe('feature layout', () => {
  it('blocks are contiguous, in order and fill TXN_DIM / OFFER_DIM exactly', () => {
    expect(TXN.priceTier - TXN.categoryMix).toBe(DEPARTMENT_COUNT);
    expect(TXN.basketUnits - TXN.priceTier).toBe(PRICE_TIER_COUNT);
    expect(TXN_DIM).toBe(TXN.channel + CHANNELS.length);
    expect(OFFER.bidType - OFFER.advertiser).toBe(ADVERTISER_BUCKETS);
    expect(OFFER.pricePoint - OFFER.priceTier).toBe(PRICE_TIER_COUNT + 1);
    expect(OFFER_DIM).toBe(OFFER.pricePoint + 1);
    expect([TXN_DIM, OFFER_DIM]).toEqual([37, 47]);
  });
});

describe('transactionFeatures', () => {
  it('category mix is the value share per department and sums to 1', () => {
    const f = feats(txn());
    let sum = 0;
    for (let d = 0; d < DEPARTMENT_COUNT; d++) sum += f[TXN.categoryMix + d];
    expect(sum).toBeCloseTo(1, 6);
    expect(f[TXN.categoryMix + dept('produce')]).toBeCloseTo(6 / 20, 6);
    expect(f[TXN.categoryMix + dept('baby')]).toBeCloseTo(14 / 20, 6);
  });

  it('maps unknown categories to other and aliases to their department', () => {
    expect(departmentIndex('spaceships/rockets')).toBe(OTHER_DEPARTMENT);
    expect(departmentIndex('Dairy & Eggs/milk')).toBe(dept('dairy_eggs'));
    expect(departmentIndex('wine/red')).toBe(dept('alcohol'));
    const f = feats(txn({ items: [{ sku: 'x', category: 'zzz-unknown/thing', price: 3, quantity: 1 }], total: 3 }));
    expect(f[TXN.categoryMix + OTHER_DEPARTMENT]).toBe(1);
  });

  it('weights lines equally when the basket is free, so the mix still sums to 1', () => {
    const f = feats(
      txn({
        items: [
          { sku: 'a', category: 'pets', price: 0, quantity: 1 },
          { sku: 'b', category: 'pets/food', price: 0, quantity: 5 },
          { sku: 'c', category: 'snacks', price: 0, quantity: 1 },
        ],
        total: 0,
      }),
    );
    expect(f[TXN.categoryMix + dept('pets')]).toBeCloseTo(2 / 3, 6);
    expect(f[TXN.categoryMix + dept('snacks')]).toBeCloseTo(1 / 3, 6);
  });

  it('price tier is the one-hot tier of the value-weighted mean unit price, in USD', () => {
    // 20 USD over 4 units = 5 USD -> tier 1 (value, 3..10).
    let f = feats(txn());
    expect(Array.from(f.subarray(TXN.priceTier, TXN.priceTier + PRICE_TIER_COUNT))).toEqual([0, 1, 0, 0]);
    // Same basket in JPY: 5 JPY per unit is 0.03 USD -> budget.
    f = feats(txn({ currency: 'JPY' }));
    expect(Array.from(f.subarray(TXN.priceTier, TXN.priceTier + PRICE_TIER_COUNT))).toEqual([1, 0, 0, 0]);
  });

  it('basket size and value slots are log-scaled and clipped to [0, 1]', () => {
    const f = feats(txn());
    expect(f[TXN.basketUnits]).toBeCloseTo(Math.log1p(4) / Math.log(51), 6);
    expect(f[TXN.basketLines]).toBeCloseTo(Math.log1p(2) / Math.log(51), 6);
    expect(f[TXN.basketValue]).toBeCloseTo(Math.log1p(20) / Math.log(1001), 6);
    const huge = feats(txn({ items: [{ sku: 'a', category: 'produce', price: 1, quantity: 9999 }], total: 1e8 }));
    expect(huge[TXN.basketUnits]).toBe(1);
    expect(huge[TXN.basketValue]).toBe(1);
  });

  it('hour and weekday come from ts shifted by utc_offset_min', () => {
    // Saturday 23:30 UTC; at UTC+2 it is Sunday 01:30 local.
    const ts = Date.UTC(2024, 0, 6, 23, 30);
    const f = feats(txn({ ts, utc_offset_min: 120 }));
    expect(f[TXN.hour]).toBeCloseTo(Math.sin((2 * Math.PI * 1.5) / 24), 6);
    expect(f[TXN.hour + 1]).toBeCloseTo(Math.cos((2 * Math.PI * 1.5) / 24), 6);
    expect(f[TXN.weekday]).toBeCloseTo(0, 6); // Sunday = weekday 0
    expect(f[TXN.weekday + 1]).toBeCloseTo(1, 6);
    expect(f[TXN.weekend]).toBe(1);
    // At UTC-5 the same instant is Saturday 18:30.
    const g = feats(txn({ ts, utc_offset_min: -300 }));
    expect(g[TXN.hour]).toBeCloseTo(Math.sin((2 * Math.PI * 18.5) / 24), 6);
    expect(g[TXN.weekday]).toBeCloseTo(Math.sin((2 * Math.PI * 6) / 7), 6);
    expect(g[TXN.weekend]).toBe(1);
    // Wednesday noon UTC, no offset given: not a weekend.
    const h = feats(txn());
    expect(h[TXN.weekday]).toBeCloseTo(Math.sin((2 * Math.PI * 3) / 7), 6);
    expect(h[TXN.weekend]).toBe(0);
    expect(h[TXN.hour + 1]).toBeCloseTo(-1, 6);
  });

  it('channel is one-hot', () => {
    for (const [i, channel] of CHANNELS.entries()) {
      const f = feats(txn({ channel }));
      const block = Array.from(f.subarray(TXN.channel, TXN.channel + CHANNELS.length));
      expect(block).toEqual(CHANNELS.map((_, j) => (j === i ? 1 : 0)));
    }
  });
});

describe('priceTier', () => {
  it('uses exclusive upper bounds 3, 10, 40 USD', () => {
    expect([0, 2.99, 3, 9.99, 10, 39.99, 40, 1e6].map(priceTier)).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
  });
});

describe('offerFeatures', () => {
  function oneHot(f: Float32Array, start: number, len: number): number {
    const block = Array.from(f.subarray(start, start + len));
    expect(block.filter((x) => x === 1)).toHaveLength(1);
    expect(block.filter((x) => x !== 0 && x !== 1)).toHaveLength(0);
    return block.indexOf(1);
  }

  it('writes department, advertiser bucket and bid type one-hots', () => {
    const f = new Float32Array(OFFER_DIM);
    offerFeatures(offer(), 'USD', f);
    expect(oneHot(f, OFFER.category, DEPARTMENT_COUNT)).toBe(dept('beverages'));
    expect(oneHot(f, OFFER.advertiser, ADVERTISER_BUCKETS)).toBe(fnv1a('acme') % ADVERTISER_BUCKETS);
    expect(oneHot(f, OFFER.bidType, BID_TYPES.length)).toBe(BID_TYPES.indexOf('cpc'));
    expect(f[OFFER.bidAmount]).toBeCloseTo(Math.log1p(1.5) / Math.log(101), 6);
  });

  it('price tier one-hot uses the tenant currency, with a separate "no price" slot', () => {
    const f = new Float32Array(OFFER_DIM);
    offerFeatures(offer({ price: 9.5 }), 'EUR', f); // 10.26 USD -> mid
    expect(oneHot(f, OFFER.priceTier, PRICE_TIER_COUNT + 1)).toBe(2);
    expect(f[OFFER.pricePoint]).toBeCloseTo(Math.log1p(9.5 * 1.08) / Math.log(1001), 6);
    const g = new Float32Array(OFFER_DIM);
    offerFeatures(offer({ price: undefined }), 'USD', g);
    expect(oneHot(g, OFFER.priceTier, PRICE_TIER_COUNT + 1)).toBe(PRICE_TIER_COUNT);
    expect(g[OFFER.pricePoint]).toBe(0);
  });

  it('unknown offer categories map to other; offerMatrix rows equal offerFeatures', () => {
    const offers = [offer(), offer({ id: 'o2', category: 'gadgets/whatever', advertiser: 'zeta', bid: { type: 'cpm', amount: 12 } })];
    const m = offerMatrix(offers, 'USD');
    expect(m.length).toBe(2 * OFFER_DIM);
    expect(m[OFFER_DIM + OFFER.category + OTHER_DEPARTMENT]).toBe(1);
    for (const [i, o] of offers.entries()) {
      const row = new Float32Array(OFFER_DIM);
      offerFeatures(o, 'USD', row);
      expect(Array.from(m.subarray(i * OFFER_DIM, (i + 1) * OFFER_DIM))).toEqual(Array.from(row));
    }
  });
});
