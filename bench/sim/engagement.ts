/**
 * The simulator's ground truth: the probability that a buyer engages with (clicks) an offer shown at a given
 * slot of the checkout page. It is hand-written, not learned, so that training data and simulated buyers
 * have a known answer: a trained model can be compared with the truth (oracle AUC) and a ranking policy can
 * be scored by the engagement it actually causes.
 *
 * logit = base + per-department offset
 *       + affinity between the basket's department mix and the offer's department (baby basket -> baby,
 *         household and personal-care offers; snacks -> beverages; meat -> alcohol ...)
 *       + price fit between the basket's mean unit price and the offer's price point
 *       + hour-of-day and weekend effects per offer department
 *       + channel effect + advertiser quality + offer quality (seeded, not visible in features)
 * p = sigmoid(logit) × positionDecay(position)
 *
 * It computes its own basket statistics rather than calling the engine's feature code, so a bug in the
 * features shows up as a worse model instead of being mirrored in the truth.
 */
import type { Offer } from '../../src/catalog/types.js';
import { usdFactor } from '../../src/features/currency.js';
import { fnv1a } from '../../src/features/offer.js';
import { DEPARTMENTS, departmentIndex, type Department } from '../../src/features/taxonomy.js';
import type { Transaction } from '../../src/protocol/messages.js';
import { Prng } from './prng.js';

const D = DEPARTMENTS.length;
const idx = (d: Department): number => DEPARTMENTS.indexOf(d);

const BASE_LOGIT = Math.log(0.02 / (1 - 0.02));
const AFFINITY_GAIN = 1.8;

/** Basket department -> offer department affinity, in logit units before AFFINITY_GAIN. */
const AFFINITY: Float64Array = (() => {
  const a = new Float64Array(D * D);
  const set = (from: Department, to: Partial<Record<Department, number>>): void => {
    for (const [k, v] of Object.entries(to)) a[idx(from) * D + idx(k as Department)] = v;
  };
  for (let i = 0; i < D; i++) a[i * D + i] = 1.0;
  a[idx('other') * D + idx('other')] = 0;
  set('produce', { dairy_eggs: 0.4, pantry: 0.3, home_kitchen: 0.3, meat_seafood: 0.3 });
  set('dairy_eggs', { bakery: 0.5, pantry: 0.3, produce: 0.3, frozen: 0.2 });
  set('meat_seafood', { alcohol: 0.5, produce: 0.3, pantry: 0.3, sports_outdoors: 0.3 });
  set('bakery', { dairy_eggs: 0.5, beverages: 0.3 });
  set('pantry', { home_kitchen: 0.4, snacks: 0.2 });
  set('snacks', { beverages: 0.7, alcohol: 0.5, toys_games: 0.2 });
  set('beverages', { snacks: 0.7, alcohol: 0.3 });
  set('frozen', { snacks: 0.3, beverages: 0.2 });
  set('alcohol', { alcohol: 1.5, snacks: 0.8, meat_seafood: 0.4, beverages: 0.3, baby: -0.5 });
  set('household', { personal_care: 0.6, home_kitchen: 0.5, baby: 0.2 });
  set('personal_care', { beauty: 0.8, health: 0.5, household: 0.4 });
  set('baby', { baby: 2.5, household: 0.9, personal_care: 0.6, health: 0.5, toys_games: 0.8, alcohol: -0.8 });
  set('pets', { pets: 2.5, household: 0.3 });
  set('health', { personal_care: 0.6, beauty: 0.3 });
  set('beauty', { personal_care: 0.7, beauty: 1.5 });
  set('electronics', { electronics: 1.8, toys_games: 0.4 });
  set('home_kitchen', { household: 0.5 });
  set('apparel', { sports_outdoors: 0.4, beauty: 0.3 });
  set('sports_outdoors', { beverages: 0.4, health: 0.3, apparel: 0.4 });
  set('toys_games', { baby: 0.5, snacks: 0.3 });
  return a;
})();

/** Offers in niche departments only appeal to baskets that show the need; generic appeal is lower. */
const DEPT_OFFSET: Partial<Record<Department, number>> = {
  pets: -0.5,
  baby: -0.5,
  electronics: -0.3,
  alcohol: -0.2,
  other: -0.3,
};

const CHANNEL_EFFECT: Record<Transaction['channel'], number> = { app: 0.25, web: 0, in_store: -0.35, other: -0.2 };

/** The part of the truth that depends only on the transaction; compute once, use for every offer. */
export interface BasketContext {
  /** Share of basket value per department (equal line weights when the basket is free). */
  mix: Float64Array;
  /** Value-weighted mean unit price, USD. */
  meanUnitUsd: number;
  valueUsd: number;
  /** Local hour 0..23 and weekday 0 = Sunday. */
  hour: number;
  weekend: boolean;
  channel: Transaction['channel'];
}

