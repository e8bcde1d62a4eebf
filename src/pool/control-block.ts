/**
 * Shared memory between the main thread and the inference workers.
 *
 * Why a SharedArrayBuffer and not messages: piscina workers that are idle park in Atomics.wait (or wait for
 * their next task), so a question posted to them may sit unanswered; readiness and versions must be readable
 * by the main thread at any moment (the /readyz probe) without a round trip. Each worker owns one slot and is
 * its only writer; the main thread only reads slots and writes the published catalog version.
 *
 * Layout (Int32):
 *   [0]                 published catalog version (main writes; workers compare at each task)
 *   [1]                 next free slot (workers claim one with Atomics.add at start)
 *   [2]                 published model generation (main writes when the model manager promotes)
 *   [3]                 rebuild token: 0 free, else 1 + the slot of the worker rebuilding its view
 *   [4]                 threadId of the worker that asks for no new tasks while it rebuilds (0: none)
 *   [5]                 closing: 1 once the pool has begun to shut down (main writes)
 *   [6]                 native stretches in progress, summed over workers (start-up, builds, tasks)
 *   [7 + 7*i + 0]       worker i state: 0 starting, 1 serving, 2 failed
 *   [7 + 7*i + 1]       worker i catalog version in use (0: none)
 *   [7 + 7*i + 2]       worker i model generation in use
 *   [7 + 7*i + 3]       worker i decisions served (wraps; for /v1/info)
 *   [7 + 7*i + 4]       worker i full GCs run between views (workers/inference/worker.ts; for /readyz)
 *   [7 + 7*i + 5]       worker i V8 heap in use, tenths of a MB, as of its last view build or its last 4,096th task
 *   [7 + 7*i + 6]       worker i V8 heap committed, tenths of a MB, at the same moment (both for /readyz)
 *
 * The rebuild token: building a view (offer tower over the catalog, a new ONNX session) occupies a worker
 * for tens of milliseconds at 10k offers, and most of it is synchronous (ONNX Runtime creates a session and
 * runs the offer tower on the calling thread). Letting one worker at a time do it keeps the others serving
 * at full speed, so a model swap or catalog load costs a fraction of capacity briefly instead of all of it.
 *
 * The steered thread: a task handed to a worker in the middle of that synchronous stretch would wait for all
 * of it, which is what a swap added to the tail. So the token holder also names itself in word [4], and the
 * pool's balancer (rebuild-balancer.ts) sends new tasks to the other workers until it clears it. It is a
 * threadId, not a slot, so a worker that dies while named steers nothing: its id is never reused by a live
 * worker, and its replacement starts unnamed.
 *
 * Closing and native stretches: a worker thread must never be terminated while it is inside ONNX Runtime.
 * worker.terminate() makes every later N-API call of that thread fail; onnxruntime-node is built with C++
 * exceptions, so the failed call throws, the rethrow cannot reach JavaScript either, and the whole process
 * aborts ("terminate called after throwing an instance of 'Napi::Error'"). piscina.destroy() terminates its
 * workers, so the pool first quiesces them: it raises the closing word, then waits for the count of native
 * stretches to reach zero. A worker counts itself in before it checks the closing word, and the main thread
 * raises the word before it reads the count; both are sequentially consistent atomics, so either the worker
 * sees the pool closing (and skips an optional build), or the pool sees the worker's stretch (and waits for
 * it). A worker that dies inside a stretch leaves the count raised; the wait is bounded for that case.
 */
import type { ThreadHeap } from '../runtime/thread-heap.js';

export const WORKER_STATE = { starting: 0, serving: 1, failed: 2 } as const;

/** One worker's slot as the main thread reads it (/readyz, /v1/info). */
export interface WorkerStatus extends ThreadHeap {
  state: number;
  catalogVersion: number;
  modelGeneration: number;
  /** Decisions served (wraps at 2^32). */
  served: number;
  /** Full GCs run between views (workers/inference/worker.ts). */
  collections: number;
}

const HEADER = 7;
const CLOSING = 5;
const NATIVE = 6;
const SLOT = 7;

export class ControlBlock {
  readonly words: Int32Array;
  constructor(readonly buffer: SharedArrayBuffer, readonly slots: number) {
    this.words = new Int32Array(buffer);
  }

  static create(slots: number): ControlBlock {
    return new ControlBlock(new SharedArrayBuffer((HEADER + SLOT * slots) * 4), slots);
  }

  get publishedCatalog(): number {
    return Atomics.load(this.words, 0);
  }
  publishCatalog(version: number): void {
    Atomics.store(this.words, 0, version);
  }

  get publishedModelGeneration(): number {
    return Atomics.load(this.words, 2);
  }
  publishModelGeneration(generation: number): void {
    Atomics.store(this.words, 2, generation);
  }

