/**
 * The status of a model version in the registry (persistent, in registry.json) and the transitions allowed
 * between them. This is the registry's bookkeeping, not the life of a loaded model in a worker (that is a
 * view: built beside the serving one, swapped in between tasks, released after its last task; see
 * workers/inference/catalog-view.ts).
 *
 *   (new) ──publish/discover──► candidate ──promote/pin──► serving ──promote another──► retired
 *                                   │  │                    │  ▲                         │
 *                        validation │  │ a newer candidate  │  └──rollback target / pin──┘
 *                           failed  ▼  ▼ or an operator     │
 *                           rejected  superseded ──pin──►   ├──rollback──► rolled_back ──pin──► serving
 *                               ▲                           │
 *                               └── operator-chosen version fails its load checks (manager)
 */
export const MODEL_STATUSES = ['candidate', 'serving', 'retired', 'rejected', 'rolled_back', 'superseded'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

const ALLOWED: Record<ModelStatus, readonly ModelStatus[]> = {
  candidate: ['serving', 'rejected', 'superseded'],
  serving: ['retired', 'rolled_back', 'rejected'],
  retired: ['serving'],
  rolled_back: ['serving'],
  superseded: ['serving'],
  // Terminal: a version that failed validation is never served; publish a new version instead.
  rejected: [],
};

export function canTransition(from: ModelStatus, to: ModelStatus): boolean {
  return ALLOWED[from].includes(to);
}

export function isModelStatus(v: unknown): v is ModelStatus {
  return typeof v === 'string' && (MODEL_STATUSES as readonly string[]).includes(v);
}
