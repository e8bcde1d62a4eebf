/**
 * Every message between the server's main thread and the online trainer thread (workers/trainer), as tagged
 * unions, one per direction, handled by exhaustive switches on both sides.
 *
 *   main -> trainer   TrainerWorkerData (workerData, once)
 *                     TrainerRequest    (postMessage; each answered by exactly one TrainerReply with its id)
 *   trainer -> main   TrainerEvent      (unprompted) and TrainerReply
 *
 * The trainer never talks to the model manager: it publishes candidates into the registry, and the manager
 * finds them there. Errors cross as WireError {code, message}.
 */
import type { WireError } from '../errors/codes.js';
import type { TrainingWindow } from '../registry/state.js';
import type { ThreadHeap } from '../runtime/thread-heap.js';
import type { TrainerOptions } from './online-options.js';
import type { ProgressiveSummary } from './online-metrics.js';

export interface TrainerWorkerData {
  /** The registry directory (must already hold registry.json). */
  registryDir: string;
  /** The LMDB data directory: catalog versions for offer features, and the example source's dataDir. */
  dataDir: string;
  /** Module exporting createExampleSource(dataDir); null or absent: src/events/example-source.js when built. */
  exampleSourceModule?: string | null;
  options: TrainerOptions;
}

export type TrainerRequest =
  | { type: 'status'; id: number }
  /** Export a candidate now if anything was trained since the last export (else answers with no export). */
  | { type: 'export-now'; id: number }
  /** Finish the step in progress, close, answer with 'stopped' and exit. Untrained progress is not exported. */
  | { type: 'stop'; id: number };

export interface ProgressiveByVersion {
  /** The model whose descendants made these predictions (the base, or an exported candidate). */
  version: string;
  metrics: ProgressiveSummary;
}

export interface TrainerStatus {
  state: 'idle' | 'training' | 'stopped';
  /** Why idle (no example source), when idle. */
  idleReason: string | null;
  /** The serving version training started from (after the last reset). */
  base: string | null;
  /** The version the current weights descend from: the last exported candidate, or the base. */
  head: string | null;
  /** Last example seq consumed. */
  cursor: number;
  examplesTrained: number;
  examplesHeldOut: number;
  examplesSkipped: number;
  examplesSinceExport: number;
  /** Training throughput while busy (examples read per second of step time). */
  examplesPerSecond: number;
  exports: number;
  lastExport: { version: string; at: string; ms: number } | null;
  progressive: ProgressiveByVersion[];
}

/** The trainer's status as its thread answers it: with the thread's own V8 heap (GET /admin/learning). */
export type TrainerThreadStatus = TrainerStatus & ThreadHeap;

export type TrainerReply =
  | { type: 'reply'; id: number; ok: true; status: TrainerThreadStatus; exported?: string | null }
  | { type: 'reply'; id: number; ok: false; error: WireError };

export type TrainerEvent =
  /** Training began from `base`, reading examples after `cursor`. */
  | { type: 'started'; base: string; cursor: number }
  /** No example source (src/events/example-source.js not built yet): the trainer waits for stop. */
  | { type: 'idle'; reason: string }
  /** A candidate was published into the registry (the manager will validate it). */
  | { type: 'exported'; version: string; dir: string; parent: string; window: TrainingWindow; metrics: Record<string, number>; ms: number }
  /** Training restarted from the serving model (its lineage was rolled back or its candidate rejected). */
  | { type: 'reset'; base: string; reason: string }
  | { type: 'error'; error: WireError }
  | { type: 'stopped'; id: number | null };

export type TrainerToMain = TrainerEvent | TrainerReply;
