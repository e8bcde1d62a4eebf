/**
 * The pure parts of model management: the promotion policy, the serving-change policy, the rollback plan,
 * the consumer-side serving policy, the lifecycle state machine (every state x event), and ModelSlots
 * driving them with real asynchronous loads.
 */
import { describe, expect, it } from 'vitest';
import { IllegalTransition, LIFECYCLE_EVENTS, LIFECYCLE_STATES, isTerminal, nextState, transition, type LifecycleState } from '../src/model-manager/lifecycle.js';
import { ModelSlots } from '../src/model-manager/model-slots.js';
import { decidePromotion, decideServingAction, decideServingChange, planRollback, type Verdict } from '../src/model-manager/policy.js';
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

describe('decideServingAction (consumer side)', () => {
  const slot = (generation: number, s: LifecycleState) => ({ generation, state: s });

  it('loads the aspired generation when nothing holds it', () => {
    expect(decideServingAction([], 1)).toEqual({ action: 'load', generation: 1 });
    expect(decideServingAction([slot(1, 'serving')], 2)).toEqual({ action: 'load', generation: 2 });
  });

  it('ignores an announcement older than what is held', () => {
    expect(decideServingAction([slot(3, 'serving')], 2)).toEqual({ action: 'none' });
  });

  it('keeps the old model serving while the new one loads or after it failed', () => {
    expect(decideServingAction([slot(1, 'serving'), slot(2, 'loading')], 2)).toEqual({ action: 'none' });
    expect(decideServingAction([slot(1, 'serving'), slot(2, 'error')], 2)).toEqual({ action: 'none' });
  });

  it('serves the new model once ready, then quiesces the old one', () => {
    expect(decideServingAction([slot(1, 'serving'), slot(2, 'ready')], 2)).toEqual({ action: 'serve', generation: 2 });
    expect(decideServingAction([slot(1, 'serving'), slot(2, 'serving')], 2)).toEqual({ action: 'quiesce', generation: 1 });
    expect(decideServingAction([slot(1, 'quiescing'), slot(2, 'serving')], 2)).toEqual({ action: 'none' });
  });

  it('quiesces a load that a newer announcement overtook, once it is ready', () => {
    expect(decideServingAction([slot(1, 'serving'), slot(2, 'ready'), slot(3, 'loading')], 3)).toEqual({ action: 'quiesce', generation: 2 });
    expect(decideServingAction([slot(1, 'serving'), slot(2, 'loading'), slot(3, 'loading')], 3)).toEqual({ action: 'none' });
  });

  it('never leaves nothing serving: every reachable combination keeps a serving slot unless none was ever ready', () => {
    // Exhaustive over two slots (old generation 1, aspired 2) and every state pair.
    for (const a of LIFECYCLE_STATES) {
      for (const b of LIFECYCLE_STATES) {
        const d = decideServingAction([slot(1, a), slot(2, b)], 2);
        if (d.action === 'quiesce' && d.generation === 1 && a === 'serving') expect(b).toBe('serving');
        if (d.action === 'serve') expect(b).toBe('ready');
        if (d.action === 'load') throw new Error('aspired is held: no load');
      }
    }
  });
});

describe('lifecycle state machine', () => {
  const legal: Record<string, LifecycleState> = {
    'new/load': 'loading',
    'loading/loaded': 'ready',
    'loading/failed': 'error',
    'ready/serve': 'serving',
    'ready/quiesce': 'quiescing',
    'serving/quiesce': 'quiescing',
    'quiescing/drained': 'released',
  };

  it('every state x event pair is either the documented transition or illegal', () => {
    let checked = 0;
    for (const s of LIFECYCLE_STATES) {
      for (const e of LIFECYCLE_EVENTS) {
        const want = legal[`${s}/${e}`];
        checked++;
        if (want) {
          expect(nextState(s, e)).toBe(want);
          expect(transition(s, e)).toBe(want);
        } else {
          expect(nextState(s, e)).toBeNull();
          expect(() => transition(s, e)).toThrow(IllegalTransition);
        }
      }
    }
    expect(checked).toBe(LIFECYCLE_STATES.length * LIFECYCLE_EVENTS.length);
  });

  it('released and error are terminal; nothing else is', () => {
    expect(LIFECYCLE_STATES.filter(isTerminal)).toEqual(['released', 'error']);
  });
});

describe('ModelSlots', () => {
  interface Fake {
    name: string;
    released: boolean;
  }
  const deferred = <T>() => {
    let resolve!: (v: T) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };

  it('swaps only when the new model is ready and releases the old one after its last lease', async () => {
    const released: string[] = [];
    const slots = new ModelSlots<Fake>((m) => {
      m.released = true;
      released.push(m.name);
    });
    expect(await slots.aspire(1, 'A', async () => ({ name: 'A', released: false }))).toEqual({ ok: true, serving: true });
    const lease = slots.acquire()!;
    expect(lease.model.name).toBe('A');
    const load = deferred<Fake>();
    const pending = slots.aspire(2, 'B', () => load.promise);
    expect(slots.current()).toEqual({ version: 'A', generation: 1 }); // B is loading: A still serves
    const second = slots.acquire()!;
    expect(second.model.name).toBe('A');
    load.resolve({ name: 'B', released: false });
    expect(await pending).toEqual({ ok: true, serving: true });
    expect(slots.current()).toEqual({ version: 'B', generation: 2 });
    // A is quiescing while two leases are out; new leases get B.
    expect(slots.states().find((s) => s.generation === 1)).toMatchObject({ state: 'quiescing', leases: 2 });
    expect(slots.acquire()!.model.name).toBe('B');
    lease.release();
    lease.release(); // idempotent: must not count twice
    expect(released).toEqual([]);
    second.release();
    expect(released).toEqual(['A']);
    expect(slots.states().map((s) => s.generation)).toEqual([2]);
  });

  it('a failed load leaves the old model serving', async () => {
    const slots = new ModelSlots<Fake>(() => undefined);
    await slots.aspire(1, 'A', async () => ({ name: 'A', released: false }));
    const r = await slots.aspire(2, 'B', async () => {
      throw new Error('corrupt model');
    });
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.error.message).toBe('corrupt model');
    expect(slots.current()).toEqual({ version: 'A', generation: 1 });
    expect(slots.acquire()!.model.name).toBe('A');
  });

  it('a load overtaken by a newer announcement is released when it finishes and never serves', async () => {
    const released: string[] = [];
    const slots = new ModelSlots<Fake>((m) => void released.push(m.name));
    await slots.aspire(1, 'A', async () => ({ name: 'A', released: false }));
    const slow = deferred<Fake>();
    const p2 = slots.aspire(2, 'B', () => slow.promise);
    const p3 = slots.aspire(3, 'C', async () => ({ name: 'C', released: false }));
    expect(await p3).toEqual({ ok: true, serving: true });
    expect(released).toEqual(['A']); // no lease on A
    slow.resolve({ name: 'B', released: false });
    expect(await p2).toEqual({ ok: true, serving: false });
    expect(released).toEqual(['A', 'B']);
    expect(slots.current()).toEqual({ version: 'C', generation: 3 });
    // A late, older announcement is ignored.
    expect(await slots.aspire(2, 'B', async () => ({ name: 'B2', released: false }))).toEqual({ ok: true, serving: false });
    expect(slots.current()?.generation).toBe(3);
    await slots.close();
    expect(released).toEqual(['A', 'B', 'C']);
  });
});
