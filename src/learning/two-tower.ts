/**
 * The two-tower engagement model in plain TypeScript: the reference forward pass, initialisation and
 * mini-batch Adam training on log loss.
 *
 *   u = W2ᵀ relu(W1ᵀ txn + b1) + b2              (txn tower,   TXN_DIM   -> hidden -> embed)
 *   e = V2ᵀ relu(V1ᵀ offer + c1) + c2            (offer tower, OFFER_DIM -> hidden -> embed)
 *   b = wᵀ offer + w0                            (offer bias head; w0 is the global bias)
 *   p = sigmoid(u · e + b)
 *
 * Weights are plain Float32Arrays in exactly the layout the ONNX export writes (Gemm's B operand with
 * transB = 0, i.e. [in, out] row-major), so the exporter copies bytes and an online learner can continue
 * from an exported model without any conversion. Arithmetic runs in float64 over float32 weights; every step
 * is a fixed sequence of IEEE operations, so the same seed and data give bit-identical weights.
 */
import { createHash } from 'node:crypto';
import { Prng } from './prng.js';
import type { Impressions } from './impressions.js';

export interface TwoTowerDims {
  txn: number;
  offer: number;
  hidden: number;
  embed: number;
}

export interface TwoTowerWeights {
  readonly dims: TwoTowerDims;
  /** [txn, hidden] */
  txnW1: Float32Array;
  /** [hidden] */
  txnB1: Float32Array;
  /** [hidden, embed] */
  txnW2: Float32Array;
  /** [embed] */
  txnB2: Float32Array;
  /** [offer, hidden] */
  offerW1: Float32Array;
  /** [hidden] */
  offerB1: Float32Array;
  /** [hidden, embed] */
  offerW2: Float32Array;
  /** [embed] */
  offerB2: Float32Array;
  /** [offer, 1] */
  biasW: Float32Array;
  /** [1]: the global bias. */
  biasB: Float32Array;
}

/** The parameter tensors in their one canonical order (digest, optimiser state, ONNX initializer names). */
export const PARAM_NAMES = [
  'txnW1',
  'txnB1',
  'txnW2',
  'txnB2',
  'offerW1',
  'offerB1',
  'offerW2',
  'offerB2',
  'biasW',
  'biasB',
] as const;
export type ParamName = (typeof PARAM_NAMES)[number];

export function paramShape(dims: TwoTowerDims, name: ParamName): [number] | [number, number] {
  switch (name) {
    case 'txnW1':
      return [dims.txn, dims.hidden];
    case 'offerW1':
      return [dims.offer, dims.hidden];
    case 'txnW2':
    case 'offerW2':
      return [dims.hidden, dims.embed];
    case 'txnB1':
    case 'offerB1':
      return [dims.hidden];
    case 'txnB2':
    case 'offerB2':
      return [dims.embed];
    case 'biasW':
      return [dims.offer, 1];
    case 'biasB':
      return [1];
    default: {
      const never: never = name;
      throw new Error(`unknown parameter ${String(never)}`);
    }
  }
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * He-initialised weights (ReLU layers), small output layers, and a global bias at logit(baseRate) so the
 * first steps are not spent learning that engagement is rare.
 */
export function initWeights(dims: TwoTowerDims, seed: number, baseRate = 0.03): TwoTowerWeights {
  const rng = new Prng(seed);
  const he = (name: ParamName, fanIn: number, gain = 1): Float32Array => {
    const a = new Float32Array(size(paramShape(dims, name)));
    const s = gain * Math.sqrt(2 / fanIn);
    for (let i = 0; i < a.length; i++) a[i] = rng.normal() * s;
    return a;
  };
  const zeros = (name: ParamName): Float32Array => new Float32Array(size(paramShape(dims, name)));
  const w: TwoTowerWeights = {
    dims: { ...dims },
    txnW1: he('txnW1', dims.txn),
    txnB1: zeros('txnB1'),
    // Output layers start small so the initial dot products are near 0 and p starts near baseRate.
    txnW2: he('txnW2', dims.hidden, 0.5),
    txnB2: zeros('txnB2'),
    offerW1: he('offerW1', dims.offer),
    offerB1: zeros('offerB1'),
    offerW2: he('offerW2', dims.hidden, 0.5),
    offerB2: zeros('offerB2'),
    biasW: zeros('biasW'),
    biasB: Float32Array.of(Math.log(baseRate / (1 - baseRate))),
  };
  return w;
}

export function cloneWeights(w: TwoTowerWeights): TwoTowerWeights {
  const out = { dims: { ...w.dims } } as TwoTowerWeights;
  for (const name of PARAM_NAMES) out[name] = w[name].slice();
  return out;
}

/** Checks that every tensor has the size its dims imply; for weights that came from outside (files). */
export function assertWeightShapes(w: TwoTowerWeights): void {
  for (const name of PARAM_NAMES) {
    const want = size(paramShape(w.dims, name));
    if (w[name].length !== want) throw new Error(`weight ${name} has ${w[name].length} values, expected ${want}`);
  }
}

/** sha256 over every tensor's little-endian float32 bytes in PARAM_NAMES order; names a model's weights. */
export function weightsDigest(w: TwoTowerWeights): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(w.dims));
  for (const name of PARAM_NAMES) h.update(float32LE(w[name]));
  return h.digest('hex');
}

