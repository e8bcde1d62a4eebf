/**
 * Explicit garbage collections for the threads that build models and views: the inference workers and the
 * model manager. Both functions do nothing in a thread started without V8's gc() (the serving process sets
 * --expose-gc before its first thread starts: src/pool/heap-tuning.ts), so they are safe anywhere.
 *
 * Why a scavenge after every build (bench/RESULTS.md, session 10): a view build or a validation leaves a few
 * MB of dead ArrayBuffers behind (the scorer graph's bytes, the offer side's intermediate arrays, ONNX
 * Runtime's outputs copied into JS). Their memory is native, in the thread's glibc arena; V8 frees it only when
 * a GC finds the buffers dead, and the JS objects are too small to fill the young generation, so the usual
 * trigger is V8's external-memory limit, tens of MB later. Until then the dead buffers pile up, the arena grows
 * to hold them, and glibc keeps the arena's high-water mark after they are freed: a step of about 50 MB per
 * worker thread within its first few dozen swaps. A scavenge right after each build frees them while they are the youngest
 * objects, so the arena only ever holds one build's garbage. `npm run bench:swap-memory` (one worker thread,
 * 1,000 swaps at 10k offers): the threads' arenas grew 28 -> 78 MB without it and 26 -> 40 MB with it; the
 * step is there with no ONNX session opened per swap too, so it is the garbage, not the sessions. In a whole
 * server (bench:swap-twin) the swaps' share of anonymous memory over 1,000 swaps fell from 24-60 MB to -5-14 MB.
 * A scavenge of a mostly empty young generation takes about a millisecond.
 */

type Gc = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

const gc = (globalThis as { gc?: Gc }).gc;

/** True when this thread can collect explicitly (it was started after --expose-gc was set). */
export const canCollect: boolean = gc !== undefined;

/** A scavenge of the young generation only: frees what the last build left dead. */
export function collectYoung(): void {
  gc?.({ type: 'minor' });
}

/** A full mark-compact of this thread's heap. */
export function collectFull(): void {
  gc?.();
}
