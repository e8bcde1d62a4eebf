/**
 * Seeded checkout transactions for training data and simulated buyers.
 *
 * With real data (loadRealData) each transaction replays a real Instacart basket: its lines' departments and
 * aisles, its hour and weekday; unit prices and quantities are drawn from Complete Journey lines of the same
 * department, and some baskets get one or two real Complete Journey non-grocery lines, because Instacart
 * sells no health, beauty or general merchandise and offers in those departments need baskets to learn from.
 * Without real data a synthetic generator with similar statistics is used instead, and says so.
 *
 * Channel, time zone and calendar date are not in either data set and are always synthetic.
 */
import type { Channel, LineItem, Transaction } from '../../src/protocol/messages.js';
import { DEPARTMENTS, type Department } from '../../src/features/taxonomy.js';
import { Prng } from './prng.js';
import type { RealData, RealLine } from './real-data.js';

export type DataProvenance = 'real' | 'synthetic';

export interface TransactionSource {
  readonly provenance: DataProvenance;
  /** One line per input, for training reports. */
  readonly description: string[];
  next(): Transaction;
}

const CHANNELS: readonly Channel[] = ['app', 'web', 'in_store', 'other'];
const CHANNEL_WEIGHTS = [0.4, 0.3, 0.25, 0.05];
/** US time zones (minutes east of UTC) weighted roughly by population; DST is ignored. */
const UTC_OFFSETS = [-300, -360, -420, -480];
const UTC_OFFSET_WEIGHTS = [0.47, 0.3, 0.07, 0.16];
const NON_GROCERY_SHARE = 0.15;
const DAY_MS = 86_400_000;
/** 2024-01-07, a Sunday: the calendar base of generated dates. */
const BASE_SUNDAY_UTC = Date.UTC(2024, 0, 7);

/**
 * Synthetic statistics, set from the real data so that the fallback resembles it: department share of lines
 * (Instacart), median unit price in USD (Complete Journey), hour and weekday distributions (Instacart).
 */
const SYNTH_DEPT_SHARE: Partial<Record<Department, number>> = {
  produce: 0.29,
  dairy_eggs: 0.17,
  snacks: 0.09,
  beverages: 0.08,
  frozen: 0.07,
  pantry: 0.14,
  bakery: 0.036,
  meat_seafood: 0.055,
  household: 0.023,
  personal_care: 0.014,
  baby: 0.013,
  pets: 0.003,
  alcohol: 0.005,
  other: 0.002,
};
const SYNTH_MEDIAN_PRICE: Partial<Record<Department, number>> = {
  produce: 1.67,
  dairy_eggs: 1.59,
  meat_seafood: 3.12,
  bakery: 1.5,
  pantry: 1.5,
  snacks: 1.79,
  beverages: 1.87,
  frozen: 2.0,
  alcohol: 7.99,
  household: 2.5,
  personal_care: 2.99,
  baby: 1.5,
  pets: 1.29,
  health: 3.89,
  beauty: 3.59,
  electronics: 3.59,
  home_kitchen: 2.71,
  apparel: 4.99,
  sports_outdoors: 3.34,
  toys_games: 1.99,
  other: 2.86,
};
const NON_GROCERY_DEPTS: Department[] = ['health', 'beauty', 'electronics', 'home_kitchen', 'apparel', 'sports_outdoors', 'toys_games'];
const HOUR_WEIGHTS = [
  0.7, 0.4, 0.2, 0.2, 0.2, 0.3, 0.9, 2.8, 5.5, 7.6, 8.4, 8.3, 7.9, 8.0, 8.2, 8.1, 7.7, 6.6, 5.2, 4.0, 3.1, 2.5, 1.9, 1.3,
];
const WEEKDAY_WEIGHTS = [0.19, 0.17, 0.13, 0.12, 0.12, 0.13, 0.14];
const QUANTITY_WEIGHTS = [0, 0.8, 0.14, 0.03, 0.015, 0.005, 0.004, 0.002, 0.002, 0.001, 0.001];

interface Line {
  department: number;
  aisle: string;
  sku: string;
  unitPrice: number;
  quantity: number;
}

function cents(x: number): number {
  return Math.round(x * 100) / 100;
}

