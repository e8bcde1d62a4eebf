/**
 * The model registry: a directory holding model directories `<version>/` (the format of src/model) and the
 * state file registry.json (state.ts) naming the serving version, the generation, the pin and every
 * version's history.
 *
 *   <registry>/registry.json      state, replaced atomically (temp + fsync + rename + fsync dir)
 *   <registry>/registry.lock      present only while a writer changes the state (lock.ts)
 *   <registry>/<version>/         manifest.json, txn_tower.onnx, offer_tower.onnx [, TRAINING.md]
 *   <registry>/announced.json     the serving model the manager last announced (after its checks): what an
 *                                 inference worker that starts (or restarts) loads; written by the manager only
 *   <registry>/trainer-state.json the online trainer's cursor (src/learning/online-cursor.ts)
 *
 * Writers: the model manager (promote, reject, supersede, revert, prune), the online trainer (publish) and
 * the `txrank models` CLI (pin, unpin, rollback), possibly in other processes; every change is a short
 * read-modify-write under the lock. Readers never lock: they read registry.json, which is always whole.
 *
 * Model directories are immutable once published: a version is named by its weights' digest, so the same
 * name always means the same bytes, and nothing ever rewrites one in place (retention deletes whole ones).
 */
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { TxrankError } from '../errors/codes.js';
import type { TwoTowerWeights } from '../learning/two-tower.js';
import { readModelDir } from '../model/model-dir.js';
import { MANIFEST_FILE, modelVersionFor, writeModelDir } from '../model/onnx-export.js';
import { planRollback } from '../model-manager/policy.js';
import { copyDirAtomic, fsyncDirTree, fsyncPath, isTransientName, removeDirAtomic, writeFileAtomic } from './atomic-file.js';
import { withFileLock } from './lock.js';
import { ANNOUNCED_FILE, LOCK_FILE, REGISTRY_FILE, REGISTRY_FORMAT, validateRegistryState, type RegistryEntry, type RegistryState, type TrainingWindow } from './state.js';
import { canTransition, type ModelStatus } from './status.js';

export interface RegistryOptions {
  /** When the registry has no state yet, adopt this model directory (copied in) as generation 1. */
  seedFrom?: string;
  /** Wait at most this long (ms) for the registry lock. */
  lockTimeoutMs?: number;
  /** A lock file older than this (ms) is taken to be left by a crashed writer and broken. */
  lockStaleMs?: number;
  /** A model directory found on disk but unknown to registry.json is adopted once unchanged this long (ms). */
  settleMs?: number;
  /**
   * Status changes kept per entry (>= 2): beyond it the oldest are dropped, except the first, and counted in
   * the entry's historyDropped. Bounds registry.json: every writer and the manager's every poll read and
   * parse the whole file, and a swap (pin, promotion) appends to two entries, so an unbounded history made
   * each swap slower than the last (1,000 pins between two versions grew the file to ~400 KB).
   */
  entryHistoryLimit?: number;
  /** Clock for timestamps (ms since epoch); tests may fix it. */
  now?: () => number;
}

export const REGISTRY_DEFAULTS = {
  lockTimeoutMs: 10_000,
  lockStaleMs: 30_000,
  settleMs: 1_000,
  entryHistoryLimit: 32,
} as const;

export interface RetentionOptions {
  /** Retired (good) versions kept on disk as rollback targets, most recently served first. */
  keepRetired: number;
  /** Rejected, rolled-back and superseded versions kept on disk for inspection, newest first. */
  keepFailed: number;
  /** Registry entries kept at most; the oldest pruned entries go first. */
  historyLimit: number;
}

export const RETENTION_DEFAULTS: RetentionOptions = { keepRetired: 5, keepFailed: 5, historyLimit: 500 };

/** The serving model as consumers need it: where to load it from and the generation that orders swaps. */
export interface ServingModel {
  version: string;
  /** Absolute path of the model directory. */
  dir: string;
  generation: number;
  pinned: boolean;
}

export interface CandidateMeta {
  /** The version whose weights training continued from. */
  parent: string | null;
  training: Record<string, unknown>;
  /** Non-finite values are dropped (JSON has no NaN, and readModelDir wants numbers). */
  metrics: Record<string, number>;
  window?: TrainingWindow | null;
  /** ISO-8601; defaults to now. */
  createdAt?: string;
}

export interface PublishResult {
  version: string;
  dir: string;
  /** False when that version (same weights) was already known; nothing was written. */
  created: boolean;
}

/** Version names are directory names: no separators, no leading dot, no temp markers. */
const VERSION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function finiteMetrics(m: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) if (Number.isFinite(v)) out[k] = v;
  return out;
}

