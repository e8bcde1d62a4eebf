/**
 * The pure parts of model management: the promotion policy, the serving-change policy and the rollback plan.
 */
import { describe, expect, it } from 'vitest';
import { decidePromotion, decideServingChange, planRollback, type Verdict } from '../src/model-manager/policy.js';
import { REGISTRY_FORMAT, type RegistryEntry, type RegistryState } from '../src/registry/state.js';
import type { ModelStatus } from '../src/registry/status.js';

const v = (entries: Array<[string, Verdict]>): Map<string, Verdict> => new Map(entries);

describe('decidePromotion', () => {
  const base = { serving: 'S', pinned: false };

  it('waits with no candidates, and while pinned (validating nothing)', () => {
    expect(decidePromotion({ ...base, candidates: [], verdicts: v([]) })).toEqual({ action: 'wait', why: 'no-candidates' });
    expect(decidePromotion({ ...base, pinned: true, candidates: ['A'], verdicts: v([]) })).toEqual({ action: 'wait', why: 'pinned' });
    expect(decidePromotion({ ...base, pinned: true, candidates: ['A'], verdicts: v([['A', { ok: true, baseline: 'S' }]]) })).toEqual({ action: 'wait', why: 'pinned' });
  });

  it('validates the newest candidate first, not the older ones', () => {
    expect(decidePromotion({ ...base, candidates: ['A', 'B', 'C'], verdicts: v([]) })).toEqual({ action: 'validate', version: 'C' });
    expect(decidePromotion({ ...base, candidates: ['A', 'B', 'C'], verdicts: v([['A', { ok: true, baseline: 'S' }]]) })).toEqual({ action: 'validate', version: 'C' });
  });

  it('promotes a valid newest candidate and supersedes every older one', () => {
    expect(decidePromotion({ ...base, candidates: ['A', 'B', 'C'], verdicts: v([['C', { ok: true, baseline: 'S' }]]) })).toEqual({ action: 'promote', version: 'C', supersede: ['A', 'B'] });
    expect(decidePromotion({ ...base, candidates: ['C'], verdicts: v([['C', { ok: true, baseline: 'S' }]]) })).toEqual({ action: 'promote', version: 'C', supersede: [] });
  });

  it('rejects an invalid newest candidate with its reason; then the next newest is considered', () => {
    expect(decidePromotion({ ...base, candidates: ['A', 'B'], verdicts: v([['B', { ok: false, baseline: 'S', reason: 'canary: NaN' }]]) })).toEqual({ action: 'reject', version: 'B', reason: 'canary: NaN' });
    // After the registry marks B rejected it is no longer a candidate.
    expect(decidePromotion({ ...base, candidates: ['A'], verdicts: v([['B', { ok: false, baseline: 'S', reason: 'x' }]]) })).toEqual({ action: 'validate', version: 'A' });
  });

  it('a verdict against another serving model is stale: validate again', () => {
    expect(decidePromotion({ ...base, candidates: ['C'], verdicts: v([['C', { ok: true, baseline: 'OLD' }]]) })).toEqual({ action: 'validate', version: 'C' });
    expect(decidePromotion({ ...base, candidates: ['C'], verdicts: v([['C', { ok: false, baseline: 'OLD', reason: 'worse' }]]) })).toEqual({ action: 'validate', version: 'C' });
  });
});

describe('decideServingChange', () => {
  const announced = { version: 'S', generation: 3 };

  it('nothing to do when the registry matches what was announced', () => {
    expect(decideServingChange({ serving: 'S', generation: 3, announced, check: undefined, fallback: null })).toEqual({ action: 'none' });
  });

  it('a changed serving version (or first start) is checked before it is announced', () => {
    expect(decideServingChange({ serving: 'P', generation: 4, announced, check: undefined, fallback: 'S' })).toEqual({ action: 'check', version: 'P' });
    expect(decideServingChange({ serving: 'P', generation: 4, announced, check: { ok: true }, fallback: 'S' })).toEqual({ action: 'announce', version: 'P', generation: 4 });
    expect(decideServingChange({ serving: 'S', generation: 1, announced: null, check: undefined, fallback: null })).toEqual({ action: 'check', version: 'S' });
    expect(decideServingChange({ serving: 'S', generation: 1, announced: null, check: { ok: true }, fallback: null })).toEqual({ action: 'announce', version: 'S', generation: 1 });
    // Same version under a new generation (restored after a failed pin) is announced again.
    expect(decideServingChange({ serving: 'S', generation: 5, announced, check: { ok: true }, fallback: null })).toEqual({ action: 'announce', version: 'S', generation: 5 });
  });

  it('a failed check puts back what the workers serve (the last announced), else the rollback target', () => {
    expect(decideServingChange({ serving: 'P', generation: 4, announced, check: { ok: false, reason: 'bad' }, fallback: 'R' })).toEqual({ action: 'revert', version: 'P', to: 'S', reason: 'P failed its load check: bad' });
    expect(decideServingChange({ serving: 'P', generation: 4, announced: null, check: { ok: false, reason: 'bad' }, fallback: 'R' })).toEqual({ action: 'revert', version: 'P', to: 'R', reason: 'P failed its load check: bad' });
  });

  it('with nothing to go back to it is stuck, never announcing the broken model', () => {
    const d = decideServingChange({ serving: 'P', generation: 4, announced: null, check: { ok: false, reason: 'bad' }, fallback: null });
    expect(d.action).toBe('stuck');
    const same = decideServingChange({ serving: 'S', generation: 4, announced, check: { ok: false, reason: 'bad' }, fallback: null });
    expect(same.action).toBe('stuck');
  });
});

function entry(version: string, status: ModelStatus, servedGeneration: number | null, pruned = false): RegistryEntry {
  return { version, parent: null, status, reason: '', addedAt: '', updatedAt: '', servedGeneration, metrics: {}, validation: null, window: null, pruned, history: [] };
}

function state(serving: string, entries: RegistryEntry[]): RegistryState {
  return { format: REGISTRY_FORMAT, serving, generation: 9, pinned: false, updatedAt: '', entries };
}

describe('planRollback', () => {
  it('targets the most recently served retired version with files, and supersedes waiting candidates', () => {
    const s = state('D', [entry('A', 'retired', 1), entry('B', 'retired', 3), entry('C', 'rolled_back', 4), entry('X', 'candidate', null), entry('D', 'serving', 5), entry('Y', 'candidate', null)]);
    expect(planRollback(s)).toEqual({ ok: true, from: 'D', to: 'B', supersede: ['X', 'Y'] });
  });

  it('never targets rejected, rolled-back, superseded, never-served or pruned versions', () => {
    const s = state('D', [entry('A', 'retired', 2, true), entry('B', 'rejected', null), entry('C', 'rolled_back', 3), entry('E', 'superseded', null), entry('D', 'serving', 4)]);
    expect(planRollback(s)).toEqual({ ok: false, reason: 'no previous good version to roll back to (serving D)' });
  });
});
