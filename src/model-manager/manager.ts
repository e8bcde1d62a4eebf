/**
 * The model manager's logic, independent of the thread it runs in (workers/model-manager wraps it): poll the
 * registry, validate candidates, apply the policy, record the outcome in registry.json, and announce every
 * change of the serving model to the parent.
 *
 * Everything runs one step at a time on one queue (polls and operator requests alike), so the manager never
 * validates while it promotes, and a pin that arrives during a validation is applied before the promotion
 * that validation would have led to (and the registry refuses to promote while pinned in any case, because
 * the CLI can pin from another process at any moment).
 */
import type { CatalogSnapshot } from '../catalog/types.js';
import { toWireError, TxrankError } from '../errors/codes.js';
import { offerMatrix } from '../features/offer.js';
import type { ExampleSource } from '../learning/labelled-example.js';
import { OfferFeatureCache } from '../learning/online-features.js';
import { HOLDOUT_FRACTION } from '../learning/online-holdout.js';
import { readModelDir, type LoadedModel } from '../model/model-dir.js';
import { writeAnnounced, type ModelRegistry } from '../registry/registry.js';
import { threadHeap } from '../runtime/thread-heap.js';
import type { RegistryState } from '../registry/state.js';
import { buildCanary, type CanarySet } from './canary.js';
import { HoldoutBuffer } from './holdout.js';
import type { ManagerCounters, ManagerEvent, ManagerReply, ManagerRequest, RegistrySummary } from './messages.js';
import type { ManagerOptions } from './options.js';
import { decidePromotion, decideServingChange, planRollback, type Verdict } from './policy.js';
import { checkLoadable, validateCandidate, type ValidationReport } from './validate.js';
import { canCollect, collectFull, collectYoung } from '../runtime/collect.js';

/** What the manager reads from the catalog store (CatalogStore has this shape). */
export interface CatalogAccess {
  currentVersion(): number | null;
  read(version: number): CatalogSnapshot | null;
}

export interface ModelManagerDeps {
  registry: ModelRegistry;
  options: ManagerOptions;
  emit: (event: ManagerEvent) => void;
  catalog?: CatalogAccess | null;
  examples?: ExampleSource | null;
}

/** Bound on policy steps per poll, so one poll cannot run away (each step validates at most one model). */
const MAX_STEPS_PER_POLL = 16;
const CANARY_TXN_ROWS = 64;
/**
 * One full GC every this many validations. Each validation (a load check of a pinned version included) opens
 * three or four ONNX sessions on this thread and releases them, and the serving process's heap tuning
 * (src/pool/heap-tuning.ts) gives this thread, like the inference workers, room for thousands of them between
 * full GCs. Over 3,000 back-to-back swaps, adding this to the workers' own full GC
 * (workers/inference/worker.ts) read 1.01x and 1.15x in two runs, against 1.16-1.26x without it: within this
 * machine's noise, kept because this thread opens more sessions per swap than any worker
 * (bench/RESULTS.md session 7). The thread runs at a lower priority and serves no request, so the pause
 * delays no decision.
 */
const FULL_GC_EVERY_VALIDATIONS = 50;

type Check = { ok: true } | { ok: false; reason: string; report: ValidationReport };

export class ModelManager {
  readonly #reg: ModelRegistry;
  readonly #opt: ManagerOptions;
  readonly #emit: (event: ManagerEvent) => void;
  readonly #catalog: CatalogAccess | null;
  readonly #holdout: HoldoutBuffer | null;
  #announced: { version: string; generation: number } | null = null;
  /** Load checks of operator-chosen serving versions, by `${version}#${generation}`. */
  readonly #checks = new Map<string, Check>();
  readonly #verdicts = new Map<string, Verdict>();
  readonly #reports = new Map<string, ValidationReport>();
  #servingModel: LoadedModel | null = null;
  #catalogRows: { version: number; rows: Float32Array } | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #stopping: Promise<void> | null = null;
  /** The serving change that could not be resolved, reported once rather than every poll. */
  #stuck: string | null = null;
  #validations = 0;
  #collections = 0;

