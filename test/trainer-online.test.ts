/**
 * The online trainer class on simulated examples (bench/sim ground truth) over a real LMDB catalog and a real
 * registry in a temp dir, driven step by step with an in-memory example source.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../src/catalog/store.js';
import { OFFER_DIM, TXN_DIM } from '../src/features/spec.js';
import { TRAINER_STATE_FILE } from '../src/learning/online-cursor.js';
import type { TrainerEvent } from '../src/learning/online-messages.js';
import { resolveTrainerOptions, type TrainerOptions } from '../src/learning/online-options.js';
import { OnlineTrainer } from '../src/learning/online-trainer.js';
import { logLoss } from '../src/learning/metrics.js';
import { materialize, OfferFeatureCache } from '../src/learning/online-features.js';
import { initWeights, PARAM_NAMES, predictImpressions } from '../src/learning/two-tower.js';
import { readModelDir } from '../src/model/model-dir.js';
import { modelVersionFor, writeModelDir } from '../src/model/onnx-export.js';
import { weightsFromModel } from '../src/model/onnx-weights.js';
import { openRegistry, type ModelRegistry } from '../src/registry/registry.js';
import { MemorySource, simWorld, type SimWorld } from './helpers/learning-fixtures.js';

let tmp: string;
let world: SimWorld;
let storage: Storage;
let initVersion: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'txrank-trainer-'));
  world = await simWorld(path.join(tmp, 'data'), { transactions: 40_000 }); // 120,000 examples
  storage = openStorage(world.dataDir, { readOnly: true });
  // An untrained model (p = base rate everywhere) as the serving one, so learning shows clearly.
  const w = initWeights({ txn: TXN_DIM, offer: OFFER_DIM, hidden: 32, embed: 16 }, 3, 0.03);
  initVersion = modelVersionFor(w);
  await writeModelDir(path.join(tmp, 'init'), w, { parent: null, createdAt: '2025-01-01T00:00:00.000Z', training: { kind: 'init' }, metrics: {} });
});

afterAll(async () => {
  await storage.close();
  await rm(tmp, { recursive: true, force: true });
});

async function freshRegistry(name: string): Promise<ModelRegistry> {
  return openRegistry(path.join(tmp, name), { seedFrom: path.join(tmp, 'init') });
}

function trainer(reg: ModelRegistry, source: MemorySource, opts: Partial<TrainerOptions>, events: TrainerEvent[] = []): OnlineTrainer {
  return new OnlineTrainer({
    registry: reg,
    dataDir: world.dataDir,
    createExampleSource: () => source,
    catalog: storage.catalog,
    options: resolveTrainerOptions({ exportEverySeconds: 3600, maxBusyFraction: 1, ...opts }),
    emit: (e) => events.push(e),
  });
}

async function drain(t: OnlineTrainer): Promise<string[]> {
  const out: string[] = [];
  while (t.step() > 0) {
    const v = await t.maybeExport();
    if (v) out.push(v);
  }
  return out;
}

describe('OnlineTrainer', () => {
  it('learns: progressive log loss falls, candidates carry parent, window and metrics', async () => {
    const reg = await freshRegistry('r1');
    const events: TrainerEvent[] = [];
    const t = trainer(reg, new MemorySource(world.examples), { exportEveryExamples: 25_000 }, events);
    expect(await t.start()).toBe(true);
    expect(events[0]).toEqual({ type: 'started', base: initVersion, cursor: -1 });
    const versions = await drain(t);
    expect(versions.length).toBe(4); // 120,000 examples, 90% trained, one export per 25,000
    const manifests = await Promise.all(versions.map(async (v) => (await readModelDir(reg.dirOf(v))).manifest));
    // Lineage: the first continues the serving model, each next one the previous candidate.
    expect(manifests.map((m) => m.parent)).toEqual([initVersion, ...versions.slice(0, -1)]);
    for (const m of manifests) expect(m.training).toMatchObject({ kind: 'online', startedFrom: initVersion, optimizer: 'adam', heldOutFraction: 0.1 });
    // Windows: consecutive, non-overlapping, in seq order; 10,000 trained examples each.
    const windows = manifests.map((m) => m.training.window as { firstSeq: number; lastSeq: number; examples: number });
    for (let i = 1; i < windows.length; i++) expect(windows[i].firstSeq).toBeGreaterThan(windows[i - 1].lastSeq);
    for (const w of windows) expect(w.examples).toBeGreaterThanOrEqual(25_000);
    const m0 = manifests[0].metrics;
    const m3 = manifests[3].metrics;
    for (const m of manifests) expect(Number.isFinite(m.metrics.progressiveLogLoss)).toBe(true);
    // Windows differ in engagement rate, so raw log loss is compared with the same examples' log loss under the
    // frozen starting model (paired), and across windows through normalised entropy (log loss / base-rate loss).
    const last = world.examples.filter((e) => e.seq >= windows[3].firstSeq && e.seq <= windows[3].lastSeq);
    const rows = materialize(last, new OfferFeatureCache(storage.catalog)).data;
    const initW = weightsFromModel(await readModelDir(reg.dirOf(initVersion)));
    const frozenLogLoss = logLoss(predictImpressions(initW, rows), rows.label);
    expect(m3.progressiveLogLoss).toBeLessThan(frozenLogLoss * 0.985);
    expect(m3.progressiveNormalizedEntropy).toBeLessThan(m0.progressiveNormalizedEntropy - 0.01);
    expect(m3.progressiveNormalizedEntropy).toBeLessThan(0.99);
    expect(m3.progressiveAuc).toBeGreaterThan(m0.progressiveAuc + 0.02);
    expect(Math.abs(m3.progressiveCalibration - 1)).toBeLessThan(0.15);
    // Registry entries are candidates with the same metrics; exported events name them.
    const entries = await reg.list();
    expect(entries.filter((e) => e.status === 'candidate').map((e) => e.version)).toEqual(versions);
    expect(events.filter((e) => e.type === 'exported').map((e) => (e as { version: string }).version)).toEqual(versions);
    const st = t.status();
    expect(st.examplesTrained + st.examplesHeldOut + st.examplesSkipped).toBe(world.examples.length);
    expect(st.examplesHeldOut / world.examples.length).toBeGreaterThan(0.07);
    expect(st.examplesHeldOut / world.examples.length).toBeLessThan(0.13);
    expect(st.examplesPerSecond).toBeGreaterThan(0);
    // Exported weights are what the trainer holds (exact round trip through ONNX).
    const w = weightsFromModel(await readModelDir(reg.dirOf(versions[3])));
    expect(modelVersionFor(w)).toBe(versions[3]);
    for (const name of PARAM_NAMES) expect(w[name].every(Number.isFinite)).toBe(true);
  });

  it('never trains on held-out decisions', async () => {
    const reg = await freshRegistry('r2');
    const { isHoldout } = await import('../src/learning/online-holdout.js');
    const held = world.examples.filter((e) => isHoldout(e.decisionId)).slice(0, 3000);
    const t = trainer(reg, new MemorySource(held), { exportEveryExamples: 1 });
    await t.start();
    expect(await drain(t)).toEqual([]);
    expect(t.status()).toMatchObject({ examplesTrained: 0, examplesHeldOut: held.length });
    // Predicted anyway (progressive metrics cover every example).
    expect(t.status().progressive[0].metrics.examples).toBe(held.length);
  });

  it('persists its cursor at each export, so a restart resumes after the exported examples', async () => {
    const reg = await freshRegistry('r3');
    const first = world.examples.slice(0, 12_500);
    const t1 = trainer(reg, new MemorySource(first), { exportEveryExamples: 5_000 });
    await t1.start();
    const v1 = await drain(t1);
    expect(v1.length).toBe(2);
    const saved = JSON.parse(await readFile(path.join(reg.dir, TRAINER_STATE_FILE), 'utf8')) as { cursor: number; version: string };
    expect(saved.version).toBe(v1[1]);
    expect(saved.cursor).toBeGreaterThan(10_000);
    expect(saved.cursor).toBeLessThan(12_500); // the tail after the last export is not in any candidate
    const seen: number[] = [];
    const source = new MemorySource(world.examples);
    const orig = source.read.bind(source);
    source.read = (after, limit) => {
      const out = orig(after, limit);
      if (out.length) seen.push(out[0].seq);
      return out;
    };
    const t2 = trainer(reg, source, { exportEveryExamples: 5_000 });
    await t2.start();
    expect(t2.status().cursor).toBe(saved.cursor);
    t2.step();
    expect(seen[0]).toBe(saved.cursor + 1);
  });

  it('restarts from the serving model when it leaves the lineage or its candidate is rejected', async () => {
    const reg = await freshRegistry('r4');
    const events: TrainerEvent[] = [];
    const t = trainer(reg, new MemorySource(world.examples.slice(0, 12_000)), { exportEveryExamples: 4_000 }, events);
    await t.start();
    const [c1, c2, ...more] = await drain(t);
    expect(more).toEqual([]);
    expect(t.status().head).toBe(c2);
    // Its own candidate promoted: still its lineage, no reset.
    await reg.promote(c1, { reason: 'validated' });
    expect(await t.checkRegistry()).toBe(false);
    // The head candidate rejected: back to the serving model (c1).
    await reg.reject(c2, 'quality: worse');
    expect(await t.checkRegistry()).toBe(true);
    expect(t.status()).toMatchObject({ base: c1, head: c1, examplesSinceExport: 0 });
    expect(events.at(-1)).toMatchObject({ type: 'reset', base: c1, reason: `candidate ${c2} was rejected: quality: worse` });
    // An operator rollback to the init model: out of the lineage, reset again.
    await reg.rollback();
    expect(await t.checkRegistry()).toBe(true);
    expect(t.status()).toMatchObject({ base: initVersion, head: initVersion });
    const w = weightsFromModel(await readModelDir(reg.dirOf(initVersion)));
    expect(modelVersionFor(w)).toBe(initVersion);
  });

  it('skips examples whose catalog version or offer is unknown, and time-triggered exports need enough examples', async () => {
    const reg = await freshRegistry('r5');
    const good = world.examples.slice(0, 2_000);
    const bad = [
      { ...world.examples[2_000], seq: 10_001, catalogVersion: 999 },
      { ...world.examples[2_001], seq: 10_002, offerId: 'no-such-offer' },
    ];
    let now = 1_000_000;
    const t = new OnlineTrainer({
      registry: reg,
      dataDir: world.dataDir,
      createExampleSource: () => new MemorySource([...good, ...bad]),
      catalog: storage.catalog,
      options: resolveTrainerOptions({ exportEveryExamples: 1_000_000, exportEverySeconds: 60, minExamplesPerExport: 1_500, maxBusyFraction: 1 }),
      now: () => now,
    });
    await t.start();
    while (t.step() > 0);
    expect(t.status().examplesSkipped).toBe(2);
    expect(await t.maybeExport()).toBeNull(); // not due yet
    now += 61_000;
    expect(t.status().examplesSinceExport).toBeGreaterThanOrEqual(1_500);
    const v = await t.maybeExport();
    expect(v).toMatch(/^tt-1-[0-9a-f]{8}$/);
    expect(await t.maybeExport()).toBeNull(); // nothing new since
  });

  it('holds scheduled exports while the registry is pinned; an explicit export still goes through', async () => {
    const reg = await freshRegistry('r7');
    const t = trainer(reg, new MemorySource(world.examples.slice(0, 3_000)), { exportEveryExamples: 1_000 });
    await t.start();
    await reg.pin();
    await t.checkRegistry();
    while (t.step() > 0) expect(await t.maybeExport()).toBeNull();
    expect(t.status().examplesSinceExport).toBeGreaterThan(2_000);
    const v = await t.exportNow();
    expect(v).toMatch(/^tt-1-/);
    await reg.unpin();
    await t.checkRegistry();
    expect(t.status()).toMatchObject({ exports: 1, head: v, examplesSinceExport: 0 });
  });

  it('idles without an example source', async () => {
    const reg = await freshRegistry('r6');
    const events: TrainerEvent[] = [];
    const t = new OnlineTrainer({ registry: reg, dataDir: world.dataDir, createExampleSource: null, catalog: storage.catalog, options: resolveTrainerOptions(), emit: (e) => events.push(e) });
    expect(await t.start()).toBe(false);
    expect(events).toEqual([{ type: 'idle', reason: 'no example source: src/events/example-source.js is not built yet' }]);
    expect(t.status()).toMatchObject({ state: 'idle', head: null });
  });
});
