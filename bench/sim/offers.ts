/**
 * A seeded set of partner offers for simulation and training: advertisers that each focus on one department,
 * cpc/cpm/cpa bids of realistic sizes, and price points per department. This is the simulator's own offer
 * set (the demo catalog for the running server lives in src/catalog); it only needs to cover the feature
 * space the model will see: every department, every bid type, priced and unpriced offers.
 */
import type { Offer } from '../../src/catalog/types.js';
import { DEPARTMENTS, type Department } from '../../src/features/taxonomy.js';
import { Prng } from './prng.js';

/** Departments advertisers are drawn from, weighted like a grocery retail-media network's demand. */
const ADVERTISER_DEPT_WEIGHTS: Partial<Record<Department, number>> = {
  produce: 3,
  dairy_eggs: 4,
  meat_seafood: 3,
  bakery: 2,
  pantry: 6,
  snacks: 6,
  beverages: 6,
  frozen: 4,
  alcohol: 3,
  household: 4,
  personal_care: 4,
  baby: 3,
  pets: 3,
  health: 3,
  beauty: 3,
  electronics: 2,
  home_kitchen: 2,
  apparel: 1,
  sports_outdoors: 1,
  toys_games: 1,
  other: 0.5,
};

const MEDIAN_PRICE: Partial<Record<Department, number>> = {
  produce: 2.5,
  dairy_eggs: 3.5,
  meat_seafood: 7,
  bakery: 3.5,
  pantry: 3,
  snacks: 3.5,
  beverages: 4,
  frozen: 4.5,
  alcohol: 14,
  household: 6,
  personal_care: 6,
  baby: 12,
  pets: 12,
  health: 10,
  beauty: 12,
  electronics: 35,
  home_kitchen: 20,
  apparel: 25,
  sports_outdoors: 30,
  toys_games: 18,
  other: 8,
};

const SUBCATEGORIES = ['core', 'premium', 'organic', 'value', 'new', 'seasonal'];

export interface SimOfferOptions {
  count: number;
  advertisers?: number;
  tenant?: string;
  /** Flight start/end for every offer (the simulator does not model flights). */
  start?: number;
  end?: number;
}

export function generateSimOffers(seed: number, options: SimOfferOptions): Offer[] {
  const rng = new Prng(seed);
  const nAdv = options.advertisers ?? Math.max(4, Math.round(options.count / 8));
  const weights = DEPARTMENTS.map((d) => ADVERTISER_DEPT_WEIGHTS[d] ?? 0);
  const advertisers = Array.from({ length: nAdv }, (_, i) => ({
    id: `adv-${String(i).padStart(3, '0')}`,
    home: rng.weighted(weights),
    // An advertiser sticks to one bid type most of the time, as campaigns are bought that way.
    bidType: (['cpc', 'cpc', 'cpc', 'cpm', 'cpm', 'cpa'] as const)[rng.int(6)],
  }));
  const offers: Offer[] = [];
  for (let i = 0; i < options.count; i++) {
    const adv = advertisers[rng.int(nAdv)];
    const dept = rng.bernoulli(0.85) ? adv.home : rng.weighted(weights);
    const name = DEPARTMENTS[dept];
    const bidType = rng.bernoulli(0.8) ? adv.bidType : (['cpc', 'cpm', 'cpa'] as const)[rng.int(3)];
    const amount =
      bidType === 'cpc'
        ? 0.2 + Math.exp(Math.log(0.8) + 0.5 * rng.normal())
        : bidType === 'cpm'
          ? Math.exp(Math.log(8) + 0.5 * rng.normal())
          : Math.exp(Math.log(6) + 0.6 * rng.normal());
    const median = MEDIAN_PRICE[name] ?? 5;
    const hasPrice = rng.bernoulli(0.9);
    const sub = rng.pick(SUBCATEGORIES);
    offers.push({
      id: `sim-offer-${String(i).padStart(5, '0')}`,
      tenant: options.tenant ?? 'sim',
      advertiser: adv.id,
      campaign: `${adv.id}-c${rng.int(3)}`,
      category: `${name}/${sub}`,
      title: `${name} ${sub} offer ${i}`,
      creative: { headline: `${name} ${sub}` },
      bid: { type: bidType, amount: Math.round(amount * 100) / 100 },
      ...(hasPrice ? { price: Math.round(median * Math.exp(0.6 * rng.normal()) * 100) / 100 } : {}),
      status: 'active',
      start: options.start ?? 0,
      end: options.end ?? 8.64e15,
    });
  }
  return offers;
}