function buildTransaction(rng: Prng, id: string, weekday: number, hour: number, lines: Line[]): Transaction {
  const utc = UTC_OFFSETS[rng.weighted(UTC_OFFSET_WEIGHTS)];
  const week = rng.int(52);
  const localMs = BASE_SUNDAY_UTC + (week * 7 + weekday) * DAY_MS + hour * 3_600_000 + rng.int(3_600_000);
  const items: LineItem[] = lines.map((l) => ({
    sku: l.sku,
    category: `${DEPARTMENTS[l.department]}/${l.aisle}`,
    price: l.unitPrice,
    quantity: l.quantity,
  }));
  const subtotal = lines.reduce((s, l) => s + l.unitPrice * l.quantity, 0);
  // Some checkouts carry a basket-level discount, so the total is not always the sum of the lines.
  const discount = rng.bernoulli(0.25) ? rng.uniform(0, 0.08) : 0;
  return {
    id,
    ts: localMs - utc * 60_000,
    utc_offset_min: utc,
    currency: 'USD',
    channel: CHANNELS[rng.weighted(CHANNEL_WEIGHTS)],
    country: 'US',
    items,
    total: cents(subtotal * (1 - discount)),
  };
}

class RealTransactions implements TransactionSource {
  readonly provenance = 'real' as const;
  readonly description: string[];
  private count = 0;

  constructor(
    private readonly data: RealData,
    private readonly rng: Prng,
  ) {
    this.description = [
      ...data.sources,
      'synthetic: channel, time zone, calendar week, basket discount; quantities resampled from Complete Journey',
    ];
  }

  private price(line: RealLine): number {
    const samples = this.data.pricesByDepartment[line.department];
    if (samples.length > 0) return samples[this.rng.int(samples.length)];
    const median = SYNTH_MEDIAN_PRICE[DEPARTMENTS[line.department]] ?? 3;
    return cents(median * Math.exp(0.5 * this.rng.normal()));
  }

  next(): Transaction {
    const order = this.rng.pick(this.data.orders);
    const lines: Line[] = order.lines.slice(0, 200).map((l) => ({
      ...l,
      unitPrice: this.price(l),
      quantity: this.rng.pick(this.data.quantities),
    }));
    if (this.data.nonGroceryLines.length > 0 && this.rng.bernoulli(NON_GROCERY_SHARE)) {
      const extra = 1 + this.rng.int(2);
      for (let k = 0; k < extra && lines.length < 200; k++) {
        const l = this.rng.pick(this.data.nonGroceryLines);
        lines.push({ ...l, quantity: 1 });
      }
    }
    return buildTransaction(this.rng, `sim-${this.count++}`, order.weekday, order.hour, lines);
  }
}

class SyntheticTransactions implements TransactionSource {
  readonly provenance = 'synthetic' as const;
  readonly description = [
    'synthetic generator (no data directory given or found): department mix, basket sizes, prices, hours and ' +
      'weekdays follow hard-coded statistics taken from the Instacart and Complete Journey data',
  ];
  private count = 0;
  private readonly deptWeights = DEPARTMENTS.map((d) => SYNTH_DEPT_SHARE[d] ?? 0);

  constructor(private readonly rng: Prng) {}

  private line(department: number): Line {
    const name = DEPARTMENTS[department];
    const median = SYNTH_MEDIAN_PRICE[name] ?? 3;
    const sub = this.rng.int(6);
    return {
      department,
      aisle: `${name}_${sub}`,
      sku: `syn-${department}-${sub}-${this.rng.int(500)}`,
      unitPrice: Math.max(0.25, cents(median * Math.exp(0.6 * this.rng.normal()))),
      quantity: this.rng.weighted(QUANTITY_WEIGHTS),
    };
  }

  next(): Transaction {
    // Basket sizes are right-skewed (median about 8, mean about 10 lines) like the Instacart orders.
    const size = Math.max(1, Math.min(80, Math.round(Math.exp(2.05 + 0.75 * this.rng.normal()))));
    // Baskets lean on a few departments: draw a per-basket tilt so mixes are not all the global average.
    const tilt = this.deptWeights.map((w) => w * Math.exp(0.8 * this.rng.normal()));
    const lines: Line[] = [];
    for (let k = 0; k < size; k++) lines.push(this.line(this.rng.weighted(tilt)));
    if (this.rng.bernoulli(NON_GROCERY_SHARE)) {
      const d = DEPARTMENTS.indexOf(this.rng.pick(NON_GROCERY_DEPTS));
      lines.push({ ...this.line(d), quantity: 1 });
    }
    const weekday = this.rng.weighted(WEEKDAY_WEIGHTS);
    const hour = this.rng.weighted(HOUR_WEIGHTS);
    return buildTransaction(this.rng, `sim-${this.count++}`, weekday, hour, lines);
  }
}

/** A seeded transaction source over real data when given, else the synthetic generator. */
export function createTransactionSource(seed: number, real: RealData | null): TransactionSource {
  const rng = new Prng(seed);
  return real ? new RealTransactions(real, rng) : new SyntheticTransactions(rng);
}