function isWindow(v: unknown): v is TrainingWindow {
  if (typeof v !== 'object' || v === null) return false;
  const w = v as Record<string, unknown>;
  return typeof w.firstSeq === 'number' && typeof w.lastSeq === 'number' && typeof w.examples === 'number';
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

export class ModelRegistry {
  readonly dir: string;
  readonly #file: string;
  readonly #lock: string;
  readonly #lockOpts: { timeoutMs: number; staleMs: number };
  readonly #settleMs: number;
  readonly #entryHistoryLimit: number;
  readonly #now: () => number;

  /** Use openRegistry. */
  constructor(dir: string, opts: RegistryOptions = {}) {
    this.dir = path.resolve(dir);
    this.#file = path.join(this.dir, REGISTRY_FILE);
    this.#lock = path.join(this.dir, LOCK_FILE);
    this.#lockOpts = {
      timeoutMs: opts.lockTimeoutMs ?? REGISTRY_DEFAULTS.lockTimeoutMs,
      staleMs: opts.lockStaleMs ?? REGISTRY_DEFAULTS.lockStaleMs,
    };
    this.#settleMs = opts.settleMs ?? REGISTRY_DEFAULTS.settleMs;
    this.#entryHistoryLimit = opts.entryHistoryLimit ?? REGISTRY_DEFAULTS.entryHistoryLimit;
    if (!Number.isSafeInteger(this.#entryHistoryLimit) || this.#entryHistoryLimit < 2) {
      throw new TxrankError('bad_request', `entryHistoryLimit must be an integer >= 2, got ${this.#entryHistoryLimit}`);
    }
    this.#now = opts.now ?? Date.now;
  }

  get stateFile(): string {
    return this.#file;
  }

  dirOf(version: string): string {
    if (!VERSION_NAME.test(version) || isTransientName(version)) throw new TxrankError('bad_request', `not a model version name: ${JSON.stringify(version)}`);
    return path.join(this.dir, version);
  }

  /** The current state, read fresh from disk. */
  async state(): Promise<RegistryState> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new TxrankError('not_ready', `no model registry at ${this.dir} (${REGISTRY_FILE} is missing)`);
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new TxrankError('internal', `model registry ${this.#file} is not valid JSON: ${(err as Error).message}`);
    }
    return validateRegistryState(parsed, this.#file);
  }

  async list(): Promise<RegistryEntry[]> {
    return (await this.state()).entries;
  }

  async serving(): Promise<ServingModel> {
    return servingOf(this, await this.state());
  }

  async entry(version: string): Promise<RegistryEntry | null> {
    return (await this.state()).entries.find((e) => e.version === version) ?? null;
  }

  /** Adopts `from` as the serving model, generation 1, unless the registry already has a state. */
  async seed(from: string): Promise<void> {
    await withFileLock(this.#lock, this.#lockOpts, async () => {
      if (await exists(this.#file)) return;
      const model = await readModelDir(from);
      const version = model.manifest.version;
      const dest = this.dirOf(version);
      if (!(await exists(dest))) await copyDirAtomic(model.dir, dest);
      await readModelDir(dest); // the copy must check out exactly as the source did
      const now = this.#iso();
      const entry = newEntry(version, model.manifest.parent, 'serving', `seeded from ${model.dir}`, now, model.manifest.metrics, windowOf(model.manifest.training));
      entry.servedGeneration = 1;
      entry.history[0].generation = 1;
      const state: RegistryState = { format: REGISTRY_FORMAT, serving: version, generation: 1, pinned: false, updatedAt: now, entries: [entry] };
      await this.#write(state);
    });
  }

  /**
   * Writes a model directory `<version>/` for `w` (atomically: temp directory + rename, then fsync) and records
   * it as a candidate. The manager validates it and decides whether it serves. Publishing weights that are
   * already known (same digest, same version) writes nothing and returns created = false.
   */
  async publishCandidate(w: TwoTowerWeights, meta: CandidateMeta): Promise<PublishResult> {
    const version = modelVersionFor(w);
    const dir = this.dirOf(version);
    if ((await this.entry(version)) !== null) return { version, dir, created: false };
    const training = meta.window ? { ...meta.training, window: meta.window } : meta.training;
    const metrics = finiteMetrics(meta.metrics);
    if (!(await exists(dir))) {
      await writeModelDir(dir, w, { version, parent: meta.parent, createdAt: meta.createdAt ?? this.#iso(), training, metrics });
      await fsyncDirTree(dir);
      await fsyncPath(this.dir);
    }
    const created = await this.#mutate((s, now) => {
      if (s.entries.some((e) => e.version === version)) return false;
      s.entries.push(newEntry(version, meta.parent, 'candidate', 'published', now, metrics, meta.window ?? null));
      return true;
    });
    return { version, dir, created };
  }

  /**
   * Adopts model directories that appeared on disk without being published (copied in by hand) as
   * candidates, once they have not changed for settleMs (a copy in progress is not a model yet). Returns the
   * versions added. An unreadable manifest still makes a candidate: validation then rejects it with the reason.
   */
  async discover(): Promise<string[]> {
    const s = await this.state();
    const known = new Set(s.entries.map((e) => e.version));
    const found: Array<{ version: string; parent: string | null; metrics: Record<string, number>; window: TrainingWindow | null; note: string }> = [];
    for (const d of await readdir(this.dir, { withFileTypes: true })) {
      if (!d.isDirectory() || known.has(d.name) || isTransientName(d.name) || !VERSION_NAME.test(d.name)) continue;
      const dir = path.join(this.dir, d.name);
      if (!(await this.#settled(dir))) continue;
      let parent: string | null = null;
      let metrics: Record<string, number> = {};
      let window: TrainingWindow | null = null;
      let note = 'discovered on disk';
      try {
        const m = JSON.parse(await readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as Record<string, unknown>;
        if (typeof m.parent === 'string') parent = m.parent;
        if (typeof m.metrics === 'object' && m.metrics !== null) metrics = finiteMetrics(m.metrics as Record<string, number>);
        window = windowOf(m.training);
      } catch (err) {
        note = `discovered on disk; manifest unreadable (${(err as Error).message})`;
      }
      found.push({ version: d.name, parent, metrics, window, note });
    }
    if (found.length === 0) return [];
    return this.#mutate((st, now) => {
      const added: string[] = [];
      for (const f of found) {
        if (st.entries.some((e) => e.version === f.version)) continue;
        st.entries.push(newEntry(f.version, f.parent, 'candidate', f.note, now, f.metrics, f.window));
        added.push(f.version);
      }
      return added;
    });
  }

  /**
   * Makes candidate `version` the serving model (generation + 1); the previous serving version retires and
   * `supersede` (older candidates) are marked superseded. Refused while pinned: the manager checks the pin in
   * the same critical section, so an operator's pin that lands mid-validation wins.
   */
  async promote(version: string, opts: { reason: string; validation?: Record<string, number>; supersede?: readonly string[] }): Promise<RegistryState> {
    return this.#mutateState((s, now) => {
      if (s.pinned) throw new TxrankError('bad_request', `registry is pinned to ${s.serving}; not promoting ${version}`);
      const e = need(s, version);
      if (e.status !== 'candidate') throw new TxrankError('bad_request', `${version} is ${e.status}, not a candidate`);
      if (opts.validation) e.validation = finiteMetrics(opts.validation);
      switchServing(s, e, opts.reason, 'retired', `superseded in serving by ${version}`, now);
      for (const v of opts.supersede ?? []) {
        const c = s.entries.find((x) => x.version === v);
        if (c && c.status === 'candidate') setStatus(c, 'superseded', `superseded by newer candidate ${version}`, now);
      }
    });
  }

  /** Marks candidate `version` rejected with the reason (validation failed). The serving model is untouched. */
  async reject(version: string, reason: string, validation?: Record<string, number>): Promise<RegistryState> {
    return this.#mutateState((s, now) => {
      const e = need(s, version);
      if (e.version === s.serving) throw new TxrankError('bad_request', `${version} is serving; use revert or rollback`);
      if (validation) e.validation = finiteMetrics(validation);
      setStatus(e, 'rejected', reason, now);
    });
  }

  /** Marks candidates superseded (e.g. an operator action made them moot). */
  async supersede(versions: readonly string[], reason: string): Promise<RegistryState> {
    return this.#mutateState((s, now) => {
      for (const v of versions) {
        const e = s.entries.find((x) => x.version === v);
        if (e && e.status === 'candidate') setStatus(e, 'superseded', reason, now);
      }
    });
  }

  /**
   * The serving version failed its load check after an operator chose it: it is rejected and `to` (what the
   * workers still serve) becomes the serving version again, under a new generation.
   */
  async revert(version: string, to: string, reason: string): Promise<RegistryState> {
    return this.#mutateState((s, now) => {
      if (s.serving !== version) throw new TxrankError('bad_request', `${version} is not serving (serving ${s.serving})`);
      switchServing(s, need(s, to), `restored: ${reason}`, 'rejected', reason, now);
    });
  }

  /**
   * Pins serving. With a version, that version serves first (generation + 1; the previous one retires); it must
   * be known, not rejected, with its files present and passing readModelDir. While pinned the manager
   * promotes nothing; candidates wait.
   */
  async pin(version?: string, reason = 'pinned by operator'): Promise<RegistryState> {
    if (version !== undefined) await readModelDir(this.dirOf(version)).catch((err: unknown) => {
      throw new TxrankError('bad_request', `cannot pin ${version}: ${(err as Error).message}`);
    });
    return this.#mutateState((s, now) => {
      if (version !== undefined && version !== s.serving) {
        const e = need(s, version);
        if (e.pruned) throw new TxrankError('bad_request', `cannot pin ${version}: its files were pruned`);
        if (!canTransition(e.status, 'serving')) throw new TxrankError('bad_request', `cannot pin ${version}: it is ${e.status} (${e.reason})`);
        switchServing(s, e, reason, 'retired', `replaced by pinned ${version}`, now);
      }
      s.pinned = true;
    });
  }

  async unpin(): Promise<RegistryState> {
    return this.#mutateState((s) => {
      s.pinned = false;
    });
  }

  /**
   * Returns to the previous good serving version (planRollback): the current one is marked rolled_back and
   * waiting candidates superseded. Refused when there is no previous good version (the last good model is
   * never given up). `pin: true` also pins the result.
   */
  async rollback(opts: { pin?: boolean; reason?: string } = {}): Promise<RegistryState> {
    return this.#mutateState((s, now) => {
      const plan = planRollback(s);
      if (!plan.ok) throw new TxrankError('bad_request', plan.reason);
      const reason = opts.reason ?? 'rolled back by operator';
      switchServing(s, need(s, plan.to), `${reason} (from ${plan.from})`, 'rolled_back', reason, now);
      for (const v of plan.supersede) setStatus(need(s, v), 'superseded', `${reason}: queued under ${plan.from}`, now);
      if (opts.pin) s.pinned = true;
    });
  }

  /**
   * Deletes model directories nobody needs (never the serving one, a candidate, or the keepRetired most
   * recently served good versions) and trims the oldest pruned entries beyond historyLimit. Returns the
   * versions whose files were deleted.
   */
  async prune(opts: Partial<RetentionOptions> = {}): Promise<string[]> {
    const { keepRetired, keepFailed, historyLimit } = { ...RETENTION_DEFAULTS, ...opts };
    const doomed = await this.#mutate((s) => {
      const live = s.entries.filter((e) => !e.pruned);
      const retired = live.filter((e) => e.status === 'retired').sort((a, b) => (b.servedGeneration ?? 0) - (a.servedGeneration ?? 0));
      const failed = live.filter((e) => e.status === 'rejected' || e.status === 'rolled_back' || e.status === 'superseded').reverse();
      const out = [...retired.slice(keepRetired), ...failed.slice(keepFailed)];
      for (const e of out) e.pruned = true;
      let excess = s.entries.length - historyLimit;
      if (excess > 0) s.entries = s.entries.filter((e) => !(e.pruned && excess-- > 0));
      return out.map((e) => e.version);
    });
    for (const v of doomed) await removeDirAtomic(this.dirOf(v));
    return doomed;
  }

  async #settled(dir: string): Promise<boolean> {
    const limit = this.#now() - this.#settleMs;
    let newest = (await stat(dir)).mtimeMs;
    for (const f of await readdir(dir)) newest = Math.max(newest, (await stat(path.join(dir, f)).catch(() => ({ mtimeMs: Infinity }))).mtimeMs);
    return newest <= limit;
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }

  async #write(s: RegistryState): Promise<void> {
    s.updatedAt = this.#iso();
    await writeFileAtomic(this.#file, JSON.stringify(s, null, 2) + '\n');
  }

  /** Read-modify-write under the lock; `fn` mutates the fresh state (or throws to abort without writing). */
  async #mutate<T>(fn: (s: RegistryState, now: string) => T): Promise<T> {
    return withFileLock(this.#lock, this.#lockOpts, async () => {
      const s = await this.state();
      const result = fn(s, this.#iso());
      for (const e of s.entries) boundHistory(e, this.#entryHistoryLimit);
      validateRegistryState(JSON.parse(JSON.stringify(s)), this.#file); // never write a state we could not read back
      await this.#write(s);
      return result;
    });
  }

  async #mutateState(fn: (s: RegistryState, now: string) => void): Promise<RegistryState> {
    let out!: RegistryState;
    await this.#mutate((s, now) => {
      fn(s, now);
      out = s;
    });
    return out;
  }
}