  /** Takes the rebuild token for `slot`; false when another worker holds it. */
  tryTakeRebuildToken(slot: number): boolean {
    const mine = slot + 1;
    const prev = Atomics.compareExchange(this.words, 3, 0, mine);
    return prev === 0 || prev === mine;
  }
  releaseRebuildToken(slot: number): void {
    Atomics.compareExchange(this.words, 3, slot + 1, 0);
  }

  /** The worker (threadId) that asked for no new tasks, or 0. Read by the pool's balancer at every dispatch. */
  get steeredThread(): number {
    return Atomics.load(this.words, 4);
  }
  /** Names `threadId` as steered; only the rebuild token's holder calls it (one worker at a time). */
  steerAway(threadId: number): void {
    Atomics.store(this.words, 4, threadId);
  }
  /** Clears the name if it is still `threadId`'s. */
  endSteer(threadId: number): void {
    Atomics.compareExchange(this.words, 4, threadId, 0);
  }

  /**
   * Worker: counts in a stretch of ONNX Runtime (and LMDB) calls that a terminate must not interrupt. An
   * `optional` stretch (a background view build) is not entered once the pool is closing: false, and nothing
   * to leave. A required one (start-up, a task) is always entered. Pair every true with one leaveNative().
   */
  enterNative(optional: boolean): boolean {
    Atomics.add(this.words, NATIVE, 1);
    if (optional && Atomics.load(this.words, CLOSING) === 1) {
      this.leaveNative();
      return false;
    }
    return true;
  }
  leaveNative(): void {
    // Only a closing pool waits on the count; no notify (and no lock in V8) on the serving path otherwise.
    if (Atomics.sub(this.words, NATIVE, 1) === 1 && Atomics.load(this.words, CLOSING) === 1) Atomics.notify(this.words, NATIVE);
  }
  /** Native stretches in progress now, over all workers. */
  get nativeStretches(): number {
    return Atomics.load(this.words, NATIVE);
  }

  /**
   * Main thread, at pool close: no optional stretch starts from now on; resolves true once none runs, or
   * false after `timeoutMs` (a worker died inside one, or a build is stuck). Waits with Atomics.waitAsync, so
   * the event loop stays free.
   */
  async quiesce(timeoutMs: number): Promise<boolean> {
    Atomics.store(this.words, CLOSING, 1);
    const end = performance.now() + timeoutMs;
    for (;;) {
      const n = Atomics.load(this.words, NATIVE);
      if (n <= 0) return true;
      const left = end - performance.now();
      if (left <= 0) return false;
      const wait = Atomics.waitAsync(this.words, NATIVE, n, left);
      if (wait.async) await wait.value;
    }
  }

  /** The slot of the worker holding the rebuild token (building a view now), or null. For /v1/info. */
  get rebuildingSlot(): number | null {
    const holder = Atomics.load(this.words, 3);
    return holder === 0 ? null : holder - 1;
  }

  /** Called once by each worker; piscina may replace a dead worker, so slots wrap around. */
  claimSlot(): number {
    return Atomics.add(this.words, 1, 1) % this.slots;
  }

  setWorker(slot: number, state: number, catalogVersion: number, modelGeneration: number): void {
    const base = HEADER + SLOT * slot;
    Atomics.store(this.words, base + 1, catalogVersion);
    Atomics.store(this.words, base + 2, modelGeneration);
    // State last: a reader that sees "serving" also sees the versions it serves.
    Atomics.store(this.words, base, state);
  }

  countServed(slot: number, n: number): void {
    Atomics.add(this.words, HEADER + SLOT * slot + 3, n);
  }

  /** One more full GC run by the worker in `slot` between two views (workers/inference/worker.ts). */
  countCollection(slot: number): void {
    Atomics.add(this.words, HEADER + SLOT * slot + 4, 1);
  }

  /** The worker in `slot` reports its V8 heap (src/runtime/thread-heap.ts), for /readyz. */
  setHeap(slot: number, heap: ThreadHeap): void {
    const base = HEADER + SLOT * slot;
    Atomics.store(this.words, base + 5, Math.round(heap.heapUsedMb * 10));
    Atomics.store(this.words, base + 6, Math.round(heap.heapTotalMb * 10));
  }

  worker(slot: number): WorkerStatus {
    const base = HEADER + SLOT * slot;
    return {
      state: Atomics.load(this.words, base),
      catalogVersion: Atomics.load(this.words, base + 1),
      modelGeneration: Atomics.load(this.words, base + 2),
      served: Atomics.load(this.words, base + 3) >>> 0,
      collections: Atomics.load(this.words, base + 4),
      heapUsedMb: Atomics.load(this.words, base + 5) / 10,
      heapTotalMb: Atomics.load(this.words, base + 6) / 10,
    };
  }
}
