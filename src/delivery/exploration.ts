/**
 * Epsilon-greedy slot filling (src/delivery/select.ts): the size of the candidate list it needs, and the
 * exact probability of each choice, logged as ShownOffer.propensity for off-policy evaluation.
 *
 * Per slot, over the remaining valid candidates (best first): P = the best min(pool, remaining) of them.
 * With probability 1 - epsilon the best is taken, else one of P uniformly (which may again be the best).
 * So the chosen candidate's propensity is (best ? 1 - epsilon : 0) + epsilon / |P|, and 1 when |P| = 1 or
 * epsilon = 0. A propensity is conditional on the slots before it; the probability of the whole answer is
 * the product of its slots' propensities.
 */

/** Hard cap on the candidate list of one decision (the top advertiser-bests kept by the O(n) pass). */
export const MAX_CANDIDATES = 64;

/**
 * How many advertiser-bests the selection keeps, M = max(k + pool, 2k), doubled with category exclusivity,
 * capped at MAX_CANDIDATES: enough for every slot plus a full exploration pool after the other slots are
 * taken, and at least 2k so the GSP competitor of the last slot is always among them. Exclusivity rules out
 * the candidates of every department shown, so it keeps more (the selector refreshes the list if they all
 * go). The selector passes pool = 0 when it does not explore (epsilon 0): only the best is ever taken.
 */
export function candidateLimit(k: number, pool: number, categoryExclusivity = false): number {
  const m = Math.max(k + pool, 2 * k) * (categoryExclusivity ? 2 : 1);
  return m < MAX_CANDIDATES ? m : MAX_CANDIDATES;
}

/** How many candidates a slot may choose from: the pool when exploring, else only the best. */
export function explorationWidth(epsilon: number, pool: number): number {
  if (!(epsilon > 0) || !(pool > 1)) return 1;
  return pool < MAX_CANDIDATES ? Math.floor(pool) : MAX_CANDIDATES;
}

/** The probability that the slot chose this candidate, given the slots before it. `poolSize` = |P| >= 1. */
export function slotPropensity(isBest: boolean, epsilon: number, poolSize: number): number {
  if (poolSize <= 1 || !(epsilon > 0)) return isBest ? 1 : 0;
  return (isBest ? 1 - epsilon : 0) + epsilon / poolSize;
}

/**
 * Draws one slot's choice: an index into P (0 = the best). Consumes no randomness when there is nothing to
 * choose between, so a greedy placement's stream of draws is empty and its answers reproducible without one.
 */
export function drawSlot(epsilon: number, poolSize: number, random: () => number): number {
  if (poolSize <= 1 || !(epsilon > 0)) return 0;
  if (!(random() < epsilon)) return 0;
  const i = Math.floor(random() * poolSize);
  // random() is [0, 1); the clamp only guards a generator that returns 1.
  return i < poolSize ? i : poolSize - 1;
}
