/**
 * Every message between the server's main thread and the model manager thread (workers/model-manager), as
 * tagged unions, one per direction. Both sides switch exhaustively on `type`; an unknown type is an error,
 * never silently ignored.
 *
 *   main -> manager   ManagerWorkerData (workerData, once)
 *                     ManagerRequest    (postMessage; each answered by exactly one ManagerReply with its id)
 *   manager -> main   ManagerEvent      (unprompted: ready, promoted, rejected, error, stopped)
 *                     ManagerReply      (the answer to one request)
 *
 * Errors cross as WireError {code, message}; Error objects lose their fields when posted.
 */
import type { WireError } from '../errors/codes.js';
import type { RegistryEntry } from '../registry/state.js';
import type { ThreadHeap } from '../runtime/thread-heap.js';
import type { ManagerOptions } from './options.js';

export interface ManagerWorkerData {
  /** The registry directory (default <dataDir>/models); must already hold registry.json (openRegistry seeds it). */
  registryDir: string;
  /** The LMDB data directory (catalog for canary offers and held-out offer features; example source), or null. */
  dataDir: string | null;
  /** Module exporting createExampleSource(dataDir); null or absent: src/events/example-source.js when built. */
  exampleSourceModule?: string | null;
  options: ManagerOptions;
}

export type ManagerRequest =
  /** Pin serving (to `version` first, when given): nothing is promoted until unpin. */
  | { type: 'pin'; id: number; version?: string }
  | { type: 'unpin'; id: number }
  /** Back to the previous good version; `pin` also pins it. */
  | { type: 'rollback'; id: number; pin?: boolean }
  | { type: 'list'; id: number }
  /** Finish the current poll, close, answer with 'stopped' and exit. */
  | { type: 'stop'; id: number };

export interface RegistrySummary {
  serving: string;
  generation: number;
  pinned: boolean;
  entries: RegistryEntry[];
  manager: ManagerCounters;
}

/**
 * The model manager thread's own figures: models it validated (load checks included) since it started, the
 * full GCs it ran between them (one per FULL_GC_EVERY_VALIDATIONS, manager.ts), and its V8 heap in use and
 * committed (MB) when it answered.
 */
export interface ManagerCounters extends ThreadHeap {
  validations: number;
  collections: number;
}

export type ManagerReply =
  | { type: 'reply'; id: number; ok: true; registry: RegistrySummary }
  | { type: 'reply'; id: number; ok: false; error: WireError };

/** Why the serving model changed. */
export type PromotionCause =
  /** A candidate passed validation and the policy promoted it. */
  | 'validated'
  /** An operator's pin or rollback (through this manager, the CLI or another process). */
  | 'operator'
  /** An operator-chosen version failed its load check and the previous one was put back. */
  | 'restored';

export type ManagerEvent =
  /** Once, after the serving model passed its load check: what every inference worker must serve now. */
  | { type: 'ready'; version: string; dir: string; generation: number; pinned: boolean }
  /**
   * The serving model changed: load `dir` (readModelDir) and swap to it. Generations only grow; a consumer
   * ignores an announcement whose generation is not above the one it serves.
   */
  | { type: 'promoted'; version: string; dir: string; generation: number; previous: string; cause: PromotionCause; validation: Record<string, number> | null }
  /** A candidate (or an operator-chosen version) failed validation; the serving model is unchanged. */
  | { type: 'rejected'; version: string; reason: string; stage: string; validation: Record<string, number> | null }
  /** A poll failed (e.g. an unreadable registry.json); the manager keeps polling. */
  | { type: 'error'; error: WireError }
  /** The answer to 'stop' (id), or null when the thread stopped on its own after a fatal error. */
  | { type: 'stopped'; id: number | null };

export type ManagerToMain = ManagerEvent | ManagerReply;
