/**
 * piscina's load balancer for the inference pool: piscina's own least-busy choice, except that a worker
 * rebuilding its view (the one the control block names as steered) gets no new task while another worker
 * can take it.
 *
 * Why: a model swap or catalog load makes each worker build a new view, and most of that is synchronous
 * (ONNX Runtime creates the session and runs the offer tower on the worker's thread: 10-20 ms at 10k offers
 * on 2 cores, far more for a catalog's eligibility index). A task posted to the worker then sits unread for
 * all of it. Swapping every second, those tasks were the swap's whole cost at the tail.
 *
 * When every other worker is at `maximumUsage`, the task waits in piscina's queue rather than going to the
 * rebuilding worker: another worker finishes a task in about a millisecond (piscina then distributes again),
 * while the rebuild may take tens. Only when no other worker exists (a pool of one) does the rebuilding worker
 * take tasks, because nothing else would.
 *
 * Runs on the main thread at every dispatch: one shared-memory read and a loop over the workers.
 */
import type { ControlBlock } from './control-block.js';

/** What the balancer reads of piscina's view of a worker (piscina's PiscinaWorker has both). */
export interface BalancedWorker {
  readonly id: number;
  readonly currentUsage: number;
}

/** piscina's `loadBalancer` signature, over any worker view with an id and a usage. */
export type RebuildAwareBalancer = <W extends BalancedWorker>(task: unknown, workers: W[]) => W | null;

export function rebuildAwareBalancer(control: ControlBlock, maximumUsage: number): RebuildAwareBalancer {
  return <W extends BalancedWorker>(_task: unknown, workers: W[]): W | null => {
    const steered = control.steeredThread;
    let candidate: W | null = null;
    let least = maximumUsage;
    let others = false;
    for (const w of workers) {
      if (w.id === steered) continue;
      others = true;
      const usage = w.currentUsage;
      if (usage === 0) return w;
      if (usage < least) {
        candidate = w;
        least = usage;
      }
    }
    if (others || steered === 0) return candidate;
    // The steered worker is the only one: it takes the task, late, rather than no one.
    for (const w of workers) if (w.currentUsage < maximumUsage) return w;
    return null;
  };
}
