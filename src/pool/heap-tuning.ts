/**
 * V8 heap tuning for the threads of this process, applied before the inference workers start.
 *
 * Why the memory reducer is off: V8's memory reducer runs a memory-reducing full GC once a thread's
 * allocation rate drops (an inference worker between bursts, or under light traffic), and that GC sets the
 * old generation's limit just above the live heap (about 25 MB in a worker). From then on every model swap,
 * whose offer side and scorer graph are built across several awaits while the worker keeps serving,
 * promotes a little garbage into the old generation and crosses that limit: each worker ran a full
 * mark-compact every 0.5-1 s (10-30 ms of pauses and marking steps each) for as long as swaps went on, and
 * P99 crept up over 1,000 swaps. With the reducer off the workers ran no full GC at all through the same
 * 1,000 swaps (bench/RESULTS.md, "the creep found"). What it costs: an idle worker keeps its heap (tens of
 * MB) instead of shrinking it, which a server sized for its peak has anyway.
 *
 * V8 flags are per process, not per isolate (a Worker's execArgv refuses them), and a new isolate reads
 * them when it is created; so this runs once, on the main thread, before any worker exists.
 */
import v8 from 'node:v8';

let applied = false;

/** Idempotent; call before starting worker threads. */
export function tuneHeapsForServing(): void {
  if (applied) return;
  applied = true;
  v8.setFlagsFromString('--no-memory-reducer');
}
