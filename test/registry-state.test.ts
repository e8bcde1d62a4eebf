/**
 * The model registry on real files in a temp dir: seeding from the shipped model, publish, promote, reject,
 * pin, rollback, revert, discovery of hand-copied directories, retention, the atomic state file and the lock.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TwoTowerWeights } from '../src/learning/two-tower.js';
import { readModelDir } from '../src/model/model-dir.js';
import { writeFileAtomic } from '../src/registry/atomic-file.js';
import { withFileLock } from '../src/registry/lock.js';
import { openRegistry, type ModelRegistry } from '../src/registry/registry.js';
import { REGISTRY_FILE, validateRegistryState } from '../src/registry/state.js';
import { MODEL_STATUSES, canTransition } from '../src/registry/status.js';
import { SHIPPED, fixtureModel, shippedWeights, variant } from './helpers/learning-fixtures.js';

const SHIPPED_VERSION = 'tt-1-6ead99d6';
let base: TwoTowerWeights;
let tmp: string;
let dir: string;
let reg: ModelRegistry;

beforeAll(async () => {
  base = await shippedWeights();
});

beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'txrank-registry-'));
  dir = path.join(tmp, 'models');
  reg = await openRegistry(dir, { seedFrom: SHIPPED, settleMs: 100 });
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const meta = (parent: string | null = SHIPPED_VERSION) => ({ parent, training: { kind: 'test' }, metrics: { progressiveLogLoss: 0.1, nan: NaN } });

describe('seeding', () => {
  it('adopts the shipped model as generation 1, byte-identical', async () => {
    const s = await reg.serving();
    expect(s).toEqual({ version: SHIPPED_VERSION, dir: path.join(dir, SHIPPED_VERSION), generation: 1, pinned: false });
    const copy = await readModelDir(s.dir);
    const orig = await readModelDir(SHIPPED);
    expect(copy.manifest).toEqual(orig.manifest);
    expect(Buffer.from(copy.txnTower).equals(Buffer.from(orig.txnTower))).toBe(true);
    const [e] = await reg.list();
    expect(e).toMatchObject({ version: SHIPPED_VERSION, status: 'serving', servedGeneration: 1, parent: null });
    expect(e.metrics.auc).toBeGreaterThan(0.6);
  });

  it('reopening keeps the state; without seedFrom an empty directory is refused', async () => {
    const p = await reg.publishCandidate(variant(base, 1), meta());
    const again = await openRegistry(dir, { seedFrom: SHIPPED });
    expect((await again.list()).map((e) => e.version)).toEqual([SHIPPED_VERSION, p.version]);
    await expect(openRegistry(path.join(tmp, 'empty'))).rejects.toThrow(/no model registry/);
  });

  it('refuses a registry.json that is not valid', async () => {
    await writeFile(path.join(dir, REGISTRY_FILE), '{"format": "txrank.registry/1", "serving": 3}');
    await expect(reg.state()).rejects.toThrow(/serving must be a version string/);
    await writeFile(path.join(dir, REGISTRY_FILE), '{ not json');
    await expect(openRegistry(dir, { seedFrom: SHIPPED })).rejects.toThrow(/not valid JSON/);
  });
});

describe('publish, promote, reject', () => {
  it('publishes a candidate: model dir written atomically, entry recorded, manifest has parent and metrics', async () => {
    const w = variant(base, 2);
    const p = await reg.publishCandidate(w, { ...meta(), window: { firstSeq: 1, lastSeq: 9, firstAt: 'a', lastAt: 'b', examples: 9 } });
    expect(p.created).toBe(true);
    const model = await readModelDir(p.dir);
    expect(model.manifest.version).toBe(p.version);
    expect(model.manifest.parent).toBe(SHIPPED_VERSION);
    expect(model.manifest.metrics).toEqual({ progressiveLogLoss: 0.1 }); // NaN dropped: JSON has none
    expect(model.manifest.training).toMatchObject({ kind: 'test', window: { firstSeq: 1, lastSeq: 9 } });
    const e = (await reg.entry(p.version))!;
    expect(e).toMatchObject({ status: 'candidate', parent: SHIPPED_VERSION, window: { lastSeq: 9 } });
    expect((await readdir(dir)).filter((n) => n.includes('.tmp-') || n.includes('.old-'))).toEqual([]);
    // Same weights again: nothing written, same version.
    expect(await reg.publishCandidate(w, meta())).toEqual({ ...p, created: false });
    expect((await reg.list()).length).toBe(2);
  });

  it('promote: generation + 1, old serving retires, older candidates superseded', async () => {
    const a = await reg.publishCandidate(variant(base, 3), meta());
    const b = await reg.publishCandidate(variant(base, 4), meta());
    const s = await reg.promote(b.version, { reason: 'validated', validation: { logLoss: 0.1 }, supersede: [a.version] });
    expect(s).toMatchObject({ serving: b.version, generation: 2 });
    const byV = new Map((await reg.list()).map((e) => [e.version, e]));
    expect(byV.get(SHIPPED_VERSION)).toMatchObject({ status: 'retired', servedGeneration: 1 });
    expect(byV.get(b.version)).toMatchObject({ status: 'serving', servedGeneration: 2, validation: { logLoss: 0.1 } });
    expect(byV.get(a.version)).toMatchObject({ status: 'superseded' });
    expect(byV.get(b.version)!.history.map((h) => h.to)).toEqual(['candidate', 'serving']);
    await expect(reg.promote(a.version, { reason: 'x' })).rejects.toThrow(/superseded, not a candidate/);
  });

  it('reject marks the candidate and leaves serving alone; rejected is terminal', async () => {
    const a = await reg.publishCandidate(variant(base, 5), meta());
    const s = await reg.reject(a.version, 'canary: p is NaN', { canaryMs: 3 });
    expect(s).toMatchObject({ serving: SHIPPED_VERSION, generation: 1 });
    expect(await reg.entry(a.version)).toMatchObject({ status: 'rejected', reason: 'canary: p is NaN', validation: { canaryMs: 3 } });
    await expect(reg.pin(a.version)).rejects.toThrow(/rejected/);
    await expect(reg.reject(SHIPPED_VERSION, 'no')).rejects.toThrow(/is serving/);
  });
});

describe('pin, unpin, rollback, revert', () => {
  it('pin freezes promotion; pin(version) serves that version first; unpin releases', async () => {
    const a = await reg.publishCandidate(variant(base, 6), meta());
    await reg.pin();
    expect(await reg.serving()).toMatchObject({ version: SHIPPED_VERSION, generation: 1, pinned: true });
    await expect(reg.promote(a.version, { reason: 'validated' })).rejects.toThrow(/pinned/);
    const s = await reg.pin(a.version);
    expect(s).toMatchObject({ serving: a.version, generation: 2, pinned: true });
    await reg.unpin();
    expect(await reg.serving()).toMatchObject({ version: a.version, pinned: false });
    await expect(reg.pin('tt-1-00000000')).rejects.toThrow(/cannot pin/);
  });

  it('rollback returns to the previous good version, walking back on repeats, and never past the last one', async () => {
    await expect(reg.rollback()).rejects.toThrow(/no previous good version/);
    const a = await reg.publishCandidate(variant(base, 7), meta());
    await reg.promote(a.version, { reason: 'validated' });
    const b = await reg.publishCandidate(variant(base, 8), meta(a.version));
    await reg.promote(b.version, { reason: 'validated' });
    const waiting = await reg.publishCandidate(variant(base, 9), meta(b.version));
    let s = await reg.rollback();
    expect(s).toMatchObject({ serving: a.version, generation: 4, pinned: false });
    expect(await reg.entry(b.version)).toMatchObject({ status: 'rolled_back' });
    expect(await reg.entry(waiting.version)).toMatchObject({ status: 'superseded' });
    s = await reg.rollback({ pin: true });
    expect(s).toMatchObject({ serving: SHIPPED_VERSION, generation: 5, pinned: true });
    // a is rolled back, b is rolled back: nothing good is left behind the shipped model.
    await expect(reg.rollback()).rejects.toThrow(/no previous good version/);
    expect((await reg.serving()).version).toBe(SHIPPED_VERSION);
  });

  it('revert rejects the serving version and restores the given one under a new generation', async () => {
    const a = await reg.publishCandidate(variant(base, 10), meta());
    await reg.pin(a.version);
    const s = await reg.revert(a.version, SHIPPED_VERSION, 'signature: cannot load');
    expect(s).toMatchObject({ serving: SHIPPED_VERSION, generation: 3 });
    expect(await reg.entry(a.version)).toMatchObject({ status: 'rejected', reason: 'signature: cannot load' });
    expect((await reg.entry(SHIPPED_VERSION))!.reason).toMatch(/^restored:/);
  });
});

describe('discovery and retention', () => {
  it('adopts a model directory copied in by hand only once it has settled', async () => {
    const staging = path.join(tmp, 'staging');
    const v = await fixtureModel(base, 'good', 1, dir, staging);
    expect(await reg.discover()).toEqual([]); // just written: not settled
    const old = new Date(Date.now() - 5000);
    for (const f of await readdir(path.join(dir, v))) await utimes(path.join(dir, v, f), old, old);
    await utimes(path.join(dir, v), old, old);
    expect(await reg.discover()).toEqual([v]);
    expect(await reg.entry(v)).toMatchObject({ status: 'candidate', parent: SHIPPED_VERSION, reason: 'discovered on disk' });
    expect(await reg.discover()).toEqual([]);
    // Temp and doomed names are never adopted.
    await mkdir(path.join(dir, `${v}.tmp-1-2-3`));
    await mkdir(path.join(dir, `x.old-9`));
    await utimes(path.join(dir, `${v}.tmp-1-2-3`), old, old);
    expect(await reg.discover()).toEqual([]);
  });

  it('prune deletes failed and old retired versions, never serving, candidates or recent good ones', async () => {
    const promoted: string[] = [];
    for (let k = 0; k < 4; k++) {
      const p = await reg.publishCandidate(variant(base, 20 + k), meta());
      await reg.promote(p.version, { reason: 'validated' });
      promoted.push(p.version);
    }
    const rejected: string[] = [];
    for (let k = 0; k < 3; k++) {
      const p = await reg.publishCandidate(variant(base, 30 + k), meta());
      await reg.reject(p.version, 'bad');
      rejected.push(p.version);
    }
    const waiting = await reg.publishCandidate(variant(base, 40), meta());
    const gone = await reg.prune({ keepRetired: 2, keepFailed: 1, historyLimit: 500 });
    // Retired: shipped (gen 1), promoted[0..2] (gen 2..4); keep the 2 most recently served.
    expect(new Set(gone)).toEqual(new Set([SHIPPED_VERSION, promoted[0], rejected[0], rejected[1]]));
    for (const v of gone) await expect(stat(path.join(dir, v))).rejects.toThrow();
    for (const v of [promoted[3], promoted[2], promoted[1], rejected[2], waiting.version]) expect((await stat(path.join(dir, v))).isDirectory()).toBe(true);
    expect(await reg.entry(SHIPPED_VERSION)).toMatchObject({ pruned: true, status: 'retired' });
    // A pruned version is no rollback target.
    expect((await reg.rollback()).serving).toBe(promoted[2]);
    // History trimming drops the oldest pruned entries only.
    await reg.prune({ keepRetired: 5, keepFailed: 5, historyLimit: 8 });
    const left = (await reg.list()).map((e) => e.version);
    expect(left).not.toContain(SHIPPED_VERSION);
    expect(left).toContain(waiting.version);
  });
});

describe('state file and lock', () => {
  it('status transitions are exactly the documented ones', () => {
    const allowed = MODEL_STATUSES.flatMap((from) => MODEL_STATUSES.filter((to) => canTransition(from, to)).map((to) => `${from}->${to}`));
    expect(allowed.sort()).toEqual(
      [
        'candidate->serving',
        'candidate->rejected',
        'candidate->superseded',
        'serving->retired',
        'serving->rolled_back',
        'serving->rejected',
        'retired->serving',
        'rolled_back->serving',
        'superseded->serving',
      ].sort(),
    );
  });

  it('concurrent writers never lose an update and readers always see a whole, valid file', async () => {
    const other = await openRegistry(dir); // a second handle, as another thread or the CLI would have
    let reads = 0;
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        validateRegistryState(JSON.parse(await readFile(path.join(dir, REGISTRY_FILE), 'utf8')));
        reads++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    const ws = Array.from({ length: 12 }, (_, k) => variant(base, 100 + k));
    await Promise.all(ws.map((w, k) => (k % 2 === 0 ? reg : other).publishCandidate(w, meta())));
    await Promise.all([reg.pin(), other.unpin()]);
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect((await reg.list()).filter((e) => e.status === 'candidate')).toHaveLength(12);
    expect((await readdir(dir)).filter((n) => n.includes('.tmp-') || n === 'registry.lock')).toEqual([]);
  });

  it('a crash mid-write (a stray temp file) leaves the previous state in force', async () => {
    const before = await readFile(path.join(dir, REGISTRY_FILE), 'utf8');
    await writeFile(path.join(dir, `${REGISTRY_FILE}.tmp-999-0-dead`), before.slice(0, 40));
    expect((await reg.state()).serving).toBe(SHIPPED_VERSION);
    await writeFileAtomic(path.join(dir, REGISTRY_FILE), before);
    expect(await readFile(path.join(dir, REGISTRY_FILE), 'utf8')).toBe(before);
  });

  it('the lock serialises critical sections and breaks a lock left by a dead process', async () => {
    const lock = path.join(tmp, 'x.lock');
    const order: string[] = [];
    await Promise.all(
      ['a', 'b', 'c'].map((n) =>
        withFileLock(lock, { timeoutMs: 2000, staleMs: 10_000 }, async () => {
          order.push(`${n}+`);
          await new Promise((r) => setTimeout(r, 15));
          order.push(`${n}-`);
        }),
      ),
    );
    for (let i = 0; i < order.length; i += 2) expect(order[i].slice(0, 1)).toBe(order[i + 1].slice(0, 1));
    // pid 2^22 + 1 is above Linux's pid_max default range: no such process.
    await writeFile(lock, JSON.stringify({ pid: 4194305, threadId: 0, token: 'dead', at: Date.now() }));
    await expect(withFileLock(lock, { timeoutMs: 500, staleMs: 60_000 }, async () => 'got it')).resolves.toBe('got it');
    // A live holder (this process, fresh) is waited for, then the wait times out naming it.
    await writeFile(lock, JSON.stringify({ pid: process.pid, threadId: 7, token: 'live', at: Date.now() }));
    await expect(withFileLock(lock, { timeoutMs: 100, staleMs: 60_000 }, async () => 'no')).rejects.toThrow(/held by pid \d+ thread 7/);
    await rm(lock);
  });
});