export function basketContext(txn: Transaction): BasketContext {
  const mix = new Float64Array(D);
  let value = 0;
  let units = 0;
  for (const it of txn.items) {
    const v = it.price * it.quantity;
    mix[departmentIndex(it.category)] += v;
    value += v;
    units += it.quantity;
  }
  if (value > 0) for (let i = 0; i < D; i++) mix[i] /= value;
  else for (const it of txn.items) mix[departmentIndex(it.category)] += 1 / txn.items.length;
  const f = usdFactor(txn.currency);
  const local = txn.ts + (txn.utc_offset_min ?? 0) * 60_000;
  const day = Math.floor(local / 86_400_000);
  const weekday = (((day + 4) % 7) + 7) % 7;
  return {
    mix,
    meanUnitUsd: units > 0 ? (value / units) * f : 0,
    valueUsd: value * f,
    hour: Math.floor((((local % 86_400_000) + 86_400_000) % 86_400_000) / 3_600_000),
    weekend: weekday === 0 || weekday === 6,
    channel: txn.channel,
  };
}

function timeEffect(dept: Department, hour: number, weekend: boolean): number {
  let t = 0;
  switch (dept) {
    case 'alcohol':
      t += hour >= 16 && hour < 23 ? 0.5 : hour < 11 ? -0.6 : 0;
      t += weekend ? 0.2 : 0;
      break;
    case 'bakery':
    case 'beverages':
      t += hour >= 6 && hour < 11 ? 0.3 : 0;
      break;
    case 'meat_seafood':
    case 'frozen':
    case 'produce':
      t += hour >= 15 && hour < 19 ? 0.2 : 0;
      break;
    case 'electronics':
    case 'apparel':
    case 'home_kitchen':
      t += hour >= 19 ? 0.3 : 0;
      break;
    case 'toys_games':
      t += (hour >= 19 ? 0.3 : 0) + (weekend ? 0.3 : 0);
      break;
    case 'sports_outdoors':
      t += weekend ? 0.4 : 0;
      break;
    case 'health':
      t += weekend ? 0 : 0.1;
      break;
    default:
      break;
  }
  return t;
}

/** Multiplicative slot effect: the same offer is engaged less further down the list. */
export function positionDecay(position: number): number {
  return Math.pow(Math.max(1, position), -0.7);
}

export interface GroundTruth {
  /** P(engage | shown at `position`, 1-based). */
  engageProbability(txn: Transaction, offer: Offer, position: number): number;
  /** The same from a precomputed basket context (the fast path for many offers per transaction). */
  engageProbabilityCtx(ctx: BasketContext, offer: Offer, currency: string, position: number): number;
}

/** The seed only draws the hidden advertiser and offer qualities; the structure is fixed. */
export function createGroundTruth(seed: number): GroundTruth {
  const quality = new Map<string, number>();
  const hidden = (key: string, sd: number): number => {
    let q = quality.get(key);
    if (q === undefined) {
      q = new Prng((fnv1a(key) ^ Math.imul(seed, 0x9e3779b1)) >>> 0).normal() * sd;
      quality.set(key, q);
    }
    return q;
  };

  const ctxProbability = (ctx: BasketContext, offer: Offer, currency: string, position: number): number => {
    const o = departmentIndex(offer.category);
    const dept = DEPARTMENTS[o];
    let z = BASE_LOGIT + (DEPT_OFFSET[dept] ?? 0);
    let aff = 0;
    for (let a = 0; a < D; a++) if (ctx.mix[a] > 0) aff += ctx.mix[a] * AFFINITY[a * D + o];
    z += AFFINITY_GAIN * aff;
    if (offer.price !== undefined && ctx.meanUnitUsd > 0) {
      const priceUsd = offer.price * usdFactor(currency);
      // Buyers respond to offers a little above what they usually pay per item, not far above or below.
      z -= Math.min(1.2, 0.5 * Math.abs(Math.log(Math.max(0.01, priceUsd) / (2.5 * ctx.meanUnitUsd))));
    }
    if (ctx.valueUsd > 100) z += 0.2;
    z += timeEffect(dept, ctx.hour, ctx.weekend);
    z += CHANNEL_EFFECT[ctx.channel];
    z += hidden(`adv:${offer.advertiser}`, 0.35) + hidden(`offer:${offer.id}`, 0.2);
    return positionDecay(position) / (1 + Math.exp(-z));
  };

  return {
    engageProbability: (txn, offer, position) => ctxProbability(basketContext(txn), offer, txn.currency, position),
    engageProbabilityCtx: ctxProbability,
  };
}
