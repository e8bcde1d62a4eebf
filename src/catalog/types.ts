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

export interface Placement {
  id: string;
  name: string;
  /** Most offers this placement can show; a request's k is capped by it. */
  slots: number;
}

export interface Tenant {
  id: string;
  name: string;
  /** ISO 4217 currency of the tenant's bids. */
  currency: string;
  placements: Placement[];
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
}
