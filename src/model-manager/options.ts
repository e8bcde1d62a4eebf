/**
 * The model manager's options: one spec table (default, unit, meaning, bounds), validated by resolveWith;
 * docs/LEARNING.md carries the generated table (test/model-manager-options.test.ts keeps them equal).
 */
import { defaultsOf, resolveWith, type SpecTable } from '../learning/online-options.js';

export interface ManagerOptions {
  pollIntervalMs: number;
  logLossMargin: number;
  minHoldoutExamples: number;
  requireHoldout: boolean;
  holdoutWindow: number;
  holdoutReadPerPoll: number;
  canaryCatalogOffers: number;
  settleMs: number;
  keepRetired: number;
  keepFailed: number;
  historyLimit: number;
  stopTimeoutMs: number;
  nice: number;
}

export const MANAGER_SPECS: SpecTable<ManagerOptions> = {
  pollIntervalMs: { default: 500, unit: 'ms', doc: 'How often the manager scans the registry for candidates and operator changes.', type: { kind: 'int', min: 10, max: 600_000 } },
  logLossMargin: { default: 0.01, unit: 'fraction', doc: "Quality gate: a candidate's held-out log loss may exceed the serving model's by at most this fraction (0.01 = 1%).", type: { kind: 'number', min: 0, max: 10 } },
  minHoldoutExamples: { default: 2_000, unit: 'examples', doc: 'Fewer recent held-out examples than this and the quality gate is skipped (reported as qualitySkipped).', type: { kind: 'int', min: 1, max: 100_000_000 } },
  requireHoldout: { default: false, unit: 'bool', doc: 'Reject candidates instead of skipping the quality gate when held-out examples are too few.', type: { kind: 'bool' } },
  holdoutWindow: { default: 20_000, unit: 'examples', doc: 'Most recent held-out examples kept for the quality gate.', type: { kind: 'int', min: 1, max: 10_000_000 } },
  holdoutReadPerPoll: { default: 50_000, unit: 'examples', doc: 'Most examples read from the source per poll (bounds a poll while catching up).', type: { kind: 'int', min: 1, max: 100_000_000 } },
  canaryCatalogOffers: { default: 256, unit: 'offers', doc: 'Offers of the current catalog added to the synthetic canary offers.', type: { kind: 'int', min: 0, max: 1_000_000 } },
  settleMs: { default: 1_000, unit: 'ms', doc: 'A model directory copied into the registry by hand is adopted once unchanged this long.', type: { kind: 'int', min: 0, max: 3_600_000 } },
  keepRetired: { default: 5, unit: 'versions', doc: 'Retired good versions kept on disk as rollback targets.', type: { kind: 'int', min: 1, max: 10_000 } },
  keepFailed: { default: 5, unit: 'versions', doc: 'Rejected, rolled-back and superseded versions kept on disk for inspection.', type: { kind: 'int', min: 0, max: 10_000 } },
  historyLimit: { default: 500, unit: 'entries', doc: 'Registry entries kept; the oldest whose files were pruned go first.', type: { kind: 'int', min: 10, max: 1_000_000 } },
  stopTimeoutMs: { default: 5_000, unit: 'ms', doc: 'close(): how long the thread may take to finish its poll before it is terminated.', type: { kind: 'int', min: 0, max: 600_000 } },
  nice: { default: 10, unit: 'nice', doc: "The thread's OS priority (Linux nice, 0 = unchanged, 19 = lowest): validation yields the cores to serving (src/runtime/thread-priority.ts).", type: { kind: 'int', min: 0, max: 19 } },
};

export const MANAGER_DEFAULTS: ManagerOptions = defaultsOf(MANAGER_SPECS);

export function resolveManagerOptions(partial: Partial<Record<keyof ManagerOptions, unknown>> = {}): ManagerOptions {
  return resolveWith('model manager', MANAGER_SPECS, partial);
}
