/**
 * The inference pool's balancer (src/pool/rebuild-balancer.ts) over a real control block: least busy first,
 * never the worker the control block names as rebuilding while another worker exists, and never nobody when
 * the rebuilding worker is the only one.
 */
import { describe, expect, it } from 'vitest';
import { ControlBlock } from '../src/pool/control-block.js';
import { rebuildAwareBalancer, type BalancedWorker, type RebuildAwareBalancer } from '../src/pool/rebuild-balancer.js';

const workers = (...usage: number[]): BalancedWorker[] => usage.map((u, i) => ({ id: 100 + i, currentUsage: u }));
const pick = (b: RebuildAwareBalancer, ws: BalancedWorker[]): number | null => b(undefined, ws)?.id ?? null;

describe('rebuildAwareBalancer', () => {
  const MAX = 2;

  it('without a rebuild: an idle worker first, else the least busy under the maximum, else none', () => {
    const control = ControlBlock.create(3);
    const b = rebuildAwareBalancer(control, MAX);
    expect(pick(b, workers(1, 0, 1))).toBe(101);
    expect(pick(b, workers(1, 1, 1))).toBe(100);
    expect(pick(b, workers(2, 1, 2))).toBe(101);
    expect(pick(b, workers(2, 2, 2))).toBeNull();
  });

  it('skips the rebuilding worker, even idle, while another can take the task', () => {
    const control = ControlBlock.create(2);
    const b = rebuildAwareBalancer(control, MAX);
    control.steerAway(100);
    expect(pick(b, workers(0, 1))).toBe(101);
    expect(pick(b, workers(0, 0))).toBe(101);
  });

  it('waits for a busy worker rather than hand the task to the rebuilding one', () => {
    const control = ControlBlock.create(2);
    const b = rebuildAwareBalancer(control, MAX);
    control.steerAway(100);
    expect(pick(b, workers(0, 2))).toBeNull();
  });

  it('a rebuilding worker that is the only one still takes tasks, up to the maximum', () => {
    const control = ControlBlock.create(1);
    const b = rebuildAwareBalancer(control, MAX);
    control.steerAway(100);
    expect(pick(b, workers(1))).toBe(100);
    expect(pick(b, workers(2))).toBeNull();
  });

  it('endSteer clears only its own name; a name of a thread that no longer exists steers nothing', () => {
    const control = ControlBlock.create(2);
    const b = rebuildAwareBalancer(control, MAX);
    control.steerAway(100);
    control.endSteer(101);
    expect(control.steeredThread).toBe(100);
    control.endSteer(100);
    expect(control.steeredThread).toBe(0);
    expect(pick(b, workers(0, 1))).toBe(100);
    // A worker that died while named: its replacement has another thread id and gets tasks as usual.
    control.steerAway(999);
    expect(pick(b, workers(0, 1))).toBe(100);
  });
});
