/**
 * Every inference worker runs one full GC per FULL_GC_EVERY_SWAPS (50) view swaps, inside its steered build
 * (workers/inference/worker.ts; why: src/pool/heap-tuning.ts). On a real server with two real workers, model
 * swaps by operator pin: no worker has collected after 40 swaps, each has exactly once by the 50th (a few
 * more swaps of slack, in case a catalog build counted too). The count comes from the workers' own slots in
 * the control block, as /readyz reports it; without gc() in the worker isolates it stays 0 and this fails.
 * The model manager thread does the same per 50 validations (src/model-manager/manager.ts), which
 * /admin/models reports with its count of validations. Workers, manager and trainer (GET /admin/learning)
 * also report their V8 heaps (in use and committed, MB), which must be real figures: a thread that never
 * wrote them would show 0.
 */
import { describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/harness.js';
import { eventually } from './helpers/learning-fixtures.js';
import { pinnableModels } from './helpers/pinnable-models.js';

interface WorkerSlot {
  modelGeneration: number;
  collections: number;
  heapUsedMb: number;
  heapTotalMb: number;
}
interface ManagerFigures {
  validations: number;
  collections: number;
  heapUsedMb: number;
  heapTotalMb: number;
}

/** A live V8 heap of a thread that loaded a model: megabytes in use, no more than is committed. */
function expectLiveHeap(h: { heapUsedMb: number; heapTotalMb: number }): void {
  expect(h.heapUsedMb).toBeGreaterThan(1);
  expect(h.heapTotalMb).toBeGreaterThanOrEqual(h.heapUsedMb);
}

async function workers(t: TestServer): Promise<WorkerSlot[]> {
  const body = (await (await fetch(`${t.http}/readyz`)).json()) as { workers: WorkerSlot[] };
  return body.workers;
}

describe('inference workers and the model manager run a full GC between models and report their heaps', () => {
  it('once per 50 model swaps on each worker, once per 50 validations in the manager', async () => {
    const t = await startTestServer({ overrides: { poolSize: 2, learning: true, exportEverySeconds: 86_400, exportEveryExamples: 100_000_000 } });
    try {
      const { versions, admin } = await pinnableModels(t, [21, 22], 'full gc test');
      const swap = async (i: number): Promise<WorkerSlot[]> => {
        const res = await fetch(`${t.http}/admin/models/pin`, { method: 'POST', headers: admin, body: JSON.stringify({ version: versions[i % 2] }) });
        expect(res.status).toBe(200);
        const { generation } = (await res.json()) as { generation: number };
        // Both workers on the new generation: each has replaced its view once more.
        return eventually(async () => {
          const ws = await workers(t);
          return ws.every((w) => w.modelGeneration >= generation) ? ws : undefined;
        }, 20_000, `both workers on generation ${generation}`);
      };
      let i = 0;
      for (const w of await swap(i++)) expectLiveHeap(w);
      for (; i < 40; i++) await swap(i);
      expect((await workers(t)).map((w) => w.collections)).toEqual([0, 0]);
      for (; i < 50; i++) await swap(i);
      // The GC follows the 50th view swap inside the same build: wait for it, with a few swaps of slack.
      const collected = async (): Promise<number[] | undefined> => {
        const ws = await workers(t);
        return ws.every((w) => w.collections >= 1) ? ws.map((w) => w.collections) : undefined;
      };
      let after = await eventually(collected, 2_000, 'a full GC on both workers').catch(() => undefined);
      for (; after === undefined && i < 55; i++) {
        await swap(i);
        after = await eventually(collected, 2_000, 'a full GC on both workers').catch(() => undefined);
      }
      expect(after).toEqual([1, 1]);
      // The model manager thread runs its own, one per 50 validations (each pin above was one load check).
      const { manager } = (await (await fetch(`${t.http}/admin/models`, { headers: admin })).json()) as { manager: ManagerFigures };
      expect(manager.validations).toBeGreaterThanOrEqual(50);
      expectLiveHeap(manager);
      // The trainer thread reports its status and heap on GET /admin/learning (admin key only).
      expect((await fetch(`${t.http}/admin/learning`)).status).toBe(401);
      const trainer = (await (await fetch(`${t.http}/admin/learning`, { headers: admin })).json()) as { state: string; examplesTrained: number; heapUsedMb: number; heapTotalMb: number };
      expect(['idle', 'training']).toContain(trainer.state);
      expect(trainer.examplesTrained).toBeGreaterThanOrEqual(0);
      expectLiveHeap(trainer);
      expect(manager.collections).toBe(Math.floor(manager.validations / 50));
    } finally {
      await t.close();
    }
  }, 120_000);
});
