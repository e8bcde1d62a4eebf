/**
 * The online trainer: keeps improving the serving model on the stream of labelled examples and publishes
 * candidates into the registry. It runs on its own thread (workers/trainer) and is never on the serving path:
 * it reads examples and catalogs, trains in plain TypeScript, and writes model directories; the model
 * manager decides whether a candidate serves.
 *
 * One step:
 *   1. read up to readBatch examples after the cursor;
 *   2. offer features from each example's catalog version (OfferFeatureCache: the serving feature code);
 *   3. predict every example with the current weights BEFORE training on it (progressive validation);
 *   4. train on the examples that are not held out (isHoldout) with Adam, the same train() as offline
 *      training, continuing the weights and the optimiser state;
 *   5. export a candidate every exportEveryExamples examples or exportEverySeconds seconds.
 *
 * Lineage: training starts from the serving model's exact weights (weightsFromModel). Each export's parent is
 * the model the weights continued from: the serving model, then the trainer's own previous candidate. When
 * the serving model leaves the lineage (an operator rolled back or pinned another version) or the latest
 * candidate is rejected, the trainer restarts from the serving model (a 'reset'), so it never keeps
 * building on weights that were judged bad.
 */
import { performance } from 'node:perf_hooks';
import { toWireError } from '../errors/codes.js';
import { readModelDir } from '../model/model-dir.js';
import { weightsFromModel } from '../model/onnx-weights.js';
import type { ModelRegistry } from '../registry/registry.js';
import type { TrainingWindow } from '../registry/state.js';
import { subsetImpressions } from './impressions.js';
import type { ExampleSource } from './labelled-example.js';
import { CursorStore } from './online-cursor.js';
import { materialize, OfferFeatureCache, type CatalogReader } from './online-features.js';
import { HOLDOUT_FRACTION, isHoldout } from './online-holdout.js';
import type { ProgressiveByVersion, TrainerEvent, TrainerStatus } from './online-messages.js';
import { ProgressiveMetrics } from './online-metrics.js';
import type { TrainerOptions } from './online-options.js';
import { closeSource, type ExampleSourceFactory } from './online-source.js';
import { cloneWeights, newAdamState, predictImpressions, train, type AdamState, type TwoTowerWeights } from './two-tower.js';

export interface OnlineTrainerDeps {
  registry: ModelRegistry;
  /** Passed to createExampleSource. */
  dataDir: string;
  /** Builds the example stream; null: no source yet, the trainer idles. */
  createExampleSource: ExampleSourceFactory | null;
  /** Catalog versions for offer features (CatalogStore has this shape). */
  catalog: CatalogReader;
  options: TrainerOptions;
  emit?: (event: TrainerEvent) => void;
  /** Wall clock in ms, for export timing and manifest dates. */
  now?: () => number;
}

/** Progressive metrics are kept for this many model versions (the newest). */
const VERSIONS_TRACKED = 20;

interface Window {
  firstSeq: number;
  lastSeq: number;
  firstAt: number;
  lastAt: number;
  examples: number;
}

export class OnlineTrainer {
  readonly #reg: ModelRegistry;
  readonly #deps: OnlineTrainerDeps;
  readonly #opt: TrainerOptions;
  readonly #features: OfferFeatureCache;
  readonly #cursorStore: CursorStore;
  readonly #emit: (event: TrainerEvent) => void;
  readonly #now: () => number;

  #source: ExampleSource | null = null;
  #idleReason: string | null = null;
  #w: TwoTowerWeights | null = null;
  #adam: AdamState | null = null;
  #base: string | null = null;
  #head: string | null = null;
  #lineage = new Set<string>();
  #cursor = -1;
  #steps = 0;
  #trained = 0;
  #heldOut = 0;
  #skipped = 0;
  #sinceExport = 0;
  #window: Window | null = null;
  #lastExportAt = 0;
  #lastRegistryCheck = -Infinity;
  /** The registry was pinned at the last check: scheduled exports wait (candidates would only pile up). */
  #pinned = false;
  #busyMs = 0;
  #readTotal = 0;
  #exports = 0;
  #lastExport: { version: string; at: string; ms: number } | null = null;
  readonly #progressive = new Map<string, ProgressiveMetrics>();
  #state: TrainerStatus['state'] = 'idle';
  #stopped = false;
  #wake: (() => void) | null = null;
  #running: Promise<void> | null = null;
  #exportRequests: Array<(version: string | null) => void> = [];

  constructor(deps: OnlineTrainerDeps) {
    this.#deps = deps;
    this.#reg = deps.registry;
    this.#opt = deps.options;
    this.#features = new OfferFeatureCache(deps.catalog, deps.options.catalogVersionsCached);
    this.#cursorStore = new CursorStore(deps.registry.dir);
    this.#emit = deps.emit ?? (() => undefined);
    this.#now = deps.now ?? Date.now;
  }

