/**
 * Candidate validation: the gates a model passes before it may serve. Each stage stops at the first failure
 * and says why; nothing here changes the registry (the manager acts on the report).
 *
 *   load       readModelDir: manifest well-formed, feature spec version = this engine's, dims = the spec's,
 *              sha256 of every ONNX file; the directory name equals the manifest version.
 *   signature  ONNX Runtime opens both towers with the serving SESSION_OPTIONS; inputs and outputs have the
 *              names, element type and widths the feature spec and the manifest's embed dimension require.
 *   canary     the offer tower over canary offers, the serving Scorer (the composed graph of serving) over
 *              canary transactions: every e, b and p finite, every p in [0, 1].
 *   quality    on recent held-out labelled examples, log loss no worse than the serving model's by more than
 *              the margin (relative); AUC and calibration reported. Skipped (and said so) when there are fewer
 *              than minHoldoutExamples, unless requireHoldout.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { OFFER_DIM, TXN_DIM } from '../features/spec.js';
import { clickMetrics } from '../learning/metrics.js';
import { sigmoid } from '../learning/two-tower.js';
import { readModelDir, type LoadedModel } from '../model/model-dir.js';
import { SESSION_OPTIONS, Scorer, computeOfferSide } from '../model/scorer.js';
import type { CanarySet } from './canary.js';

export type ValidationStage = 'load' | 'signature' | 'canary' | 'quality';

export interface ValidationReport {
  version: string;
  ok: boolean;
  /** The stage that failed, or 'passed'. */
  stage: ValidationStage | 'passed';
  reason: string | null;
  /** Timings (ms), canary statistics, held-out metrics of candidate and serving model. */
  metrics: Record<string, number>;
}

/** Held-out examples as rows: example k pairs txn row k with offer row k. */
export interface HoldoutSet {
  txn: Float32Array;
  offer: Float32Array;
  label: Uint8Array;
  count: number;
}

export interface QualityOptions {
  /** Relative: the candidate's held-out log loss may exceed the serving model's by at most this fraction. */
  logLossMargin: number;
  /** Fewer held-out examples than this and the quality gate is skipped (or fails, with requireHoldout). */
  minHoldoutExamples: number;
  requireHoldout: boolean;
}

export interface ValidationContext {
  canary: CanarySet;
  /** The model that serves now: the baseline of the quality gate. Null skips the gate. */
  serving: LoadedModel | null;
  holdout: HoldoutSet | null;
  quality: QualityOptions;
}

class StageError extends Error {
  constructor(
    readonly stage: ValidationStage,
    message: string,
  ) {
    super(message);
  }
}

/** Both towers of one model as ORT sessions (with the serving session options). */
class Towers {
  private constructor(
    readonly txn: ort.InferenceSession,
    readonly offer: ort.InferenceSession,
  ) {}

  static async open(model: LoadedModel): Promise<Towers> {
    let txn: ort.InferenceSession;
    try {
      txn = await ort.InferenceSession.create(model.txnTower, SESSION_OPTIONS);
    } catch (err) {
      throw new StageError('signature', `ONNX Runtime cannot load ${model.manifest.files.txnTower}: ${(err as Error).message}`);
    }
    try {
      return new Towers(txn, await ort.InferenceSession.create(model.offerTower, SESSION_OPTIONS));
    } catch (err) {
      await txn.release();
      throw new StageError('signature', `ONNX Runtime cannot load ${model.manifest.files.offerTower}: ${(err as Error).message}`);
    }
  }

  async release(): Promise<void> {
    await Promise.all([this.txn.release(), this.offer.release()]);
  }

  async runTxn(rows: Float32Array, n: number): Promise<Float32Array> {
    const out = await this.txn.run({ txn: new ort.Tensor('float32', rows.subarray(0, n * TXN_DIM), [n, TXN_DIM]) });
    return out.u.data as Float32Array;
  }