const LITTLE_ENDIAN_HOST = new Uint8Array(Float32Array.of(1).buffer)[3] === 0x3f;

/** Little-endian bytes of a Float32Array (a copy) regardless of the host's byte order. */
export function float32LE(a: Float32Array): Uint8Array {
  // Scorer graphs carry 10k x 16 floats; a byte copy is ~20x faster than DataView writes on the usual host.
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  const out = new Uint8Array(a.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat32(i * 4, a[i], true);
  return out;
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** One dense layer y = xᵀW + b for a single row, reading x at `xOff`; optional ReLU. Skips zero inputs. */
function dense(
  x: ArrayLike<number>,
  xOff: number,
  inDim: number,
  W: Float32Array,
  b: Float32Array,
  outDim: number,
  relu: boolean,
  out: Float64Array,
): void {
  for (let j = 0; j < outDim; j++) out[j] = b[j];
  for (let i = 0; i < inDim; i++) {
    const xi = x[xOff + i];
    if (xi === 0) continue;
    const row = i * outDim;
    for (let j = 0; j < outDim; j++) out[j] += xi * W[row + j];
  }
  if (relu) for (let j = 0; j < outDim; j++) if (out[j] < 0) out[j] = 0;
}

/** Txn tower for `batch` rows of `txn` ([batch, dims.txn]) -> u [batch, embed]. */
export function txnEmbed(w: TwoTowerWeights, txn: Float32Array, batch: number): Float32Array {
  const { txn: D, hidden: H, embed: E } = w.dims;
  const h = new Float64Array(H);
  const u = new Float64Array(E);
  const out = new Float32Array(batch * E);
  for (let r = 0; r < batch; r++) {
    dense(txn, r * D, D, w.txnW1, w.txnB1, H, true, h);
    dense(h, 0, H, w.txnW2, w.txnB2, E, false, u);
    for (let j = 0; j < E; j++) out[r * E + j] = u[j];
  }
  return out;
}

/** Offer tower for `n` rows of `offer` ([n, dims.offer]) -> e [n, embed] and b [n]. */
export function offerEmbed(w: TwoTowerWeights, offer: Float32Array, n: number): { emb: Float32Array; bias: Float32Array } {
  const { offer: D, hidden: H, embed: E } = w.dims;
  const g = new Float64Array(H);
  const e = new Float64Array(E);
  const one = new Float64Array(1);
  const emb = new Float32Array(n * E);
  const bias = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    dense(offer, r * D, D, w.offerW1, w.offerB1, H, true, g);
    dense(g, 0, H, w.offerW2, w.offerB2, E, false, e);
    for (let j = 0; j < E; j++) emb[r * E + j] = e[j];
    dense(offer, r * D, D, w.biasW, w.biasB, 1, false, one);
    bias[r] = one[0];
  }
  return { emb, bias };
}

/** p for every impression of `data` (each pairs one txn row with one offer row). */
export function predictImpressions(w: TwoTowerWeights, data: Impressions): Float64Array {
  const u = txnEmbed(w, data.txn, data.txnCount);
  const { emb, bias } = offerEmbed(w, data.offer, data.offerCount);
  const E = w.dims.embed;
  const p = new Float64Array(data.count);
  for (let k = 0; k < data.count; k++) {
    const t = data.txnIndex[k] * E;
    const o = data.offerIndex[k] * E;
    let z = bias[data.offerIndex[k]];
    for (let j = 0; j < E; j++) z += u[t + j] * emb[o + j];
    p[k] = sigmoid(z);
  }
  return p;
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** L2 penalty on weight matrices (not biases), added to the mean log loss. */
  l2: number;
  /** Seeds the example order; the same seed and data give identical weights. */
  seed: number;
  /** Called after each epoch with the mean training log loss of that epoch. */
  onEpoch?: (epoch: number, trainLogLoss: number) => void;
}

export const DEFAULT_TRAIN_OPTIONS: Omit<TrainOptions, 'seed'> = {
  epochs: 4,
  batchSize: 256,
  learningRate: 0.003,
  l2: 1e-6,
};

/** Adam's state for one parameter set; kept across calls so training can be resumed (online learning). */
export interface AdamState {
  step: number;
  m: Record<ParamName, Float64Array>;
  v: Record<ParamName, Float64Array>;
}

export function newAdamState(w: TwoTowerWeights): AdamState {
  const m = {} as Record<ParamName, Float64Array>;
  const v = {} as Record<ParamName, Float64Array>;
  for (const name of PARAM_NAMES) {
    m[name] = new Float64Array(w[name].length);
    v[name] = new Float64Array(w[name].length);
  }
  return { step: 0, m, v };
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;
const IS_MATRIX: Record<ParamName, boolean> = {
  txnW1: true,
  txnB1: false,
  txnW2: true,
  txnB2: false,
  offerW1: true,
  offerB1: false,
  offerW2: true,
  offerB2: false,
  biasW: true,
  biasB: false,
};

/**
 * Trains `w` in place on `data` with mini-batch Adam and returns the per-epoch mean training log loss.
 * `state` may be passed to continue an earlier run's optimiser (it is updated in place).
 */
export function train(
  w: TwoTowerWeights,
  data: Impressions,
  options: TrainOptions,
  state: AdamState = newAdamState(w),
): number[] {
  const { txn: DT, offer: DO, hidden: H, embed: E } = w.dims;
  const grad = {} as Record<ParamName, Float64Array>;
  for (const name of PARAM_NAMES) grad[name] = new Float64Array(w[name].length);

  const h1 = new Float64Array(H);
  const g1 = new Float64Array(H);
  const u = new Float64Array(E);
  const e = new Float64Array(E);
  const dh = new Float64Array(H);
  const dg = new Float64Array(H);
  const one = new Float64Array(1);

  const order = new Uint32Array(data.count);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const rng = new Prng(options.seed);
  const history: number[] = [];

  for (let epoch = 0; epoch < options.epochs; epoch++) {
    rng.shuffle(order);
    let lossSum = 0;
    for (let start = 0; start < order.length; start += options.batchSize) {
      const end = Math.min(order.length, start + options.batchSize);
      for (const name of PARAM_NAMES) grad[name].fill(0);
      for (let k = start; k < end; k++) {
        const ex = order[k];
        const xOff = data.txnIndex[ex] * DT;
        const yOff = data.offerIndex[ex] * DO;
        const x = data.txn;
        const y = data.offer;
        dense(x, xOff, DT, w.txnW1, w.txnB1, H, true, h1);
        dense(h1, 0, H, w.txnW2, w.txnB2, E, false, u);
        dense(y, yOff, DO, w.offerW1, w.offerB1, H, true, g1);
        dense(g1, 0, H, w.offerW2, w.offerB2, E, false, e);
        dense(y, yOff, DO, w.biasW, w.biasB, 1, false, one);
        let z = one[0];
        for (let j = 0; j < E; j++) z += u[j] * e[j];
        const p = sigmoid(z);
        const label = data.label[ex];
        lossSum += logLossTerm(p, label);
        const dz = p - label;

        // Bias head.
        grad.biasB[0] += dz;
        for (let i = 0; i < DO; i++) {
          const yi = y[yOff + i];
          if (yi !== 0) grad.biasW[i] += dz * yi;
        }
        // Second layers: du = dz * e, de = dz * u.
        dh.fill(0);
        dg.fill(0);
        for (let j = 0; j < E; j++) {
          const du = dz * e[j];
          const de = dz * u[j];
          grad.txnB2[j] += du;
          grad.offerB2[j] += de;
          for (let i = 0; i < H; i++) {
            grad.txnW2[i * E + j] += h1[i] * du;
            grad.offerW2[i * E + j] += g1[i] * de;
            dh[i] += w.txnW2[i * E + j] * du;
            dg[i] += w.offerW2[i * E + j] * de;
          }
        }
        // First layers, through the ReLUs.
        for (let i = 0; i < H; i++) {
          if (h1[i] <= 0) dh[i] = 0;
          if (g1[i] <= 0) dg[i] = 0;
          grad.txnB1[i] += dh[i];
          grad.offerB1[i] += dg[i];
        }
        for (let i = 0; i < DT; i++) {
          const xi = x[xOff + i];
          if (xi === 0) continue;
          const row = i * H;
          for (let j = 0; j < H; j++) grad.txnW1[row + j] += xi * dh[j];
        }
        for (let i = 0; i < DO; i++) {
          const yi = y[yOff + i];
          if (yi === 0) continue;
          const row = i * H;
          for (let j = 0; j < H; j++) grad.offerW1[row + j] += yi * dg[j];
        }
      }
      adamStep(w, grad, state, end - start, options);
    }
    const mean = lossSum / Math.max(1, order.length);
    history.push(mean);
    options.onEpoch?.(epoch, mean);
  }
  return history;
}

function adamStep(
  w: TwoTowerWeights,
  grad: Record<ParamName, Float64Array>,
  state: AdamState,
  batch: number,
  options: TrainOptions,
): void {
  state.step++;
  const c1 = 1 - Math.pow(BETA1, state.step);
  const c2 = 1 - Math.pow(BETA2, state.step);
  const lr = options.learningRate;
  for (const name of PARAM_NAMES) {
    const p = w[name];
    const g = grad[name];
    const m = state.m[name];
    const v = state.v[name];
    const decay = IS_MATRIX[name] ? 2 * options.l2 : 0;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] / batch + decay * p[i];
      m[i] = BETA1 * m[i] + (1 - BETA1) * gi;
      v[i] = BETA2 * v[i] + (1 - BETA2) * gi * gi;
      p[i] = p[i] - (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + EPS);
    }
  }
}

/** Log loss of one prediction, with p clipped away from 0 and 1 so a confident miss stays finite. */
export function logLossTerm(p: number, label: number): number {
  const q = p < 1e-7 ? 1e-7 : p > 1 - 1e-7 ? 1 - 1e-7 : p;
  return label === 1 ? -Math.log(q) : -Math.log(1 - q);
}