  constructor(deps: ModelManagerDeps) {
    this.#reg = deps.registry;
    this.#opt = deps.options;
    this.#emit = deps.emit;
    this.#catalog = deps.catalog ?? null;
    const features = this.#catalog ? new OfferFeatureCache(this.#catalog) : null;
    if (deps.examples && features) {
      const latest = (deps.examples as { latestSeq?: () => number }).latestSeq;
      // Start near the end of a long stream when the source can say where that is (seqs assumed dense).
      const after = typeof latest === 'function' ? Math.max(-1, latest.call(deps.examples) - Math.ceil(this.#opt.holdoutWindow / HOLDOUT_FRACTION)) : -1;
      this.#holdout = new HoldoutBuffer(deps.examples, features, this.#opt.holdoutWindow, after);
    } else {
      this.#holdout = null;
    }
  }

  /** The version announced last (what the inference workers should be serving). */
  get announced(): { version: string; generation: number } | null {
    return this.#announced;
  }

  /** Runs the first poll (which announces 'ready') and then polls every pollIntervalMs. */
  async start(): Promise<void> {
    await this.pollNow();
    this.#schedule();
  }

  /** One poll, queued behind whatever runs. Errors are reported as 'error' events, not thrown. */
  pollNow(): Promise<void> {
    return this.#serial(() => this.#poll());
  }

  /** Handles one request from the parent; the answer is sent after any announcement it caused. */
  request(req: Exclude<ManagerRequest, { type: 'stop' }>): Promise<ManagerReply> {
    return this.#serial(async (): Promise<ManagerReply> => {
      try {
        switch (req.type) {
          case 'pin':
            await this.#reg.pin(req.version);
            break;
          case 'unpin':
            await this.#reg.unpin();
            break;
          case 'rollback':
            await this.#reg.rollback({ pin: req.pin === true });
            break;
          case 'list':
            break;
          default: {
            const never: never = req;
            throw new TxrankError('bad_request', `unknown manager request ${JSON.stringify(never)}`);
          }
        }
        if (req.type !== 'list') await this.#poll();
        return { type: 'reply', id: req.id, ok: true, registry: summary(await this.#reg.state(), this.#counters()) };
      } catch (err) {
        return { type: 'reply', id: req.id, ok: false, error: toWireError(err) };
      }
    });
  }

  /** Stops polling after the step in progress. Idempotent; every call returns the same promise. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = null;
      await this.#queue.catch(() => undefined);
    })();
    return this.#stopping;
  }

  #schedule(): void {
    if (this.#stopping) return;
    // A timeout re-armed after each poll, not an interval: a slow validation never stacks polls up.
    this.#timer = setTimeout(() => {
      void this.pollNow().finally(() => this.#schedule());
    }, this.#opt.pollIntervalMs);
    this.#timer.unref?.();
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #poll(): Promise<void> {
    if (this.#stopping && this.#announced !== null) return;
    try {
      this.#holdout?.pull(this.#opt.holdoutReadPerPoll);
      await this.#reg.discover();
      let changed = await this.#followServing();
      changed = (await this.#promoteCandidates()) || changed;
      if (changed) await this.#reg.prune({ keepRetired: this.#opt.keepRetired, keepFailed: this.#opt.keepFailed, historyLimit: this.#opt.historyLimit });
    } catch (err) {
      this.#emit({ type: 'error', error: toWireError(err) });
    }
  }

  /** Announces a serving version that changed outside the policy (start, operator), after its load check. */
  async #followServing(): Promise<boolean> {
    let changed = false;
    for (let step = 0; step < MAX_STEPS_PER_POLL; step++) {
      const s = await this.#reg.state();
      const key = `${s.serving}#${s.generation}`;
      const fb = planRollback(s);
      const check = this.#checks.get(key);
      const d = decideServingChange({
        serving: s.serving,
        generation: s.generation,
        announced: this.#announced,
        check: check === undefined ? undefined : check.ok ? { ok: true } : { ok: false, reason: check.reason },
        fallback: fb.ok ? fb.to : null,
      });
      switch (d.action) {
        case 'none':
          return changed;
        case 'check': {
          const report = await checkLoadable(this.#reg.dirOf(d.version), await this.#canary());
          this.#validated();
          this.#checks.set(key, report.ok ? { ok: true } : { ok: false, reason: report.reason ?? report.stage, report });
          break;
        }
        case 'announce': {
          const dir = this.#reg.dirOf(d.version);
          const previous = this.#announced;
          await writeAnnounced(this.#reg.dir, { version: d.version, dir, generation: d.generation, pinned: s.pinned });
          this.#announced = { version: d.version, generation: d.generation };
          for (const k of this.#checks.keys()) if (k !== key) this.#checks.delete(k);
          if (previous === null) {
            this.#emit({ type: 'ready', version: d.version, dir, generation: d.generation, pinned: s.pinned });
          } else {
            const restored = s.entries.find((e) => e.version === d.version)?.reason.startsWith('restored:') === true;
            this.#emit({ type: 'promoted', version: d.version, dir, generation: d.generation, previous: previous.version, cause: restored ? 'restored' : 'operator', validation: null });
          }
          changed = true;
          break;
        }
        case 'revert': {
          const c = this.#checks.get(key);
          await this.#reg.revert(d.version, d.to, d.reason);
          this.#emit({ type: 'rejected', version: d.version, reason: d.reason, stage: c && !c.ok ? c.report.stage : 'load', validation: c && !c.ok ? c.report.metrics : null });
          changed = true;
          break;
        }
        case 'stuck':
          if (this.#stuck === key) return changed;
          this.#stuck = key;
          throw new TxrankError('internal', d.reason);
        default: {
          const never: never = d;
          throw new Error(`unknown serving decision ${JSON.stringify(never)}`);
        }
      }
    }
    return changed;
  }

  /** This thread's own figures for the admin summary (ManagerCounters). */
  #counters(): ManagerCounters {
    return { validations: this.#validations, collections: this.#collections, ...threadHeap() };
  }

  /**
   * Counts a validation, and runs the full GC every FULL_GC_EVERY_VALIDATIONS-th (see there) and a scavenge
   * after each of the rest (src/runtime/collect.ts says why).
   */
  #validated(): void {
    if (++this.#validations % FULL_GC_EVERY_VALIDATIONS === 0 && canCollect) {
      collectFull();
      this.#collections++;
    } else {
      collectYoung();
    }
  }

  async #promoteCandidates(): Promise<boolean> {
    let changed = false;
    for (let step = 0; step < MAX_STEPS_PER_POLL; step++) {
      const s = await this.#reg.state();
      const candidates = s.entries.filter((e) => e.status === 'candidate').map((e) => e.version);
      for (const v of this.#verdicts.keys()) if (!candidates.includes(v)) this.#verdicts.delete(v);
      for (const v of this.#reports.keys()) if (!candidates.includes(v)) this.#reports.delete(v);
      const d = decidePromotion({ serving: s.serving, pinned: s.pinned, candidates, verdicts: this.#verdicts });
      switch (d.action) {
        case 'wait':
          return changed;
        case 'validate': {
          const report = await validateCandidate(this.#reg.dirOf(d.version), {
            canary: await this.#canary(),
            serving: await this.#baseline(s),
            holdout: this.#holdout?.snapshot() ?? null,
            quality: { logLossMargin: this.#opt.logLossMargin, minHoldoutExamples: this.#opt.minHoldoutExamples, requireHoldout: this.#opt.requireHoldout },
          });
          this.#validated();
          this.#reports.set(d.version, report);
          this.#verdicts.set(d.version, report.ok ? { ok: true, baseline: s.serving } : { ok: false, baseline: s.serving, reason: report.reason ?? report.stage });
          break;
        }
        case 'reject': {
          const report = this.#reports.get(d.version) ?? null;
          await this.#reg.reject(d.version, d.reason, report?.metrics);
          this.#emit({ type: 'rejected', version: d.version, reason: d.reason, stage: report?.stage ?? 'unknown', validation: report?.metrics ?? null });
          changed = true;
          break;
        }
        case 'promote': {
          const report = this.#reports.get(d.version) ?? null;
          let after: RegistryState;
          try {
            after = await this.#reg.promote(d.version, { reason: `validated against ${s.serving}`, validation: report?.metrics, supersede: d.supersede });
          } catch (err) {
            // Pinned or changed by another writer since this step read the state: decide again next poll.
            if (err instanceof TxrankError && err.code === 'bad_request') return changed;
            throw err;
          }
          const previous = this.#announced?.version ?? s.serving;
          await writeAnnounced(this.#reg.dir, { version: after.serving, dir: this.#reg.dirOf(after.serving), generation: after.generation, pinned: after.pinned });
          this.#announced = { version: after.serving, generation: after.generation };
          this.#emit({
            type: 'promoted',
            version: after.serving,
            dir: this.#reg.dirOf(after.serving),
            generation: after.generation,
            previous,
            cause: 'validated',
            validation: report?.metrics ?? null,
          });
          changed = true;
          break;
        }
        default: {
          const never: never = d;
          throw new Error(`unknown promotion decision ${JSON.stringify(never)}`);
        }
      }
    }
    return changed;
  }

  /** The serving model as the quality baseline, cached by version; null when it cannot be read. */
  async #baseline(s: RegistryState): Promise<LoadedModel | null> {
    if (this.#servingModel?.manifest.version === s.serving) return this.#servingModel;
    this.#servingModel = await readModelDir(this.#reg.dirOf(s.serving)).catch(() => null);
    return this.#servingModel;
  }

  async #canary(): Promise<CanarySet> {
    return buildCanary({ offer: this.#catalogOfferRows(), txn: this.#holdout?.recentTxnRows(CANARY_TXN_ROWS) });
  }

  /** Up to canaryCatalogOffers offers of the current catalog, spread over it, as feature rows. */
  #catalogOfferRows(): Float32Array | undefined {
    if (!this.#catalog || this.#opt.canaryCatalogOffers === 0) return undefined;
    let v: number | null;
    try {
      v = this.#catalog.currentVersion();
    } catch {
      return undefined;
    }
    if (v === null) return undefined;
    if (this.#catalogRows?.version === v) return this.#catalogRows.rows;
    const snap = this.#catalog.read(v);
    if (!snap || snap.offers.length === 0) return undefined;
    const step = Math.max(1, Math.floor(snap.offers.length / this.#opt.canaryCatalogOffers));
    const picked = snap.offers.filter((_, i) => i % step === 0).slice(0, this.#opt.canaryCatalogOffers);
    const currency = new Map(snap.tenants.map((t) => [t.id, t.currency]));
    const parts = picked.map((o) => offerMatrix([o], currency.get(o.tenant) ?? 'USD'));
    const rows = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      rows.set(p, at);
      at += p.length;
    }
    this.#catalogRows = { version: v, rows };
    return rows;
  }
}

export function summary(s: RegistryState, manager: RegistrySummary['manager']): RegistrySummary {
  return { serving: s.serving, generation: s.generation, pinned: s.pinned, entries: s.entries, manager };
}
