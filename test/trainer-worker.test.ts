/**
 * The whole learning loop on real threads: the trainer thread (dist/workers/trainer/worker.js) reads simulated
 * labelled examples through an example-source module, trains, and publishes candidates into a real registry;
 * the model manager thread (dist/workers/model-manager/worker.js) validates them on held-out examples (offer
 * features from a real LMDB catalog) and promotes one; the parent receives the announcements.
 * (Build first: `npx tsc -p .`.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainerEvent } from '../src/learning/online-messages.js';
import { TrainerThread } from '../src/learning/online-trainer-thread.js';
import { ModelManagerThread } from '../src/model-manager/manager-thread.js';
import type { ManagerEvent } from '../src/model-manager/messages.js';
import { readModelDir } from '../src/model/model-dir.js';
import { openRegistry, type ModelRegistry } from '../src/registry/registry.js';
import { SHIPPED, eventually, simWorld, writeSourceModule, type SimWorld } from './helpers/learning-fixtures.js';

const SHIPPED_VERSION = 'tt-1-6ead99d6';
let tmp: string;
let world: SimWorld;
let sourceModule: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'txrank-loop-'));
  world = await simWorld(path.join(tmp, 'data'), { transactions: 12_000 }); // 36,000 examples
  sourceModule = await writeSourceModule(path.join(tmp, 'source'), world.examples);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('trainer thread', () => {
  it('idles without an example source module and stops on request', async () => {
    const reg = await openRegistry(path.join(tmp, 'idle'), { seedFrom: SHIPPED });
    const t = await TrainerThread.start({ registryDir: reg.dir, dataDir: world.dataDir, exampleSourceModule: path.join(tmp, 'no-such-module.mjs') });
    expect(t.started).toEqual({ type: 'idle', reason: 'no example source: src/events/example-source.js is not built yet' });
    expect(await t.status()).toMatchObject({ state: 'idle', examplesTrained: 0 });
    await t.close();
    await expect(t.status()).rejects.toMatchObject({ code: 'shutting_down' });
  });

  it('fails to start with a clear error when the registry does not exist', async () => {
    await expect(TrainerThread.start({ registryDir: path.join(tmp, 'nothing-here'), dataDir: world.dataDir, exampleSourceModule: sourceModule })).rejects.toThrow(/no model registry/);
  });
});

describe('learning loop: trainer -> registry -> manager -> parent', () => {
  let reg: ModelRegistry;
  const managerEvents: ManagerEvent[] = [];
  const trainerEvents: TrainerEvent[] = [];

  it('a candidate trained on the stream passes the held-out gate and is announced as promoted', async () => {
    reg = await openRegistry(path.join(tmp, 'loop'), { seedFrom: SHIPPED });
    const manager = await ModelManagerThread.start({
      registryDir: reg.dir,
      dataDir: world.dataDir,
      exampleSourceModule: sourceModule,
      options: { pollIntervalMs: 50, minHoldoutExamples: 1000, requireHoldout: true },
    });
    manager.onEvent((e) => managerEvents.push(e));
    const trainer = await TrainerThread.start({
      registryDir: reg.dir,
      dataDir: world.dataDir,
      exampleSourceModule: sourceModule,
      options: { exportEveryExamples: 10_000, maxBusyFraction: 1, pollIntervalMs: 50 },
    });
    trainer.onEvent((e) => trainerEvents.push(e));
    try {
      expect(manager.ready).toMatchObject({ version: SHIPPED_VERSION, generation: 1 });
      expect(trainer.started).toEqual({ type: 'started', base: SHIPPED_VERSION, cursor: -1 });
      const promoted = await eventually(() => managerEvents.find((e): e is Extract<ManagerEvent, { type: 'promoted' }> => e.type === 'promoted'), 30_000, 'a promotion');
      const exported = trainerEvents.filter((e): e is Extract<TrainerEvent, { type: 'exported' }> => e.type === 'exported');
      expect(exported.map((e) => e.version)).toContain(promoted.version);
      expect(promoted).toMatchObject({ cause: 'validated', generation: 2, previous: SHIPPED_VERSION, dir: reg.dirOf(promoted.version) });
      // Judged on held-out examples against the shipped model, with real numbers.
      const v = promoted.validation!;
      expect(v.qualitySkipped).toBe(0);
      expect(v.holdoutExamples).toBeGreaterThanOrEqual(1000);
      expect(v.logLoss).toBeLessThanOrEqual(v.logLossLimit);
      expect(v.auc).toBeGreaterThan(0.5);
      const manifest = (await readModelDir(promoted.dir)).manifest;
      expect(manifest.parent).toBe(exported.find((e) => e.version === promoted.version)!.parent);
      expect(manifest.metrics.progressiveLogLoss).toBeGreaterThan(0);
      expect((await reg.entry(promoted.version))!.validation).toMatchObject({ holdoutExamples: v.holdoutExamples });
      // The trainer drains the stream (36,000 examples) and keeps its lineage across its own promotion.
      const st = await eventually(async () => {
        const s = await trainer.status();
        return s.cursor === world.examples.length ? s : undefined;
      }, 30_000, 'the trainer to read every example');
      expect(st.examplesTrained + st.examplesHeldOut + st.examplesSkipped).toBe(world.examples.length);
      expect(st.base).toBe(SHIPPED_VERSION);
      expect(trainerEvents.filter((e) => e.type === 'reset')).toEqual([]);
      expect(st.examplesPerSecond).toBeGreaterThan(1000);
    } finally {
      await trainer.close();
      await manager.close();
    }
  });

  it('a restarted trainer resumes after its last exported example', async () => {
    const saved = (await import('node:fs/promises')).readFile(path.join(reg.dir, 'trainer-state.json'), 'utf8');
    const { cursor } = JSON.parse(await saved) as { cursor: number };
    expect(cursor).toBeGreaterThan(0);
    const trainer = await TrainerThread.start({ registryDir: reg.dir, dataDir: world.dataDir, exampleSourceModule: sourceModule, options: { pollIntervalMs: 50 } });
    try {
      expect(trainer.started).toMatchObject({ type: 'started', cursor, base: (await reg.serving()).version });
    } finally {
      await trainer.close();
    }
  });
});