/** The serving model named by a state read from `reg`. */
export function servingOf(reg: ModelRegistry, s: RegistryState): ServingModel {
  return { version: s.serving, dir: reg.dirOf(s.serving), generation: s.generation, pinned: s.pinned };
}

function windowOf(training: unknown): TrainingWindow | null {
  if (typeof training !== 'object' || training === null) return null;
  const w = (training as Record<string, unknown>).window;
  return isWindow(w) ? w : null;
}

function newEntry(
  version: string,
  parent: string | null,
  status: ModelStatus,
  reason: string,
  now: string,
  metrics: Record<string, number>,
  window: TrainingWindow | null,
): RegistryEntry {
  return {
    version,
    parent,
    status,
    reason,
    addedAt: now,
    updatedAt: now,
    servedGeneration: null,
    metrics,
    validation: null,
    window,
    pruned: false,
    history: [{ at: now, from: null, to: status, reason }],
  };
}

/** Keeps the first status change and the newest limit - 1; counts what it drops. */
function boundHistory(e: RegistryEntry, limit: number): void {
  const excess = e.history.length - limit;
  if (excess <= 0) return;
  e.history.splice(1, excess);
  e.historyDropped = (e.historyDropped ?? 0) + excess;
}

function need(s: RegistryState, version: string): RegistryEntry {
  const e = s.entries.find((x) => x.version === version);
  if (!e) throw new TxrankError('bad_request', `unknown model version ${version}`);
  return e;
}

