/**
 * The serving-side wrappers around onnxruntime-node: the offer side computed once per (model, catalog), the
 * per-request Scorer, and the bare txn tower for benchmarks.
 *
 * Buffer ownership (read this before calling score):
 *   - `txn` passed to score() is read by ONNX Runtime only when the deferred run starts (onnxruntime-node
 *     defers session.run with setImmediate), so the caller must not write to it until the returned promise
 *     settles. Give every concurrent task its own input buffer.
 *   - The returned `p` and `ev` are fresh arrays owned by the caller; the Scorer keeps no reference.
 *   - `emb`, `bias` and `bidScale` given to create() are copied into the ONNX graph; the caller may reuse them.
 *
 * Threads: every session runs with one intra-op and one inter-op thread and no spinning. The engine already
 * runs one session per worker thread; ONNX Runtime's own pool on top would oversubscribe the two cores and
 * its spin-waiting burned a whole core at idle (STACK-NOTES).
 */
import * as ort from 'onnxruntime-node';
import { TxrankError } from '../errors/codes.js';
import { OFFER_DIM, TXN_DIM } from '../features/spec.js';
import type { LoadedModel } from './model-dir.js';
import { buildScorerModel } from './scorer-graph.js';

export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};

function floatOutput(out: ort.InferenceSession.OnnxValueMapType, name: string): Float32Array {
  const t = out[name];
  if (!t || !(t.data instanceof Float32Array)) throw new TxrankError('internal', `ONNX output ${name} is missing or not float32`);
  return t.data;
}

/**
 * Runs the model's offer tower over `n` rows of offer features ([n, OFFER_DIM]) and returns the embeddings
 * e [n, embed] and biases b [n]. The session lives only for this call: it is needed once per catalog version.
 */
export async function computeOfferSide(
  model: LoadedModel,
  offerFeatures: Float32Array,
  n: number,
): Promise<{ emb: Float32Array; bias: Float32Array }> {
  const d = model.manifest.dims.embed;
  if (!Number.isInteger(n) || n < 0) throw new TxrankError('internal', `computeOfferSide: bad offer count ${n}`);
  if (offerFeatures.length < n * OFFER_DIM) {
    throw new TxrankError('internal', `computeOfferSide: ${offerFeatures.length} feature values for ${n} offers of ${OFFER_DIM}`);
  }
  if (n === 0) return { emb: new Float32Array(0), bias: new Float32Array(0) };
  const session = await ort.InferenceSession.create(model.offerTower, SESSION_OPTIONS);
  try {
    const input = new ort.Tensor('float32', offerFeatures.subarray(0, n * OFFER_DIM), [n, OFFER_DIM]);
    const out = await session.run({ offer: input });
    const emb = floatOutput(out, 'e');
    const bias = floatOutput(out, 'b');
    if (emb.length !== n * d || bias.length !== n) {
      throw new TxrankError('internal', `offer tower returned ${emb.length}/${bias.length} values for n = ${n}, d = ${d}`);
    }
    return { emb, bias };
  } finally {
    await session.release();
  }
}

export interface Scores {
  /** [batch, n] row-major: engagement probability of offer i for transaction row r at r * n + i. */
  p: Float32Array;
  /** [batch, n] row-major: p × bidScale. */
  ev: Float32Array;
}

/**
 * The per-(model, catalog partition) scorer: one session of the composed graph (scorer-graph.ts), so scoring
 * a request is a single session.run over the txn tower, the dot products, the sigmoid and the bid scaling.
 *
 * release() waits for runs already started and is idempotent; score() after release() rejects.
 */
const EV_ONLY: readonly string[] = ['ev'];
const EMPTY_SCORES = new Float32Array(0);

export class Scorer {
  private inflight = 0;
  private idle: (() => void) | null = null;
  private releasePromise: Promise<void> | null = null;

  private constructor(
    private session: ort.InferenceSession | null,
    readonly n: number,
    readonly modelVersion: string,
  ) {}

