/**
 * The model policies: pure functions, no I/O, no clock. The manager (workers/model-manager) and the registry
 * call them and carry out what they return; every rule about what may serve lives here and is unit-tested
 * exhaustively (test/model-manager-policy.test.ts), after TF Serving's aspired_version_policy.
 *
 * Three decisions:
 *   decidePromotion      which candidate to validate, reject or promote next.
 *   decideServingChange  the serving version changed outside the manager (CLI pin/rollback): check it,
 *                        announce it, or put the last good one back.
 *   planRollback         which version a rollback returns to.
 *
 * What an inference worker does with an announcement (build the new view beside the old, swap between tasks,
 * release the old when its last task ends, keep the old on a failed load) is workers/inference/worker.ts and
 * catalog-view.ts.
 */
import type { RegistryState } from '../registry/state.js';

/** A validation outcome, remembered with the serving version it was compared against. */
export type Verdict =
  | { ok: true; baseline: string }
  | { ok: false; baseline: string; reason: string };

export interface PromotionInput {
  serving: string;
  pinned: boolean;
  /** Versions with status 'candidate', oldest first (the order the registry learned of them). */
  candidates: readonly string[];
  /** What the manager knows about candidates; absent = not validated yet. */
  verdicts: ReadonlyMap<string, Verdict>;
}

export type PromotionDecision =
  | { action: 'wait'; why: 'no-candidates' | 'pinned' }
  | { action: 'validate'; version: string }
  | { action: 'reject'; version: string; reason: string }
  | { action: 'promote'; version: string; supersede: string[] };

/**
 * Only the newest candidate matters: when it is valid it is promoted and every older one is superseded
 * without spending a validation on it; when it fails it is rejected and the next newest is considered.
 * A verdict counts only against the model that serves now: a candidate judged against another baseline is
 * validated again. While pinned nothing is validated or promoted (a pin freezes serving).
 */
export function decidePromotion(input: PromotionInput): PromotionDecision {
  if (input.candidates.length === 0) return { action: 'wait', why: 'no-candidates' };
  if (input.pinned) return { action: 'wait', why: 'pinned' };
  const newest = input.candidates[input.candidates.length - 1];
  const verdict = input.verdicts.get(newest);
  if (verdict === undefined || verdict.baseline !== input.serving) return { action: 'validate', version: newest };
  if (!verdict.ok) return { action: 'reject', version: newest, reason: verdict.reason };
  return { action: 'promote', version: newest, supersede: input.candidates.slice(0, -1) };
}

export interface ServingChangeInput {
  /** The registry's serving version and generation now. */
  serving: string;
  generation: number;
  /** What this manager last announced to its parent (null before its first announcement). */
  announced: { version: string; generation: number } | null;
  /** The load check of `serving` at this generation, when done. */
  check: { ok: true } | { ok: false; reason: string } | undefined;
  /** The rollback target for when nothing was announced yet (planRollback), or null. */
  fallback: string | null;
}

export type ServingChangeDecision =
  | { action: 'none' }
  | { action: 'check'; version: string }
  | { action: 'announce'; version: string; generation: number }
  | { action: 'revert'; version: string; to: string; reason: string }
  | { action: 'stuck'; version: string; reason: string };

/**
 * The serving version moved without the manager (an operator's pin or rollback, or the registry as found at
 * start). It is announced only after its load check passes; when it fails, the version workers actually
 * serve (the last announced one) is put back, because a failed load must leave the old model serving.
 */
export function decideServingChange(input: ServingChangeInput): ServingChangeDecision {
  const { serving, generation, announced, check } = input;
  if (announced !== null && announced.generation === generation && announced.version === serving) return { action: 'none' };
  if (check === undefined) return { action: 'check', version: serving };
  if (check.ok) return { action: 'announce', version: serving, generation };
  const to = announced !== null && announced.version !== serving ? announced.version : input.fallback;
  if (to === null || to === serving) {
    return { action: 'stuck', version: serving, reason: `${serving} failed its load check (${check.reason}) and there is no good version to go back to` };
  }
  return { action: 'revert', version: serving, to, reason: `${serving} failed its load check: ${check.reason}` };
}

export type RollbackPlan =
  | { ok: true; from: string; to: string; supersede: string[] }
  | { ok: false; reason: string };

/**
 * A rollback returns to the most recently served version that retired in good standing (status 'retired',
 * files still present): never a rejected, rolled-back or superseded one. Candidates waiting at that moment
 * are superseded too: they were trained and queued under the model being rolled back, and the operator's
 * decision should not be overturned by the next poll.
 */
export function planRollback(state: RegistryState): RollbackPlan {
  let best: { version: string; gen: number } | null = null;
  for (const e of state.entries) {
    if (e.status !== 'retired' || e.pruned || e.servedGeneration === null) continue;
    if (best === null || e.servedGeneration > best.gen) best = { version: e.version, gen: e.servedGeneration };
  }
  if (best === null) return { ok: false, reason: `no previous good version to roll back to (serving ${state.serving})` };
  const supersede = state.entries.filter((e) => e.status === 'candidate').map((e) => e.version);
  return { ok: true, from: state.serving, to: best.version, supersede };
}