  /** Builds the source and loads the serving model. Resolves false (and emits 'idle') without a source. */
  async start(): Promise<boolean> {
    if (this.#deps.createExampleSource === null) {
      this.#idleReason = 'no example source: src/events/example-source.js is not built yet';
      this.#emit({ type: 'idle', reason: this.#idleReason });
      return false;
    }
    this.#source = await this.#deps.createExampleSource(this.#deps.dataDir);
    const saved = await this.#cursorStore.load();
    this.#cursor = saved?.cursor ?? -1;
    const serving = await this.#reg.serving();
    await this.#resetTo(serving.version);
    this.#lastExportAt = this.#now();
    this.#state = 'training';
    this.#emit({ type: 'started', base: serving.version, cursor: this.#cursor });
    return true;
  }

  /** The loop: steps, exports and lineage checks until stop(). Errors are emitted and the loop goes on. */
  run(): Promise<void> {
    this.#running ??= this.#loop();
    return this.#running;
  }

  /** Ends the loop after the step in progress. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    if (this.#running) await this.#running;
    this.#state = 'stopped';
    for (const r of this.#exportRequests.splice(0)) r(null);
  }

  /** Closes the example source when it has close() (after stop()). */
  async closeSource(): Promise<void> {
    await closeSource(this.#source);
    this.#source = null;
  }

  /** Asks the loop to export at its next turn; resolves with the version, or null when nothing was new. */
  exportNow(): Promise<string | null> {
    if (this.#running === null) return this.#export();
    return new Promise((resolve) => {
      this.#exportRequests.push(resolve);
      this.#wake?.();
    });
  }

  /**
   * One step (read, predict, train). Returns the number of examples read (0: the source had nothing new).
   * Public so tests and tools can drive the trainer without the loop.
   */
  step(): number {
    const source = this.#source;
    const w = this.#w;
    const adam = this.#adam;
    if (!source || !w || !adam || this.#head === null) return 0;
    const t0 = performance.now();
    const examples = source.read(this.#cursor, this.#opt.readBatch);
    if (examples.length === 0) return 0;
    this.#cursor = examples[examples.length - 1].seq;
    const m = materialize(examples, this.#features);
    this.#skipped += m.skipped;
    const metrics = this.#metricsFor(this.#head);
    if (m.data.count > 0) {
      // Progressive validation: predicted with the weights as they are before this step trains on anything.
      const p = predictImpressions(w, m.data);
      const trainIdx: number[] = [];
      for (let k = 0; k < m.data.count; k++) {
        metrics.add(p[k], m.data.label[k]);
        if (isHoldout(m.used[k].decisionId)) this.#heldOut++;
        else trainIdx.push(k);
      }
      if (trainIdx.length > 0) {
        const sub = subsetImpressions(m.data, trainIdx);
        train(w, sub, { epochs: 1, batchSize: this.#opt.batchSize, learningRate: this.#opt.learningRate, l2: this.#opt.l2, seed: (this.#opt.seed + this.#steps) >>> 0 }, adam);
        this.#trained += trainIdx.length;
        this.#sinceExport += trainIdx.length;
        for (const k of trainIdx) this.#extendWindow(m.used[k].seq, m.used[k].decidedAt);
      }
    }
    this.#steps++;
    this.#busyMs += performance.now() - t0;
    this.#readTotal += examples.length;
    return examples.length;
  }

  status(): TrainerStatus {
    const progressive: ProgressiveByVersion[] = [...this.#progressive].map(([version, pm]) => ({ version, metrics: pm.summary() }));
    return {
      state: this.#state,
      idleReason: this.#idleReason,
      base: this.#base,
      head: this.#head,
      cursor: this.#cursor,
      examplesTrained: this.#trained,
      examplesHeldOut: this.#heldOut,
      examplesSkipped: this.#skipped,
      examplesSinceExport: this.#sinceExport,
      examplesPerSecond: this.#busyMs > 0 ? Math.round((this.#readTotal / this.#busyMs) * 1000) : 0,
      exports: this.#exports,
      lastExport: this.#lastExport,
      progressive,
    };
  }

  /** Exports when due by count or time, unless the registry is pinned; returns the new version or null. */
  async maybeExport(): Promise<string | null> {
    if (this.#pinned) return null;
    const dueByCount = this.#sinceExport >= this.#opt.exportEveryExamples;
    const dueByTime = this.#now() - this.#lastExportAt >= this.#opt.exportEverySeconds * 1000 && this.#sinceExport >= this.#opt.minExamplesPerExport;
    return dueByCount || dueByTime ? this.#export() : null;
  }

  /**
   * Restarts from the serving model when the lineage was left (rollback, pin to another version) or the
   * latest candidate was rejected. Returns true when it reset.
   */
  async checkRegistry(): Promise<boolean> {
    this.#lastRegistryCheck = this.#now();
    const s = await this.#reg.state();
    this.#pinned = s.pinned;
    if (!this.#lineage.has(s.serving)) {
      await this.#resetTo(s.serving);
      this.#emit({ type: 'reset', base: s.serving, reason: `serving model ${s.serving} is not in the trainer's lineage` });
      return true;
    }
    const head = s.entries.find((e) => e.version === this.#head);
    if (head && (head.status === 'rejected' || head.status === 'rolled_back')) {
      const why = `candidate ${head.version} was ${head.status}: ${head.reason}`;
      await this.#resetTo(s.serving);
      this.#emit({ type: 'reset', base: s.serving, reason: why });
      return true;
    }
    return false;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      let read = 0;
      const t0 = performance.now();
      try {
        read = this.step();
        if (this.#exportRequests.length > 0) {
          const v = await this.#export();
          for (const r of this.#exportRequests.splice(0)) r(v);
        } else {
          await this.maybeExport();
        }
        if (this.#now() - this.#lastRegistryCheck >= this.#opt.pollIntervalMs) await this.checkRegistry();
      } catch (err) {
        this.#emit({ type: 'error', error: toWireError(err) });
        read = 0;
      }
      if (this.#stopped) break;
      // Duty cycle: rest in proportion to the work just done, so training never takes a whole core from
      // serving; with nothing to read, wait a poll interval.
      const busy = performance.now() - t0;
      const f = this.#opt.maxBusyFraction;
      await this.#sleep(read === 0 ? this.#opt.pollIntervalMs : (busy * (1 - f)) / f);
    }
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#stopped || this.#exportRequests.length > 0) return new Promise((r) => setImmediate(r));
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        done();
      };
    });
  }

  async #export(): Promise<string | null> {
    const w = this.#w;
    const win = this.#window;
    if (!w || !win || this.#sinceExport === 0 || this.#head === null || this.#base === null) return null;
    const t0 = performance.now();
    const parent = this.#head;
    const pm = this.#metricsFor(parent).summary();
    const window: TrainingWindow = {
      firstSeq: win.firstSeq,
      lastSeq: win.lastSeq,
      firstAt: new Date(win.firstAt).toISOString(),
      lastAt: new Date(win.lastAt).toISOString(),
      examples: win.examples,
    };
    const metrics = {
      progressiveLogLoss: pm.logLoss,
      progressiveAuc: pm.auc,
      progressiveCalibration: pm.calibration,
      progressiveExamples: pm.examples,
      progressivePositives: pm.positives,
      progressiveObservedRate: pm.observedRate,
      progressiveNormalizedEntropy: pm.normalizedEntropy,
    };
    const training = {
      kind: 'online',
      trainer: 'src/learning/online-trainer.ts',
      startedFrom: this.#base,
      examples: this.#sinceExport,
      totalExamples: this.#trained,
      heldOutFraction: HOLDOUT_FRACTION,
      optimizer: 'adam',
      learningRate: this.#opt.learningRate,
      batchSize: this.#opt.batchSize,
      l2: this.#opt.l2,
      adamSteps: this.#adam?.step ?? 0,
      progressive: 'each example predicted before it was trained on; metrics since the parent',
    };
    const published = await this.#reg.publishCandidate(cloneWeights(w), {
      parent,
      training,
      metrics,
      window,
      createdAt: new Date(this.#now()).toISOString(),
    });
    const ms = Number((performance.now() - t0).toFixed(2));
    this.#sinceExport = 0;
    this.#window = null;
    this.#lastExportAt = this.#now();
    await this.#cursorStore.save({ cursor: this.#cursor, version: published.version, updatedAt: new Date(this.#now()).toISOString() });
    if (!published.created) return null;
    this.#head = published.version;
    this.#lineage.add(published.version);
    this.#exports++;
    this.#lastExport = { version: published.version, at: new Date(this.#now()).toISOString(), ms };
    this.#emit({ type: 'exported', version: published.version, dir: published.dir, parent, window, metrics, ms });
    return published.version;
  }

  async #resetTo(version: string): Promise<void> {
    const model = await readModelDir(this.#reg.dirOf(version));
    this.#w = weightsFromModel(model);
    this.#adam = newAdamState(this.#w);
    this.#base = version;
    this.#head = version;
    this.#lineage = new Set([version]);
    this.#sinceExport = 0;
    this.#window = null;
  }

  #metricsFor(version: string): ProgressiveMetrics {
    let pm = this.#progressive.get(version);
    if (!pm) {
      pm = new ProgressiveMetrics(this.#opt.aucWindow);
      this.#progressive.set(version, pm);
      while (this.#progressive.size > VERSIONS_TRACKED) this.#progressive.delete(this.#progressive.keys().next().value as string);
    }
    return pm;
  }

  #extendWindow(seq: number, at: number): void {
    const w = this.#window;
    if (w === null) this.#window = { firstSeq: seq, lastSeq: seq, firstAt: at, lastAt: at, examples: 1 };
    else {
      w.lastSeq = seq;
      w.lastAt = at;
      w.examples++;
    }
  }
}
