import { describe, expect, it } from 'vitest';
import { buildRequestContext } from '../src/delivery/request-context.js';
import { CHANNELS, TXN, TXN_DIM } from '../src/features/spec.js';
import { DEPARTMENTS, departmentIndex } from '../src/features/taxonomy.js';
import { transactionFeatures } from '../src/features/transaction.js';
import type { Transaction } from '../src/protocol/messages.js';
import { Prng } from '../src/learning/prng.js';

const dept = (name: string): number => DEPARTMENTS.indexOf(name as (typeof DEPARTMENTS)[number]);

function txn(over: Partial<Transaction> = {}): Transaction {
  return {
    id: 'x1',
    ts: Date.UTC(2024, 5, 7, 15, 30), // Friday 2024-06-07 15:30 UTC
    currency: 'USD',
    channel: 'app',
    country: 'FR',
    items: [
      { sku: 's1', category: 'dairy_eggs/yogurt', price: 2, quantity: 3 },
      { sku: 's2', category: 'Bakery', price: 4, quantity: 1 },
      { sku: 's3', category: 'wine/red', price: 20, quantity: 1 },
    ],
    total: 30,
    ...over,
  };
}

describe('buildRequestContext', () => {
  it('maps placement, channel, country, departments and time', () => {
    const c = buildRequestContext(txn(), 'checkout', 'USD', 123);
    expect(c.placement).toBe('checkout');
    expect(c.channel).toBe(CHANNELS.indexOf('app'));
    expect(c.country).toBe('FR');
    expect(c.basketDepartments).toBe((1 << dept('dairy_eggs')) | (1 << dept('bakery')) | (1 << dept('alcohol')));
    expect(c.hour).toBe(15);
    expect(c.weekday).toBe(5);
    expect(c.now).toBe(123);
  });

  it('uses buyer-local time from utc_offset_min, across midnight both ways', () => {
    const ts = Date.UTC(2024, 5, 7, 23, 30); // Friday 23:30 UTC
    expect(buildRequestContext(txn({ ts, utc_offset_min: 60 }), 'p', 'USD', 0)).toMatchObject({ hour: 0, weekday: 6 });
    const early = Date.UTC(2024, 5, 9, 1, 0); // Sunday 01:00 UTC
    expect(buildRequestContext(txn({ ts: early, utc_offset_min: -300 }), 'p', 'USD', 0)).toMatchObject({ hour: 20, weekday: 6 });
  });

  it('keeps the total exact in the tenant currency and converts through USD otherwise', () => {
    expect(buildRequestContext(txn({ currency: 'EUR', total: 20 }), 'p', 'EUR', 0).basketTotal).toBe(20);
    expect(buildRequestContext(txn({ currency: 'EUR', total: 100 }), 'p', 'USD', 0).basketTotal).toBeCloseTo(108, 9);
    expect(buildRequestContext(txn({ currency: 'USD', total: 127 }), 'p', 'GBP', 0).basketTotal).toBeCloseTo(100, 9);
  });

  it('tiers the value-weighted mean unit price in USD', () => {
    // value 30 over 5 units = 6 USD: "value" (3 <= x < 10).
    expect(buildRequestContext(txn(), 'p', 'USD', 0).priceTier).toBe(1);
    // 6 JPY per unit is far below 3 USD: "budget", whatever the tenant's currency.
    expect(buildRequestContext(txn({ currency: 'JPY' }), 'p', 'USD', 0).priceTier).toBe(0);
    const premium = txn({ items: [{ sku: 'a', category: 'electronics', price: 45, quantity: 2 }] });
    expect(buildRequestContext(premium, 'p', 'EUR', 0).priceTier).toBe(3);
  });

  it('agrees with the transaction features on price tier, hour and weekend for random baskets', () => {
    const rng = new Prng(11);
    const f = new Float32Array(TXN_DIM);
    const cats = ['produce/apples', 'snacks', 'beverages/soda', 'pet/food', 'electronics/tv', 'unknown/x'];
    const currencies = ['USD', 'EUR', 'JPY', 'GBP', 'INR'];
    for (let q = 0; q < 500; q++) {
      const t = txn({
        ts: rng.int(2e12),
        utc_offset_min: rng.int(28 * 60 + 1) - 14 * 60,
        currency: rng.pick(currencies),
        channel: rng.pick(CHANNELS),
        items: Array.from({ length: 1 + rng.int(6) }, (_, i) => ({ sku: `s${i}`, category: rng.pick(cats), price: Math.round(rng.uniform(0, 80) * 100) / 100, quantity: 1 + rng.int(4) })),
      });
      const c = buildRequestContext(t, 'p', 'USD', 0);
      transactionFeatures(t, f);
      expect(f[TXN.priceTier + c.priceTier]).toBe(1);
      expect(f[TXN.channel + c.channel]).toBe(1);
      expect(f[TXN.weekend]).toBe(c.weekday === 0 || c.weekday === 6 ? 1 : 0);
      const local = new Date(t.ts + (t.utc_offset_min ?? 0) * 60_000);
      expect(c.hour).toBe(local.getUTCHours());
      expect(c.weekday).toBe(local.getUTCDay());
      // A department with basket value is in the mask (zero-priced lines add a department without value).
      for (let d = 0; d < DEPARTMENTS.length; d++) if (f[TXN.categoryMix + d] > 0) expect((c.basketDepartments >>> d) & 1).toBe(1);
      expect(c.basketDepartments).toBe(t.items.reduce((m, i) => m | (1 << departmentIndex(i.category)), 0));
    }
  });
});