function setStatus(e: RegistryEntry, to: ModelStatus, reason: string, now: string, generation?: number): void {
  if (!canTransition(e.status, to)) throw new TxrankError('bad_request', `${e.version} cannot go from ${e.status} to ${to}`);
  e.history.push({ at: now, from: e.status, to, reason, ...(generation === undefined ? {} : { generation }) });
  e.status = to;
  e.reason = reason;
  e.updatedAt = now;
}

/** The one place the serving version changes: generation + 1, old serving -> `oldTo`, `next` -> serving. */
function switchServing(s: RegistryState, next: RegistryEntry, reason: string, oldTo: ModelStatus, oldReason: string, now: string): void {
  if (next.version === s.serving) throw new TxrankError('bad_request', `${next.version} is already serving`);
  if (next.pruned) throw new TxrankError('bad_request', `${next.version}'s files were pruned`);
  const old = need(s, s.serving);
  if (!canTransition(next.status, 'serving')) throw new TxrankError('bad_request', `${next.version} is ${next.status} and cannot serve`);
  const generation = s.generation + 1;
  setStatus(old, oldTo, oldReason, now, generation);
  setStatus(next, 'serving', reason, now, generation);
  next.servedGeneration = generation;
  s.serving = next.version;
  s.generation = generation;
}

