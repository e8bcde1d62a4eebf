/**
 * A worker rebuilding its view (here: model swaps by operator pin) asks the pool for no tasks, and the pool's
 * balancer sends them to the other worker. Measured on a real server under continuous pipelined load, with
 * the worker's own report of each task that started while its worker was rebuilding
 * (txrank_pool_tasks_during_rebuild_total): with two workers almost none, with one worker (nothing to steer
 * to) some, which shows the counter sees what it counts. Either way no request fails.
 */
import { describe, expect, it } from 'vitest';
import type { Answer } from '../src/client/client.js';
import { pipelinedLoad, startTestServer } from './helpers/harness.js';
import { eventually } from './helpers/learning-fixtures.js';
import { pinnableModels } from './helpers/pinnable-models.js';

const SWAPS = 16;

async function metric(http: string, name: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`metric ${name} missing`);
  return Number(line.split(' ')[1]);
}

async function swapUnderLoad(poolSize: number): Promise<{ answers: Answer[]; duringRebuild: number; tasks: number; last: string }> {
  const t = await startTestServer({ overrides: { poolSize, learning: true, exportEverySeconds: 86_400, exportEveryExamples: 100_000_000 } });
  try {
    const { versions, admin } = await pinnableModels(t, [11, 12], 'steering test');

    const c = await t.connect();
    const load = pipelinedLoad(c, 32);
    const answers = load.answers;
    const before = await metric(t.http, 'txrank_pool_tasks_during_rebuild_total');
    let last = '';
    for (let i = 0; i < SWAPS; i++) {
      last = versions[i % 2];
      const res = await fetch(`${t.http}/admin/models/pin`, { method: 'POST', headers: admin, body: JSON.stringify({ version: last }) });
      expect(res.status).toBe(200);
      // Let every worker adopt it before the next, so each swap is a rebuild on each worker.
      const from = answers.length;
      await eventually(() => (answers.slice(from).filter((a) => a.type === 'decision' && a.model_version === last).length >= 64 ? true : undefined), 20_000, `decisions by ${last}`);
    }
    await load.stop();
    const duringRebuild = (await metric(t.http, 'txrank_pool_tasks_during_rebuild_total')) - before;
    const tasks = await metric(t.http, 'txrank_pool_task_seconds_count{part="worker"}');
    await c.close();
    return { answers, duringRebuild, tasks, last };
  } finally {
    await t.close();
  }
}

describe('a rebuilding worker gets no new tasks', () => {
  it('with two workers, almost no task reaches a worker while it rebuilds; with one, some do; none fails', async () => {
    const two = await swapUnderLoad(2);
    const one = await swapUnderLoad(1);
    for (const run of [two, one]) {
      expect(run.answers.length).toBeGreaterThan(500);
      expect(run.answers.filter((a) => a.type !== 'decision')).toEqual([]);
      expect(run.answers.at(-1)).toMatchObject({ type: 'decision', model_version: run.last });
    }
    // One pool, nothing to steer to: under continuous load, tasks start between a rebuild's steps.
    expect(one.duringRebuild).toBeGreaterThan(0);
    // Two workers rebuild once per swap each (2 x SWAPS); a task reaches one only when a dispatch raced its
    // request for none.
    expect(two.duringRebuild).toBeLessThanOrEqual(Math.max(2, Math.floor(SWAPS / 4)));
    expect(two.duringRebuild).toBeLessThan(one.duringRebuild);
  }, 120_000);
});
