/**
 * The AI lift: how much better the model arm ('ai') does than the rules holdout ('rules') on one rate, with
 * a 95% confidence interval. Pure functions; docs/REPORTS.md states the method.
 *
 * Method: the delta method on the log of the ratio of the two rates. For proportions p = x / n (x successes
 * of n trials, independent between arms):
 *
 *   log(p1 / p2) ± z * sqrt((1 - p1) / x1 + (1 - p2) / x2),   z = 1.96
 *
 * exponentiated, minus 1: a relative lift and its interval (0.25 = +25%). The log scale keeps the interval
 * inside (-100%, ∞) and makes it asymmetric, as a ratio's uncertainty is. It needs x > 0 in both arms (the
 * log of 0 is undefined), so the interval is null when a count is 0, and when a "proportion" is above 1 (more
 * successes than trials, e.g. clicks whose impression beacon was lost outnumbering impressions), where the
 * binomial variance does not apply.
 *
 * RPM (money per impression) is not a proportion: spend is a sum of charges c_i. Treating the billable events
 * as a Poisson process with the impressions as exposure, Var(spend) ≈ Σ c_i² (compound Poisson), so
 *
 *   log(r1 / r2) ± z * sqrt(Σc²_1 / S1² + Σc²_2 / S2²)
 *
 * With a single price this is 1/k (k billable events), the Poisson interval of a count; mixed prices widen
 * it. For CPM billing it is conservative (spend then follows impressions almost deterministically).
 */

/** The normal quantile for a two-sided 95% interval (rounded as in the textbooks and docs/REPORTS.md). */
export const Z95 = 1.96;

export interface LiftFigure {
  /** The rate on the ai arm, or null when its denominator is 0. */
  ai: number | null;
  /** The rate on the rules arm, or null when its denominator is 0. */
  rules: number | null;
  /** ai / rules - 1, or null when either rate is null or rules is 0. */
  lift: number | null;
  /** 95% interval of the lift, or null when a count is 0 or a rate is not a proportion (see above). */
  ci95: [number, number] | null;
}

/** Successes and trials of one arm. */
export interface Proportion {
  x: number;
  n: number;
}

function rate(x: number, n: number): number | null {
  return n > 0 ? x / n : null;
}

function relative(ai: number | null, rules: number | null): number | null {
  return ai === null || rules === null || rules === 0 ? null : ai / rules - 1;
}

function interval(logRatio: number, variance: number, z: number): [number, number] {
  const half = z * Math.sqrt(variance);
  return [Math.exp(logRatio - half) - 1, Math.exp(logRatio + half) - 1];
}

/** Lift of proportion x/n, ai over rules. */
export function proportionLift(ai: Proportion, rules: Proportion, z = Z95): LiftFigure {
  const p1 = rate(ai.x, ai.n);
  const p2 = rate(rules.x, rules.n);
  const lift = relative(p1, p2);
  if (p1 === null || p2 === null || ai.x <= 0 || rules.x <= 0 || p1 > 1 || p2 > 1) return { ai: p1, rules: p2, lift, ci95: null };
  const variance = (1 - p1) / ai.x + (1 - p2) / rules.x;
  return { ai: p1, rules: p2, lift, ci95: interval(Math.log(p1 / p2), variance, z) };
}

/** Money per `per` units of exposure of one arm: spend (sum of charges), the sum of squared charges, and the
 * exposure (impressions). */
export interface MoneyRate {
  spend: number;
  spendSq: number;
  exposure: number;
}

/** Lift of spend / exposure * per (per = 1000: RPM), ai over rules; compound-Poisson interval (see above). */
export function moneyRateLift(ai: MoneyRate, rules: MoneyRate, per = 1000, z = Z95): LiftFigure {
  const r1 = ai.exposure > 0 ? (ai.spend / ai.exposure) * per : null;
  const r2 = rules.exposure > 0 ? (rules.spend / rules.exposure) * per : null;
  const lift = relative(r1, r2);
  if (r1 === null || r2 === null || !(ai.spend > 0 && rules.spend > 0 && ai.spendSq > 0 && rules.spendSq > 0)) {
    return { ai: r1, rules: r2, lift, ci95: null };
  }
  const variance = ai.spendSq / (ai.spend * ai.spend) + rules.spendSq / (rules.spend * rules.spend);
  return { ai: r1, rules: r2, lift, ci95: interval(Math.log(r1 / r2), variance, z) };
}
