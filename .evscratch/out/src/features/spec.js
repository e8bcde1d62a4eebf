/**
 * The feature spec: the one definition of the numbers a model sees. Serving (workers/inference) and training
 * (src/learning, models/train.ts) both build features with the functions in this folder, so there is no
 * training/serving skew by construction. docs/FEATURES.md documents every slot.
 *
 * A model's manifest states the spec version it was trained on; the engine refuses a model whose version
 * differs from FEATURE_SPEC_VERSION. Any change to a slot's meaning or order bumps this number.
 */
import { DEPARTMENT_COUNT } from './taxonomy.js';
export const FEATURE_SPEC_VERSION = 1;
/** Price tiers in USD, upper bounds exclusive: budget < 3, value < 10, mid < 40, premium otherwise. */
export const PRICE_TIER_BOUNDS_USD = [3, 10, 40];
export const PRICE_TIER_COUNT = PRICE_TIER_BOUNDS_USD.length + 1;
export const CHANNELS = ['web', 'app', 'in_store', 'other'];
/** Advertisers are hashed into this many buckets (one-hot), so new advertisers need no retraining. */
export const ADVERTISER_BUCKETS = 16;
export const BID_TYPES = ['cpm', 'cpc', 'cpa'];
/** Transaction-side layout: [start, length) of each block. */
export const TXN = {
    categoryMix: 0, // DEPARTMENT_COUNT: share of basket value per department, sums to 1
    priceTier: DEPARTMENT_COUNT, // PRICE_TIER_COUNT: one-hot tier of the value-weighted mean unit price
    basketUnits: DEPARTMENT_COUNT + PRICE_TIER_COUNT, // log1p(total quantity) / log(51), clipped to [0, 1]
    basketLines: DEPARTMENT_COUNT + PRICE_TIER_COUNT + 1, // log1p(line count) / log(51), clipped
    basketValue: DEPARTMENT_COUNT + PRICE_TIER_COUNT + 2, // log1p(total in USD) / log(1001), clipped
    hour: DEPARTMENT_COUNT + PRICE_TIER_COUNT + 3, // sin, cos of local hour-of-day angle
    weekday: DEPARTMENT_COUNT + PRICE_TIER_COUNT + 5, // sin, cos of local weekday angle
    weekend: DEPARTMENT_COUNT + PRICE_TIER_COUNT + 7, // 1 on Saturday and Sunday (local)
    channel: DEPARTMENT_COUNT + PRICE_TIER_COUNT + 8, // one-hot over CHANNELS
};
export const TXN_DIM = TXN.channel + CHANNELS.length;
/** Offer-side layout. */
export const OFFER = {
    category: 0, // DEPARTMENT_COUNT: one-hot department of the offer's category
    advertiser: DEPARTMENT_COUNT, // ADVERTISER_BUCKETS: one-hot FNV-1a bucket of the advertiser id
    bidType: DEPARTMENT_COUNT + ADVERTISER_BUCKETS, // one-hot over BID_TYPES
    bidAmount: DEPARTMENT_COUNT + ADVERTISER_BUCKETS + 3, // log1p(bid amount) / log(101), clipped
    priceTier: DEPARTMENT_COUNT + ADVERTISER_BUCKETS + 4, // PRICE_TIER_COUNT + 1: tiers, then "no price"
    pricePoint: DEPARTMENT_COUNT + ADVERTISER_BUCKETS + 4 + PRICE_TIER_COUNT + 1, // log1p(price USD)/log(1001)
};
export const OFFER_DIM = OFFER.pricePoint + 1;
export function priceTier(usd) {
    let t = 0;
    while (t < PRICE_TIER_BOUNDS_USD.length && usd >= PRICE_TIER_BOUNDS_USD[t])
        t++;
    return t;
}
export function clip01(x) {
    return x < 0 ? 0 : x > 1 ? 1 : x;
}