  async runOffer(rows: Float32Array, n: number): Promise<{ e: Float32Array; b: Float32Array }> {
    const out = await this.offer.run({ offer: new ort.Tensor('float32', rows.subarray(0, n * OFFER_DIM), [n, OFFER_DIM]) });
    return { e: out.e.data as Float32Array, b: out.b.data as Float32Array };
  }
}

type Sig = Array<[name: string, width: number]>;

function checkSignature(what: string, names: readonly string[], meta: readonly ort.InferenceSession.ValueMetadata[], want: Sig, kind: string): void {
  const wantNames = want.map(([n]) => n);
  if (names.length !== want.length || !wantNames.every((n) => names.includes(n))) {
    throw new StageError('signature', `${what} ${kind}s are [${names.join(', ')}], expected [${wantNames.join(', ')}]`);
  }
  for (const [name, width] of want) {
    const m = meta.find((x) => x.name === name);
    if (!m || !m.isTensor) throw new StageError('signature', `${what} ${kind} ${name} is not a tensor`);
    if (m.type !== 'float32') throw new StageError('signature', `${what} ${kind} ${name} is ${m.type}, expected float32`);
    if (m.shape.length !== 2 || m.shape[1] !== width) {
      throw new StageError('signature', `${what} ${kind} ${name} has shape [${m.shape.join(', ')}], expected [batch, ${width}]`);
    }
  }
}

function assertFinite(stage: ValidationStage, what: string, a: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new StageError(stage, `${what}[${i}] is ${a[i]} (not finite)`);
  }
}

/** p for each held-out pair through the ONNX towers: sigmoid(u_k · e_k + b_k), as the scorer composes it. */
async function predictPairs(t: Towers, embed: number, h: HoldoutSet): Promise<Float64Array> {
  const u = await t.runTxn(h.txn, h.count);
  const { e, b } = await t.runOffer(h.offer, h.count);
  const p = new Float64Array(h.count);
  for (let k = 0; k < h.count; k++) {
    let z = b[k];
    for (let j = 0; j < embed; j++) z += u[k * embed + j] * e[k * embed + j];
    p[k] = sigmoid(z);
  }
  return p;
}

/**
 * Runs every gate on the model directory `dir` and reports; never throws for a bad model (only for bugs).
 * The serving model is opened for the quality gate only, and every session is released before returning.
 */
