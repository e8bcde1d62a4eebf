/**
 * Explicit collections (src/runtime/collect.ts): in a thread started after --expose-gc, collectYoung() frees
 * the native memory of an ArrayBuffer that died young (within a second: V8 may sweep dead buffers on a
 * background thread), where without it the buffer stays held; this is what keeps a model swap's dead buffers
 * out of a worker's malloc arena; without gc() both functions do nothing and do not throw.
 */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { canCollect, collectFull, collectYoung } from '../src/runtime/collect.js';
import { tuneHeapsForServing } from '../src/pool/heap-tuning.js';

const MODULE = new URL('../dist/src/runtime/collect.js', import.meta.url).href;
const MB = 2 ** 20;

/** Runs in a fresh worker thread: allocates `mb` MB in an ArrayBuffer, drops it, then collects (or not). */
function probe(mb: number, collect: 'young' | 'none'): Promise<{ canCollect: boolean; held: number; after: number }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(${JSON.stringify(MODULE)}).then((m) => {
      const base = process.memoryUsage().arrayBuffers;
      let buf = new ArrayBuffer(workerData.mb * ${MB});
      new Uint8Array(buf).fill(1);
      const held = process.memoryUsage().arrayBuffers - base;
      buf = null;
      if (workerData.collect === 'young') m.collectYoung();
      // V8 may sweep dead ArrayBuffers on a background thread after the GC: give it up to a second.
      const until = Date.now() + 1000;
      const settle = () => {
        const after = process.memoryUsage().arrayBuffers - base;
        if (after < ${MB} || Date.now() >= until) parentPort.postMessage({ canCollect: m.canCollect, held, after });
        else setTimeout(settle, 10);
      };
      settle();
    });`;
  const worker = new Worker(code, { eval: true, workerData: { mb, collect } });
  return new Promise((resolve, reject) => {
    worker.once('message', (m) => {
      void worker.terminate();
      resolve(m as { canCollect: boolean; held: number; after: number });
    });
    worker.once('error', reject);
  });
}

describe('explicit collections', () => {
  it('without gc() in the thread, both are no-ops that do not throw', () => {
    // Vitest's own thread was started without --expose-gc.
    expect(canCollect).toBe(typeof (globalThis as { gc?: unknown }).gc === 'function');
    expect(() => collectYoung()).not.toThrow();
    expect(() => collectFull()).not.toThrow();
  });

  it('a scavenge frees a young dead ArrayBuffer in a thread started after --expose-gc', async () => {
    tuneHeapsForServing(); // sets --expose-gc, as the serving process does before its first thread
    // Without a collection the dead buffer is still held a second later (nothing made V8 collect for 8 MB)...
    const kept = await probe(8, 'none');
    expect(kept.canCollect).toBe(true);
    expect(kept.held).toBeGreaterThanOrEqual(8 * MB);
    expect(kept.after).toBeGreaterThanOrEqual(8 * MB);
    // ...and a scavenge right after frees it.
    const freed = await probe(8, 'young');
    expect(freed.held).toBeGreaterThanOrEqual(8 * MB);
    expect(freed.after).toBeLessThan(MB);
  });
});
