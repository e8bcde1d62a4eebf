/**
 * The catalog's records, as validated by the loader and stored in LMDB. Everything behind the loader uses
 * these types and never re-validates.
 */
import type { Creative } from '../protocol/messages.js';

export type BidType = 'cpm' | 'cpc' | 'cpa';
export type OfferStatus = 'active' | 'paused' | 'archived';

export interface Bid {
  type: BidType;
  /** In the tenant's currency, major units: per 1,000 impressions (cpm), per click (cpc), per conversion (cpa). */
  amount: number;
}

export interface Offer {
  id: string;
  /** The retailer whose checkout may show this offer. */
  tenant: string;
  advertiser: string;
  campaign: string;
  /** Category path, e.g. "beverages/coffee/ground"; mapped onto the taxonomy by its first segment. */
  category: string;
  title: string;
  creative: Creative;
  bid: Bid;
  /** Price point of the promoted product in the tenant's currency, when it has one. */
  price?: number;
  status: OfferStatus;
  /** Flight, milliseconds since the Unix epoch: served when start <= now < end. */
  start: number;
  end: number;
}

export type PricingRule = 'gsp' | 'first';

/**
 * Per-placement exploration (epsilon-greedy over the ranked list, see src/delivery): with probability epsilon a
 * slot is filled uniformly from the `pool` best remaining candidates instead of the best one. epsilon 0 = off.
 */
export interface Exploration {
  /** 0..0.5. Default 0 (off). */
  epsilon: number;
  /** 2..50 candidates a slot may be explored from. Default 10. */
  pool: number;
}

export interface Placement {
  id: string;
  name: string;
  /** Most offers this placement can show; a request's k is capped by it. */
  slots: number;
  /** Reserve price as eCPM, tenant currency per 1,000 impressions: an offer whose expected value per 1,000
   * impressions is below it is not shown, and no offer pays less than it. Default 0. */
  floorCpm: number;
  /** Minimum p(click) an offer needs to be shown here (protects the checkout from irrelevant offers). Default 0. */
  minRelevance: number;
  /** How a shown offer is priced. Default 'gsp'. */
  pricing: PricingRule;
  exploration: Exploration;
  /** At most one offer per taxonomy department in one answer. Default false. (One per advertiser is always on.) */
  categoryExclusivity: boolean;
  /** Share of this placement's traffic served by the rules policy, 0..1 (the holdout arm). Default 0. */
  holdout: number;
  /** Brand safety on top of the tenant's lists: advertiser ids, and category path prefixes ("alcohol",
   * "beverages/energy"), never shown here. Default []. */
  blockedAdvertisers: string[];
  blockedCategories: string[];
}

export interface Tenant {
  id: string;
  name: string;
  /** ISO 4217 currency of the tenant's bids. */
  currency: string;
  placements: Placement[];
  /** Never shown on any of the tenant's placements (see Placement). Default []. */
  blockedAdvertisers: string[];
  blockedCategories: string[];
}

export type PacingMode = 'even' | 'asap';
export type CapScope = 'offer' | 'campaign' | 'advertiser';

/** At most `max` offers of the scope's entity served to one buyer key within `windowMs`. */
export interface FrequencyCap {
  scope: CapScope;
  max: number;
  windowMs: number;
}

/** Price tier names, index = src/features/spec.ts priceTier() of the basket's mean unit price in USD. */
export const PRICE_TIERS = ['budget', 'value', 'mid', 'premium'] as const;
export type PriceTierName = (typeof PRICE_TIERS)[number];

/**
 * Who a campaign may be shown to. Every field is optional; an absent field does not restrict. Department
 * names are those of src/features/taxonomy.ts (a basket is "in" a department when one of its lines is).
 */
export interface Targeting {
  placements?: string[];
  channels?: ('web' | 'app' | 'in_store' | 'other')[];
  /** ISO 3166-1 alpha-2. */
  countries?: string[];
  /** Shown only when the basket has a line in one of these departments. */
  basketDepartmentsAny?: string[];
  /** Never shown when the basket has a line in one of these departments. */
  basketDepartmentsNone?: string[];
  /** Basket total range in the tenant's currency: min <= total < max. */
  basketMin?: number;
  basketMax?: number;
  priceTiers?: PriceTierName[];
  /** Buyer-local hours 0..23 and weekdays 0..6 (0 = Sunday). */
  hours?: number[];
  weekdays?: number[];
}

export interface Budget {
  /** Lifetime budget in the tenant's currency; absent = unlimited. */
  total?: number;
  /** Per UTC day; absent = unlimited. */
  daily?: number;
}

export interface Campaign {
  id: string;
  tenant: string;
  advertiser: string;
  name: string;
  status: OfferStatus;
  /** Flight, ms since epoch; an offer is served only inside both its own and its campaign's flight. */
  start: number;
  end: number;
  budget: Budget;
  /** The default bid of the campaign's offers; an offer's own bid overrides it. Absent: every offer bids. */
  bid?: Bid;
  pacing: PacingMode;
  frequencyCaps: FrequencyCap[];
  targeting: Targeting;
}

/**
 * A rules-policy rule (the holdout arm's baseline): when the basket has a line in one of `whenDepartments`,
 * offers whose category starts with one of `offerCategories` match; the rules policy shows the highest bids
 * among matches.
 */
export interface Rule {
  id: string;
  tenant: string;
  whenDepartments: string[];
  offerCategories: string[];
}

/** One immutable catalog version: what a load writes in one LMDB transaction and workers read whole. */
export interface CatalogSnapshot {
  version: number;
  /** ms since epoch. */
  loadedAt: number;
  /** Where it came from (a file path, "admin", "demo") and the sha256 of its bytes. */
  source: string;
  sha256: string;
  tenants: Tenant[];
  offers: Offer[];
  /** Sorted by (tenant, id). Every offer's campaign is here: a campaign the file does not define is implied
   * by its offers (unlimited budget, no caps, no targeting, the offers' advertiser). */
  campaigns: Campaign[];
  /** Sorted by (tenant, id). */
  rules: Rule[];
}
