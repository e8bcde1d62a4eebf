/**
 * The held-out split of the labelled-example stream, shared by the online trainer (which never trains on a
 * held-out example) and the model manager (which compares candidates with the serving model on recent
 * held-out examples only).
 *
 * The split is a hash of the decision id, not a random draw: both threads decide the same way without talking
 * to each other, across restarts, and every example of one decision (its several offers) falls on the same
 * side, so nothing about a held-out checkout leaks into training through its sibling impressions.
 *
 * A constant rather than an option: if the two threads ever disagreed, the manager would judge candidates on
 * examples they were trained on.
 */
import { fnv1a } from '../features/offer.js';

/** Share of decisions held out from training: 10%. */
export const HOLDOUT_FRACTION = 0.1;

const BUCKETS = 1000;
const HELD = Math.round(HOLDOUT_FRACTION * BUCKETS);

export function isHoldout(decisionId: string): boolean {
  return fnv1a(decisionId) % BUCKETS < HELD;
}
