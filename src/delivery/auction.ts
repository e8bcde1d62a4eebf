/**
 * Pricing of one shown offer, in the unit of its own bid (per 1,000 impressions for cpm, per click for cpc,
 * per conversion for cpa), so the result goes straight into Billing.price (src/delivery/types.ts).
 *
 * Offers are ranked by value v (money per impression) while each bids in its own unit. q = v / bid is the
 * value one unit of this offer's bid buys, so "the bid this offer needed to be worth x per impression" is
 * x / q, whatever the bid type: that puts the competitor's value and the floor (an eCPM, i.e. per 1,000
 * impressions, hence the / 1000) into the bid's unit without caring about CTR or CVR priors.
 */

/** First price: the offer pays its bid. */
export function firstPrice(bidAmount: number): number {
  return bidAmount;
}

/**
 * Generalized second price: the least bid that would still have beaten `competitor` (money per impression,
 * 0 when there is none) and cleared the floor, never more than the bid. With no competitor and no floor
 * the price is 0, as in any second-price auction without a reserve.
 *
 * `value` > 0 and finite, `bidAmount` > 0 and finite (the selector only prices such candidates).
 */
export function gspPrice(value: number, bidAmount: number, competitor: number, floorCpm: number): number {
  const reserve = floorCpm / 1000;
  const needed = competitor > reserve ? competitor : reserve;
  // needed / q with q = value / bidAmount. When needed > value (an explored offer priced against a better
  // one it jumped over, or rounding at the floor) the bid caps it.
  const price = (needed / value) * bidAmount;
  return price < bidAmount ? price : bidAmount;
}
