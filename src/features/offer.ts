/**
 * Offer -> features. Runs once per offer per catalog version (never per request): the worker builds the
 * whole N x OFFER_DIM matrix when it adopts a catalog and feeds it through the model's offer tower.
 */
import type { Offer } from '../catalog/types.js';
import { ADVERTISER_BUCKETS, BID_TYPES, OFFER, OFFER_DIM, PRICE_TIER_COUNT, clip01, priceTier } from './spec.js';
import { departmentIndex } from './taxonomy.js';
import { usdFactor } from './currency.js';

const LOG101 = Math.log(101);
const LOG1001 = Math.log(1001);

/** 32-bit FNV-1a: stable across runs and languages, so advertiser buckets never move. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Writes the OFFER_DIM features of `offer` into `out` at `offset`. `currency` is the tenant's. */
export function offerFeatures(offer: Offer, currency: string, out: Float32Array, offset = 0): void {
  out.fill(0, offset, offset + OFFER_DIM);
  out[offset + OFFER.category + departmentIndex(offer.category)] = 1;
  out[offset + OFFER.advertiser + (fnv1a(offer.advertiser) % ADVERTISER_BUCKETS)] = 1;
  out[offset + OFFER.bidType + BID_TYPES.indexOf(offer.bid.type)] = 1;
  out[offset + OFFER.bidAmount] = clip01(Math.log1p(offer.bid.amount) / LOG101);
  if (offer.price === undefined) {
    out[offset + OFFER.priceTier + PRICE_TIER_COUNT] = 1;
  } else {
    const usd = offer.price * usdFactor(currency);
    out[offset + OFFER.priceTier + priceTier(usd)] = 1;
    out[offset + OFFER.pricePoint] = clip01(Math.log1p(usd) / LOG1001);
  }
}

/** The N x OFFER_DIM matrix for a list of offers, row i = offers[i]. */
export function offerMatrix(offers: readonly Offer[], currency: string): Float32Array {
  const m = new Float32Array(offers.length * OFFER_DIM);
  for (let i = 0; i < offers.length; i++) offerFeatures(offers[i], currency, m, i * OFFER_DIM);
  return m;
}
