/**
 * V8 heap tuning for every thread of the serving process, applied before the first thread starts.
 *
 * The problem it solves (bench/RESULTS.md, "the swap creep"): after a full GC, V8 sets a thread's
 * old-generation limit to its live heap times a factor it derives from recent GC and mutator speed; for an
 * inference worker that came out near 1.37 (24 MB live, 33 MB limit). V8 starts incremental marking as soon
 * as the room under that limit is smaller than what one scavenge could promote (the young generation holds
 * up to 16 MB), so with 9 MB of room a worker started marking again right after every full GC, and the
 * garbage a model swap promotes (its offer side and scorer graph are built across several awaits while the
 * worker keeps serving) completed it: a full mark-compact every 0.5-1 s per worker, 10-30 ms each, for as
 * long as swaps went on, and P99 crept up over 1,000 swaps. A lightly loaded worker got there most often
 * through V8's memory reducer, whose memory-saving GC leaves the tightest limit.
 *
 *   --heap-growing-percent=200  the limit after a full GC is three times the live heap: a worker keeps ~50 MB
 *                               of room, far more than a scavenge can promote, so marking starts only once
 *                               that much garbage has really accumulated (every few dozen swaps, not every
 *                               one). 100 (twice) was not enough: a worker still fell into the loop;
 *   --no-memory-reducer         no memory-saving GCs when a thread goes quiet.
 *
 * What it costs: a heap may hold up to twice its live size in garbage before a full GC (~50 MB for a
 * worker; for the main thread, whose live heap is mostly the recent-decision cache, up to twice that cache),
 * and idle threads do not shrink: the server's RSS ran ~90 MB higher over a 1,000-swap benchmark.
 *
 *   --expose-gc                 gives every thread started after it a gc() function: the inference
 *                               workers run one full GC every FULL_GC_EVERY_SWAPS view swaps
 *                               (workers/inference/worker.ts), the model manager one every
 *                               FULL_GC_EVERY_VALIDATIONS (src/model-manager/manager.ts), and both a
 *                               scavenge after each of the other builds (src/runtime/collect.ts). With the two flags
 *                               above those threads went thousands of swaps without a full GC, and the
 *                               server's P99 rose after 1,500-2,000 swaps: 1.35-1.87x over 3,000 swaps, then
 *                               1.16-1.26x with the workers' GC, 1.01-1.15x with both
 *                               (bench/RESULTS.md session 7). The main thread's context exists before this
 *                               runs, so it gets no gc(); nothing else calls it.
 *
 * V8 flags are per process, not per isolate (a Worker's execArgv refuses them), and an isolate takes them
 * when it is created; so this runs on the main thread before any worker exists. Idempotent.
 */
import v8 from 'node:v8';

/** Old-generation limit after a full GC = live heap x (1 + this / 100). */
const HEAP_GROWING_PERCENT = 200;

let applied = false;

export function tuneHeapsForServing(): void {
  if (applied) return;
  applied = true;
  v8.setFlagsFromString('--no-memory-reducer');
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  v8.setFlagsFromString('--expose-gc');
}
