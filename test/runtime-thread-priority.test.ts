/**
 * Per-thread OS priority (src/runtime/thread-priority.ts), read back from /proc: a thread lowers only itself,
 * and a server with the learning loop runs its model manager and trainer threads at --background-nice while
 * the serving threads keep their priority.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { lowerThreadPriority } from '../src/runtime/thread-priority.js';
import { startTestServer } from './helpers/harness.js';

const linux = process.platform === 'linux';
const MODULE = new URL('../dist/src/runtime/thread-priority.js', import.meta.url).href;

/** nice of each thread of this process, by tid (field 19 of /proc/self/task/<tid>/stat). */
function niceByThread(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      out.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

describe('lowerThreadPriority', () => {
  it('refuses values out of 0..19 and leaves nice 0 alone, without throwing', () => {
    expect(lowerThreadPriority(20)).toMatchObject({ applied: false });
    expect(lowerThreadPriority(-1)).toMatchObject({ applied: false });
    expect(lowerThreadPriority(2.5)).toMatchObject({ applied: false });
    expect(lowerThreadPriority(0)).toMatchObject({ applied: false, reason: expect.stringMatching(/unchanged/) });
  });

  it.runIf(linux)('lowers the calling thread only', async () => {
    const mainTid = process.pid;
    const mainNice = niceByThread().get(mainTid);
    const worker = new Worker(
      `import(${JSON.stringify(MODULE)}).then((m) => require('node:worker_threads').parentPort.postMessage(m.lowerThreadPriority(7)));`,
      { eval: true },
    );
    const result = (await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    })) as { applied: boolean; tid: number; nice: number };
    try {
      expect(result).toMatchObject({ applied: true, nice: 7 });
      expect(result.tid).not.toBe(mainTid);
      const nice = niceByThread();
      expect(nice.get(result.tid)).toBe(7);
      expect(nice.get(mainTid)).toBe(mainNice);
    } finally {
      await worker.terminate();
    }
  });

  it.runIf(linux)('a server runs its learning threads at --background-nice and its serving threads as they were', async () => {
    const before = niceByThread();
    const base = before.get(process.pid) ?? 0;
    const t = await startTestServer({ overrides: { learning: true, backgroundNice: 13, exportEverySeconds: 86_400, exportEveryExamples: 100_000_000 } });
    try {
      const after = niceByThread();
      const lowered = [...after].filter(([tid, n]) => !before.has(tid) && n === 13);
      // The model manager and the trainer (each may have started helper threads, which inherit it).
      expect(lowered.length).toBeGreaterThanOrEqual(2);
      expect(after.get(process.pid)).toBe(base);
      // The inference workers (poolSize 2) and the rest keep the process's priority.
      expect([...after].filter(([tid, n]) => !before.has(tid) && n === base).length).toBeGreaterThanOrEqual(2);
    } finally {
      await t.close();
    }
  });
});
