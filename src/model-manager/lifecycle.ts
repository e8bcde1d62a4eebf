/**
 * The runtime lifecycle of one loaded model instance (one per consumer: an inference worker's model, the
 * manager's candidate under validation), after TF Serving's LoaderHarness:
 *
 *   new ──load──► loading ──loaded──► ready ──serve──► serving ──quiesce──► quiescing ──drained──► released
 *                    │                  │                                       ▲
 *                    └──failed──► error └──────────────quiesce──────────────────┘  (ready but superseded)
 *
 * The transition function is pure and total: every (state, event) pair either names the next state or is
 * illegal, and an illegal one throws, so a bug in a swap shows up as an error instead of a model that is
 * released while a task still uses it.
 */
export const LIFECYCLE_STATES = ['new', 'loading', 'ready', 'serving', 'quiescing', 'released', 'error'] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export const LIFECYCLE_EVENTS = ['load', 'loaded', 'failed', 'serve', 'quiesce', 'drained'] as const;
export type LifecycleEvent = (typeof LIFECYCLE_EVENTS)[number];

const TABLE: Record<LifecycleState, Partial<Record<LifecycleEvent, LifecycleState>>> = {
  new: { load: 'loading' },
  loading: { loaded: 'ready', failed: 'error' },
  ready: { serve: 'serving', quiesce: 'quiescing' },
  serving: { quiesce: 'quiescing' },
  quiescing: { drained: 'released' },
  released: {},
  error: {},
};

export class IllegalTransition extends Error {
  constructor(
    readonly state: LifecycleState,
    readonly event: LifecycleEvent,
  ) {
    super(`model lifecycle: event "${event}" is not allowed in state "${state}"`);
    this.name = 'IllegalTransition';
  }
}

/** The state after `event`, or null when the event is not allowed in `state`. */
export function nextState(state: LifecycleState, event: LifecycleEvent): LifecycleState | null {
  return TABLE[state][event] ?? null;
}

/** Like nextState, but throws IllegalTransition for an event the state does not allow. */
export function transition(state: LifecycleState, event: LifecycleEvent): LifecycleState {
  const next = nextState(state, event);
  if (next === null) throw new IllegalTransition(state, event);
  return next;
}

/** Terminal states hold no resources. */
export function isTerminal(state: LifecycleState): boolean {
  return state === 'released' || state === 'error';
}
