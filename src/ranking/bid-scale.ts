/**
 * Puts CPM, CPC and CPA bids on one scale: money per engagement (per click). The model predicts
 * p = p(click | impression), so expected value per impression is p x bidScale:
 *
 *   cpc: bidScale = amount                          ev = expected revenue per impression
 *   cpa: bidScale = amount x CVR_PRIOR              a conversion is worth `amount`, one click in 1/CVR_PRIOR converts
 *   cpm: bidScale = (amount / 1000) / CTR_PRIOR     pays per impression; scaled so that an offer of average
 *                                                   relevance (p = CTR_PRIOR) earns exactly amount/1000, and a
 *                                                   more relevant one ranks higher, protecting the checkout
 *
 * The priors are network-wide constants until the delivery work predicts click and conversion rates per
 * offer; they are part of the ranking contract (docs/SCORING.md) and change only with a version note.
 * Computed once per offer per catalog version and baked into the scorer, never per request.
 */
import type { Bid } from '../catalog/types.js';

export const CTR_PRIOR = 0.02;
export const CVR_PRIOR = 0.05;

export function bidScale(bid: Bid): number {
  switch (bid.type) {
    case 'cpc':
      return bid.amount;
    case 'cpa':
      return bid.amount * CVR_PRIOR;
    case 'cpm':
      return bid.amount / 1000 / CTR_PRIOR;
    default: {
      const never: never = bid.type;
      throw new Error(`unknown bid type ${String(never)}`);
    }
  }
}