  /**
   * Bakes emb [n, d], bias [n] and bidScale [n] into a scorer graph, opens a session on it and warms it with
   * one run (5–20 ms for 10k offers on this machine: do it off the request path). n = 0 opens no session.
   */
  static async create(
    model: LoadedModel,
    emb: Float32Array,
    bias: Float32Array,
    bidScale: Float32Array,
    n: number,
  ): Promise<Scorer> {
    const d = model.manifest.dims.embed;
    if (!Number.isInteger(n) || n < 0) throw new TxrankError('internal', `Scorer.create: bad offer count ${n}`);
    if (emb.length !== n * d || bias.length !== n || bidScale.length !== n) {
      throw new TxrankError(
        'internal',
        `Scorer.create: emb/bias/bidScale have ${emb.length}/${bias.length}/${bidScale.length} values, expected ${n * d}/${n}/${n}`,
      );
    }
    if (n === 0) return new Scorer(null, 0, model.manifest.version);
    const graph = buildScorerModel(model.txnTower, emb, bias, bidScale, n, d);
    const session = await ort.InferenceSession.create(graph, SESSION_OPTIONS);
    try {
      // Warm: a session's first run plans and allocates its buffers, ~4x a later run at 10k offers (210 µs
      // against 50 µs, batch 1). Paying it here, while the new view is built beside the serving one, keeps
      // it off the first request the view serves; with swaps every 100 ms that was a request per swap per
      // worker. Batch 1 is the common case; a first larger batch costs ~30 µs more once.
      await session.run({ txn: new ort.Tensor('float32', new Float32Array(TXN_DIM), [1, TXN_DIM]) }, EV_ONLY);
    } catch (err) {
      await session.release();
      throw err;
    }
    return new Scorer(session, n, model.manifest.version);
  }

  /**
   * Scores `batch` transactions (rows of `txn`, [batch, TXN_DIM]) against every offer. `txn` must stay
   * unchanged until the promise settles (see the file comment).
   */
  /**
   * With `withP` false only "ev" is copied out of ONNX Runtime (p is then ev / bidScale for the few offers
   * that are shown): at 10k offers that saves a 40 KB allocation per row, which was most of a worker's GC.
   */
  async score(txn: Float32Array, batch: number, withP = true): Promise<Scores> {
    if (this.releasePromise) throw new TxrankError('internal', `scorer for model ${this.modelVersion} was released`);
    if (!Number.isInteger(batch) || batch < 1) throw new TxrankError('internal', `Scorer.score: bad batch ${batch}`);
    if (txn.length < batch * TXN_DIM) {
      throw new TxrankError('internal', `Scorer.score: ${txn.length} feature values for a batch of ${batch} x ${TXN_DIM}`);
    }
    if (this.session === null) return { p: new Float32Array(0), ev: new Float32Array(0) };
    const input = new ort.Tensor('float32', txn.subarray(0, batch * TXN_DIM), [batch, TXN_DIM]);
    this.inflight++;
    try {
      if (!withP) {
        const out = await this.session.run({ txn: input }, EV_ONLY);
        return { p: EMPTY_SCORES, ev: floatOutput(out, 'ev') };
      }
      const out = await this.session.run({ txn: input });
      return { p: floatOutput(out, 'p'), ev: floatOutput(out, 'ev') };
    } finally {
      this.inflight--;
      if (this.inflight === 0 && this.idle) this.idle();
    }
  }

  /** Releases the session once runs already started have finished. Safe to call any number of times. */
  release(): Promise<void> {
    this.releasePromise ??= (async () => {
      if (this.inflight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
      const s = this.session;
      this.session = null;
      if (s) await s.release();
    })();
    return this.releasePromise;
  }
}

/**
 * The txn tower alone: "txn" [batch, TXN_DIM] -> "u" [batch, embed]. Not on the serving path; used by the
 * benchmark of the plain-JS interaction design and by tools that want transaction embeddings.
 */
export class TxnTower {
  private releasePromise: Promise<void> | null = null;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly embed: number,
  ) {}

  static async create(model: LoadedModel): Promise<TxnTower> {
    return new TxnTower(await ort.InferenceSession.create(model.txnTower, SESSION_OPTIONS), model.manifest.dims.embed);
  }

  /** Same buffer rule as Scorer.score: `txn` must not change until the promise settles. */
  async run(txn: Float32Array, batch: number): Promise<Float32Array> {
    if (this.releasePromise) throw new TxrankError('internal', 'txn tower was released');
    const out = await this.session.run({ txn: new ort.Tensor('float32', txn.subarray(0, batch * TXN_DIM), [batch, TXN_DIM]) });
    return floatOutput(out, 'u');
  }

  release(): Promise<void> {
    this.releasePromise ??= this.session.release();
    return this.releasePromise;
  }
}
