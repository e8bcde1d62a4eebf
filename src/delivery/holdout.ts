/**
 * The holdout split: which arm serves a request. Deterministic, so the same buyer (or, without a buyer key,
 * the same transaction) always lands in the same arm on every worker, process and restart, and a retry of a
 * request is served by the same policy. The unit is the buyer when there is one: a buyer who sees the AI on
 * one purchase and the rules on the next would blur the comparison (and their frequency caps) across arms.
 *
 * The split hashes (tenant, placement, unit) with a salt, so different placements split independently and
 * changing the salt reshuffles who is in the holdout without changing its share.
 */
import { fnv1a } from '../features/offer.js';
import type { Arm } from './types.js';

/** Changing this reassigns every unit to a fresh random arm (same shares). Part of the report's contract. */
export const HOLDOUT_SALT = 'txrank-holdout-1';

/** murmur3's 32-bit finaliser: FNV-1a alone leaves the low bits of similar keys correlated. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in [0, 1) fixed by the unit: the buyer key when present, else the transaction id. */
export function holdoutPoint(tenant: string, placement: string, unit: string): number {
  return fmix32(fnv1a(`${HOLDOUT_SALT}\u0000${tenant}\u0000${placement}\u0000${unit}`)) / 4294967296;
}

/** The arm of a request: `rules` for a `share` (0..1) of units, `ai` for the rest. */
export function assignArm(share: number, tenant: string, placement: string, buyer: string | undefined, txnId: string): Arm {
  if (share <= 0) return 'ai';
  if (share >= 1) return 'rules';
  return holdoutPoint(tenant, placement, buyer ?? `txn:${txnId}`) < share ? 'rules' : 'ai';
}