export async function validateCandidate(dir: string, ctx: ValidationContext): Promise<ValidationReport> {
  const t0 = performance.now();
  const metrics: Record<string, number> = {};
  const lap = (name: string, since: number): number => {
    const now = performance.now();
    metrics[name] = Number((now - since).toFixed(2));
    return now;
  };
  const version = path.basename(dir);
  let towers: Towers | null = null;
  let servingTowers: Towers | null = null;
  try {
    // load
    let model: LoadedModel;
    try {
      model = await readModelDir(dir);
    } catch (err) {
      throw new StageError('load', (err as Error).message);
    }
    if (model.manifest.version !== version) {
      throw new StageError('load', `directory ${version} holds manifest version ${model.manifest.version}`);
    }
    const embed = model.manifest.dims.embed;
    let t = lap('loadMs', t0);

    // signature
    towers = await Towers.open(model);
    checkSignature('txn tower', towers.txn.inputNames, towers.txn.inputMetadata, [['txn', TXN_DIM]], 'input');
    checkSignature('txn tower', towers.txn.outputNames, towers.txn.outputMetadata, [['u', embed]], 'output');
    checkSignature('offer tower', towers.offer.inputNames, towers.offer.inputMetadata, [['offer', OFFER_DIM]], 'input');
    checkSignature('offer tower', towers.offer.outputNames, towers.offer.outputMetadata, [['e', embed], ['b', 1]], 'output');
    t = lap('signatureMs', t);

    // canary
    const { canary } = ctx;
    let u: Float32Array;
    let side: { emb: Float32Array; bias: Float32Array };
    try {
      u = await towers.runTxn(canary.txn, canary.txnCount);
      side = await computeOfferSide(model, canary.offer, canary.offerCount);
    } catch (err) {
      throw new StageError('canary', `canary run failed: ${(err as Error).message}`);
    }
    if (u.length !== canary.txnCount * embed) throw new StageError('canary', `txn tower returned ${u.length} values for ${canary.txnCount} x ${embed}`);
    assertFinite('canary', 'u', u);
    assertFinite('canary', 'offer embedding e', side.emb);
    assertFinite('canary', 'offer bias b', side.bias);
    const scorer = await Scorer.create(model, side.emb, side.bias, new Float32Array(canary.offerCount).fill(1), canary.offerCount);
    let p: Float32Array;
    try {
      p = (await scorer.score(canary.txn, canary.txnCount)).p;
    } finally {
      await scorer.release();
    }
    let pMin = Infinity;
    let pMax = -Infinity;
    let pSum = 0;
    for (let i = 0; i < p.length; i++) {
      const x = p[i];
      if (!(x >= 0 && x <= 1)) throw new StageError('canary', `score p[${i}] = ${x} is not a probability in [0, 1]`);
      pMin = Math.min(pMin, x);
      pMax = Math.max(pMax, x);
      pSum += x;
    }
    Object.assign(metrics, {
      canaryOffers: canary.offerCount,
      canaryTxns: canary.txnCount,
      canaryPMin: pMin,
      canaryPMax: pMax,
      canaryPMean: pSum / Math.max(1, p.length),
    });
    t = lap('canaryMs', t);

    // quality
    const { holdout, serving, quality } = ctx;
    const n = holdout?.count ?? 0;
    metrics.holdoutExamples = n;
    if (serving === null || holdout === null || n < quality.minHoldoutExamples) {
      if (quality.requireHoldout && serving !== null) {
        throw new StageError('quality', `only ${n} held-out examples, the quality gate needs ${quality.minHoldoutExamples}`);
      }
      metrics.qualitySkipped = 1;
    } else {
      const pc = await predictPairs(towers, embed, holdout);
      servingTowers = await Towers.open(serving);
      const ps = await predictPairs(servingTowers, serving.manifest.dims.embed, holdout);
      const mc = clickMetrics(pc, holdout.label);
      const ms = clickMetrics(ps, holdout.label);
      const limit = ms.logLoss * (1 + quality.logLossMargin);
      Object.assign(metrics, {
        holdoutPositives: Math.round(mc.observedRate * n),
        logLoss: mc.logLoss,
        auc: mc.auc,
        calibration: mc.calibration,
        servingLogLoss: ms.logLoss,
        servingAuc: ms.auc,
        servingCalibration: ms.calibration,
        logLossLimit: limit,
        qualitySkipped: 0,
      });
      lap('qualityMs', t);
      // Written as !(x <= limit) so a NaN log loss fails too.
      if (!(mc.logLoss <= limit)) {
        throw new StageError(
          'quality',
          `held-out log loss ${mc.logLoss.toFixed(5)} is worse than the serving model's ${ms.logLoss.toFixed(5)} by more than ` +
            `${(quality.logLossMargin * 100).toFixed(2)}% (limit ${limit.toFixed(5)}) on ${n} examples; AUC ${mc.auc.toFixed(4)} vs ${ms.auc.toFixed(4)}`,
        );
      }
    }
    lap('totalMs', t0);
    return { version, ok: true, stage: 'passed', reason: null, metrics };
  } catch (err) {
    if (!(err instanceof StageError)) throw err;
    lap('totalMs', t0);
    return { version, ok: false, stage: err.stage, reason: `${err.stage}: ${err.message}`, metrics };
  } finally {
    await towers?.release();
    await servingTowers?.release();
  }
}

/** The load, signature and canary gates only: for a version an operator chose, which has no baseline. */
export function checkLoadable(dir: string, canary: CanarySet): Promise<ValidationReport> {
  return validateCandidate(dir, { canary, serving: null, holdout: null, quality: { logLossMargin: 0, minHoldoutExamples: 0, requireHoldout: false } });
}
