/**
 * Cold start: a burn-in boost for campaigns with little delivery, so that new offers are not starved.
 *
 * A new campaign's offers have model scores from their features alone, and an auction keyed on expected
 * value favours offers that already have history. Multiplying a new campaign's ranking value by a boost
 * that starts above 1 and decays towards 1 as it gathers impressions (the campaign table's `impressions`,
 * counted by the spend ledger) buys it an early share of traffic, from which the learning loop then
 * estimates it properly. The decay 1 + b / sqrt(1 + impressions / n0) halves the extra b after 3 x n0
 * impressions (600 by default) and leaves a tenth of it after 99 x n0 (about 20,000): a boosted campaign
 * cannot hold a top slot on the boost alone for long, and the boost is never below 1, so history is never
 * penalised.
 * Pricing should use the unboosted value (the boost is the exchange's exploration, not the advertiser's bid).
 */

export interface ColdStartOptions {
  /** Extra weight at zero impressions: the boost starts at 1 + b. >= 0; default 0.5. */
  b?: number;
  /** Impressions scale of the decay, > 0; default 200. */
  n0?: number;
}

export const COLD_START_DEFAULTS: Readonly<Required<ColdStartOptions>> = { b: 0.5, n0: 200 };

/** A multiplier >= 1 for a campaign with `impressions` accepted impressions; 1 + b at 0, decaying to 1. */
export function coldStartBoost(impressions: number, opts: ColdStartOptions = COLD_START_DEFAULTS): number {
  const b = opts.b ?? COLD_START_DEFAULTS.b;
  const n0 = opts.n0 ?? COLD_START_DEFAULTS.n0;
  const n = impressions > 0 ? impressions : 0;
  return 1 + b / Math.sqrt(1 + n / n0);
}