/**
 * Records what the manager announced (atomically). registry.json's `serving` can run ahead of it for a
 * moment (an operator's pin not yet load-checked); announced.json only ever names a checked model.
 */
export async function writeAnnounced(registryDir: string, m: ServingModel): Promise<void> {
  await writeFileAtomic(path.join(registryDir, ANNOUNCED_FILE), JSON.stringify(m, null, 2) + '\n');
}

/** The model the manager last announced, or null before its first announcement (or with no registry). */
export async function readAnnounced(registryDir: string): Promise<ServingModel | null> {
  let text: string;
  try {
    text = await readFile(path.join(registryDir, ANNOUNCED_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const v = JSON.parse(text) as Partial<ServingModel>;
  if (typeof v.version !== 'string' || typeof v.dir !== 'string' || typeof v.generation !== 'number' || typeof v.pinned !== 'boolean') {
    throw new TxrankError('internal', `${path.join(registryDir, ANNOUNCED_FILE)} is not an announced model`);
  }
  return { version: v.version, dir: v.dir, generation: v.generation, pinned: v.pinned };
}

/**
 * Opens the registry at `dir` (created if missing). A registry without state adopts `seedFrom` (e.g. the
 * shipped model) as its first serving version, generation 1; without `seedFrom` it is an error
 * (TxrankError 'not_ready').
 */
export async function openRegistry(dir: string, opts: RegistryOptions = {}): Promise<ModelRegistry> {
  await mkdir(dir, { recursive: true });
  const reg = new ModelRegistry(dir, opts);
  if (!(await exists(reg.stateFile))) {
    if (opts.seedFrom === undefined) throw new TxrankError('not_ready', `no model registry at ${reg.dir} (${REGISTRY_FILE} is missing)`);
    await reg.seed(opts.seedFrom);
  }
  await reg.state(); // fail now, with the reason, on an unreadable state
  return reg;
}
