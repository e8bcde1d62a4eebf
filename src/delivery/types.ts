/**
 * The values the delivery rules (eligibility, caps, budgets, pacing, selection, pricing, exploration) pass
 * between the main thread and the inference workers. Computed once at the edge, never re-validated inward.
 */
import type { BidType } from '../catalog/types.js';

/** Which policy serves a decision: the model (`ai`) or the rules baseline of the holdout (`rules`). */
export type Arm = 'ai' | 'rules';

/** What the eligibility rules need of one request; built on the main thread from the validated request. */
export interface RequestContext {
  placement: string;
  /** Index into CHANNELS (src/features/spec.ts). */
  channel: number;
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
  /** Bit d set when a basket line maps to department d (index into DEPARTMENTS, src/features/taxonomy.ts). */
  basketDepartments: number;
  /** Basket total converted to the tenant's currency. */
  basketTotal: number;
  /** Index into PRICE_TIERS (src/catalog/types.ts): tier of the basket's value-weighted mean unit price. */
  priceTier: number;
  /** Buyer-local hour 0..23 and weekday 0..6 (0 = Sunday). */
  hour: number;
  weekday: number;
  /** Decision time, ms since the epoch (server clock): flights, pacing and cap windows use it. */
  now: number;
}

/** One offer served to a buyer key, as the frequency-cap history keeps it. */
export interface ServedEntry {
  offerId: string;
  campaign: string;
  advertiser: string;
  /** When it was served, ms since the epoch. */
  ts: number;
}

/** How a shown offer is billed: the event that charges, and the price per billing unit. */
export interface Billing {
  campaign: string;
  advertiser: string;
  bidType: BidType;
  /** In the tenant's currency, in the bid's unit: per 1,000 impressions (cpm), per click (cpc), per
   * conversion (cpa). The charge of one billable event is price / 1000 for cpm, price otherwise. */
  price: number;
}

/** The money one billable event costs, given its billing. */
export function chargeOf(b: Billing): number {
  return b.bidType === 'cpm' ? b.price / 1000 : b.price;
}

/** The event kind that bills an offer of this bid type. */
export function billableKind(t: BidType): 'impression' | 'click' | 'conversion' {
  return t === 'cpm' ? 'impression' : t === 'cpc' ? 'click' : 'conversion';
}
