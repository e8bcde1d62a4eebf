/**
 * Every message that crosses a thread, as tagged unions, one per direction. Handlers switch exhaustively on
 * `type`; an unknown type is an error, never silently ignored.
 *
 *   main -> inference worker   WorkerTask      (piscina task; answered by WorkerTaskResult)
 *   main -> all workers        ControlMessage  (BroadcastChannel CONTROL_CHANNEL; no answer)
 *   worker -> main             shared memory   (see control-block.ts: a counter, not a message, because
 *                                               readiness must be readable without waking anyone)
 *   main -> catalog loader     CatalogLoaderData (workerData of a one-shot thread; answered by
 *                                               one CatalogLoaderResult)
 */
import type { WireError } from '../errors/codes.js';
import type { RequestId } from '../protocol/messages.js';
import type { CatalogIssue } from '../catalog/jsonl.js';
import type { Arm, RequestContext, ServedEntry } from '../delivery/types.js';

/** One validated decision request, as the worker needs it. The transaction arrives as features only. */
export interface DecideJob {
  /** Main-thread handle that routes the answer back to its socket. */
  seq: number;
  requestId: RequestId;
  tenant: string;
  placement: string;
  /** Already capped by the placement's slots. */
  k: number;
  /** The policy that serves this request (the holdout split, decided at the edge). */
  arm: Arm;
  /** What the eligibility rules need of the request (src/delivery/request-context.ts). */
  ctx: RequestContext;
  /** Offers recently served to the request's buyer key, for frequency caps; null without a buyer key. */
  history: readonly ServedEntry[] | null;
  /** Offset of this job's TXN_DIM row in the batch's feature matrix. */
  row: number;
  /** Epoch ms (fractional) when the frame arrived, and after which the job must not start. */
  receivedAt: number;
  deadline: number;
}

export type WorkerTask = {
  type: 'decide';
  jobs: DecideJob[];
  /** jobs.length x TXN_DIM, row-major; built on the main thread at the edge. */
  features: Float32Array;
};

/** What was shown, for the decision log (the answer itself travels pre-encoded in `frame`). */
export type { ShownOffer } from '../events/types.js';
import type { ShownOffer } from '../events/types.js';

export type JobResult =
  | {
      seq: number;
      ok: true;
      frame: Uint8Array;
      decisionId: string;
      modelVersion: string;
      catalogVersion: number;
      arm: Arm;
      /** Each with its billing (campaign, advertiser, bid type, price). */
      shown: ShownOffer[];
    }
  | { seq: number; ok: false; error: WireError };

export type WorkerTaskResult = {
  type: 'decided';
  results: JobResult[];
  /** The worker's own time on the task, µs (from the handler's start to its result): the pool subtracts it
   * from the round trip to tell hand-off cost from compute (txrank_pool_task_seconds). */
  workerUs: number;
  /** The task started while its worker was rebuilding its view, so it may have waited behind a synchronous
   * build step. With 2+ workers the rebuilding one asks for no tasks, so this is rare (a dispatch that raced
   * the request); in a pool of one, every task of a rebuild. */
  duringRebuild: boolean;
};

export const CONTROL_CHANNEL = 'txrank-control';

export type ControlMessage =
  /** A new catalog version is current in LMDB: build its view now, while idle, not on the next request. */
  | { type: 'catalog-changed'; version: number }
  /** The model manager promoted a model: load it beside the current one and swap between tasks. */
  | { type: 'model-changed'; generation: number; dir: string };

/** workerData of the one-shot catalog loader (workers/catalog-loader). */
export interface CatalogLoaderData {
  dataDir: string;
  text: string;
  source: string;
}

/** The catalog loader's one message back. */
export type CatalogLoaderResult =
  | { type: 'loaded'; version: number }
  | { type: 'invalid'; errors: CatalogIssue[] }
  | { type: 'failed'; error: WireError };

/** What every inference worker receives as piscina workerData. */
export interface InferenceWorkerData {
  dataDir: string;
  /** The model serving at start, and its generation (later ones arrive as model-changed). */
  modelDir: string;
  modelGeneration: number;
  /** The model registry, when the learning loop runs: a restarted worker adopts its announced model. */
  registryDir: string | null;
  /** SharedArrayBuffer of the control block (control-block.ts). */
  control: SharedArrayBuffer;
  /** Per-worker slots in the control block. */
  poolSize: number;
  /** SharedArrayBuffer of the campaign state table (src/delivery/campaign-table.ts): spend, pacing, counts. */
  campaigns: SharedArrayBuffer;
}
