/**
 * The model manager as it runs in the server: a real worker thread running the compiled
 * dist/workers/model-manager/worker.js, a real registry in a temp dir, real ONNX Runtime sessions.
 * (Build first: `npx tsc -p .`.)
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runModelsCli } from '../src/cli/models.js';
import type { TwoTowerWeights } from '../src/learning/two-tower.js';
import { ModelManagerThread } from '../src/model-manager/manager-thread.js';
import type { ManagerEvent } from '../src/model-manager/messages.js';
import { openRegistry, readAnnounced, type ModelRegistry } from '../src/registry/registry.js';
import { SHIPPED, eventually, fixtureModel, shippedWeights, variant } from './helpers/learning-fixtures.js';

const SHIPPED_VERSION = 'tt-1-6ead99d6';
let base: TwoTowerWeights;
let tmp: string;
let dir: string;
let reg: ModelRegistry;
let manager: ModelManagerThread;
let events: ManagerEvent[];

beforeAll(async () => {
  base = await shippedWeights();
});

beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'txrank-manager-'));
  dir = path.join(tmp, 'models');
  reg = await openRegistry(dir, { seedFrom: SHIPPED });
  manager = await ModelManagerThread.start({ registryDir: dir, dataDir: null, options: { pollIntervalMs: 50, settleMs: 100 } });
  events = [];
  manager.onEvent((e) => events.push(e));
});

afterEach(async () => {
  await manager.close();
  await rm(tmp, { recursive: true, force: true });
});

const meta = { parent: SHIPPED_VERSION, training: { kind: 'test' }, metrics: {} };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
function waitEvent<T extends ManagerEvent['type']>(type: T, version?: string): Promise<Extract<ManagerEvent, { type: T }>> {
  return eventually(() => events.find((e): e is Extract<ManagerEvent, { type: T }> => e.type === type && (version === undefined || (e as { version?: string }).version === version)), 10_000, `${type} ${version ?? ''}`);
}

describe('model manager thread', () => {
  it('announces the seeded model as ready, then promotes a new valid candidate with a higher generation', async () => {
    expect(manager.ready).toEqual({ type: 'ready', version: SHIPPED_VERSION, dir: path.join(dir, SHIPPED_VERSION), generation: 1, pinned: false });
    expect(await readAnnounced(dir)).toEqual({ version: SHIPPED_VERSION, dir: path.join(dir, SHIPPED_VERSION), generation: 1, pinned: false });
    const p = await reg.publishCandidate(variant(base, 1), meta);
    const e = await waitEvent('promoted', p.version);
    expect(e).toMatchObject({ version: p.version, dir: p.dir, generation: 2, previous: SHIPPED_VERSION, cause: 'validated' });
    expect(e.validation).toMatchObject({ qualitySkipped: 1 });
    expect((await stat(e.dir)).isDirectory()).toBe(true);
    expect(await reg.serving()).toMatchObject({ version: p.version, generation: 2 });
    expect(await reg.entry(SHIPPED_VERSION)).toMatchObject({ status: 'retired' });
    // What a (re)starting inference worker reads: the announced model, written before the event.
    expect(await readAnnounced(dir)).toEqual({ version: p.version, dir: p.dir, generation: 2, pinned: false });
  });

  it('rejects a corrupt candidate dropped into the registry and a NaN one, newest first, then promotes the valid one', async () => {
    // Queue three candidates while pinned, so the order the manager sees them in is fixed.
    await manager.pin();
    const good = await reg.publishCandidate(variant(base, 2), meta);
    const w = variant(base, 3);
    w.biasB[0] = NaN;
    const nan = (await reg.publishCandidate(w, meta)).version;
    const corrupt = await fixtureModel(base, 'corrupt-onnx', 1, dir, path.join(tmp, 'staging'));
    await eventually(async () => ((await reg.entry(corrupt)) ? true : undefined), 5000, 'discovery');
    expect(events).toEqual([]);
    await manager.unpin();
    const promoted = await waitEvent('promoted', good.version);
    expect(promoted).toMatchObject({ generation: 2, cause: 'validated' });
    expect(events.map((e) => `${e.type} ${(e as { version: string }).version}`)).toEqual([`rejected ${corrupt}`, `rejected ${nan}`, `promoted ${good.version}`]);
    const [r1, r2] = events as Array<Extract<ManagerEvent, { type: 'rejected' }>>;
    expect(r1).toMatchObject({ stage: 'signature' });
    expect(r1.reason).toMatch(/ONNX Runtime cannot load txn_tower\.onnx/);
    expect(r2).toMatchObject({ stage: 'canary' });
    expect(r2.reason).toMatch(/is NaN/);
    expect(await reg.entry(corrupt)).toMatchObject({ status: 'rejected', reason: r1.reason });
    expect(await reg.entry(nan)).toMatchObject({ status: 'rejected', reason: r2.reason });
    expect(await reg.serving()).toMatchObject({ version: good.version, generation: 2 });
  });

  it('a rejected candidate leaves the serving model and generation alone', async () => {
    const v = await fixtureModel(base, 'wrong-spec', 1, dir, path.join(tmp, 'staging'));
    const r = await waitEvent('rejected', v);
    expect(r.stage).toBe('load');
    await sleep(200);
    expect(await reg.serving()).toMatchObject({ version: SHIPPED_VERSION, generation: 1 });
    expect(events.filter((e) => e.type === 'promoted')).toEqual([]);
  });

  it('pin prevents promotion until unpin', async () => {
    const pinned = await manager.pin();
    expect(pinned).toMatchObject({ serving: SHIPPED_VERSION, pinned: true, generation: 1 });
    const p = await reg.publishCandidate(variant(base, 4), meta);
    await sleep(600); // a dozen polls
    expect(events.filter((e) => e.type === 'promoted')).toEqual([]);
    expect(await reg.entry(p.version)).toMatchObject({ status: 'candidate' });
    const after = await manager.unpin();
    expect(after.pinned).toBe(false);
    expect(await waitEvent('promoted', p.version)).toMatchObject({ generation: 2, cause: 'validated' });
  });

  it('rollback restores the previous version and announces it', async () => {
    const p = await reg.publishCandidate(variant(base, 5), meta);
    await waitEvent('promoted', p.version);
    const summary = await manager.rollback();
    expect(summary).toMatchObject({ serving: SHIPPED_VERSION, generation: 3, pinned: false });
    expect(summary.entries.find((e) => e.version === p.version)).toMatchObject({ status: 'rolled_back' });
    // The announcement is posted before the reply.
    const e = events.filter((x) => x.type === 'promoted').at(-1);
    expect(e).toMatchObject({ version: SHIPPED_VERSION, generation: 3, previous: p.version, cause: 'operator' });
    await expect(manager.rollback()).rejects.toThrow(/no previous good version/);
  });

  it('follows the CLI; a version an operator pins that fails its load check is rejected and the old one restored', async () => {
    await manager.pin();
    const corrupt = await fixtureModel(base, 'corrupt-onnx', 2, dir, path.join(tmp, 'staging'));
    await eventually(async () => ((await reg.entry(corrupt)) ? true : undefined), 5000, 'discovery');
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l), env: {} };
    expect(await runModelsCli(['pin', corrupt, '--registry', dir], io)).toBe(0); // sha256 matches: only ONNX Runtime can tell
    // registry.json named the corrupt version for a moment; announced.json (what workers load) never does.
    expect((await readAnnounced(dir))?.version).toBe(SHIPPED_VERSION);
    const r = await waitEvent('rejected', corrupt);
    expect(r).toMatchObject({ stage: 'signature' });
    const restored = await waitEvent('promoted', SHIPPED_VERSION);
    expect(restored).toMatchObject({ generation: 3, cause: 'restored' });
    expect(await reg.serving()).toMatchObject({ version: SHIPPED_VERSION, generation: 3, pinned: true });
    expect(await reg.entry(corrupt)).toMatchObject({ status: 'rejected' });
    // A good version pinned from the CLI is announced as an operator change.
    const good = await reg.publishCandidate(variant(base, 6), meta);
    expect(await runModelsCli(['pin', good.version, '--registry', dir], io)).toBe(0);
    expect(await waitEvent('promoted', good.version)).toMatchObject({ generation: 4, cause: 'operator' });
  });

  it('answers list, refuses bad requests with a typed error, and closes idempotently', async () => {
    const l = await manager.list();
    expect(l.entries.map((e) => e.version)).toEqual([SHIPPED_VERSION]);
    await expect(manager.pin('tt-1-00000000')).rejects.toMatchObject({ code: 'bad_request' });
    await expect(manager.pin('../etc')).rejects.toMatchObject({ code: 'bad_request' });
    const c1 = manager.close();
    expect(manager.close()).toBe(c1);
    await c1;
    await expect(manager.list()).rejects.toMatchObject({ code: 'shutting_down' });
  });
});
