/**
 * A holder for the models one consumer serves (an inference worker's model, or whatever it builds per model:
 * sessions, views), driven by decideServingAction and the lifecycle state machine. Usage:
 *
 *   const slots = new ModelSlots<View>((view) => view.release());
 *   await slots.aspire(generation, version, () => buildView(dir));   // on every 'promoted' announcement
 *   const lease = slots.acquire();                                  // per task: the model current at its start
 *   try { use(lease.model) } finally { lease.release() }
 *
 * The new model is loaded beside the current one and swapped in between tasks once ready; the old one is
 * quiesced and released when its last lease ends. A failed load leaves the old one serving. Announcements
 * may arrive out of order or overlap: generations order them, and a load overtaken by a newer one is released
 * as soon as it finishes.
 */
import { transition, type LifecycleState } from './lifecycle.js';
import { decideServingAction } from './policy.js';

interface Slot<T> {
  generation: number;
  version: string;
  state: LifecycleState;
  model: T | null;
  leases: number;
  error: Error | null;
  loaded: Promise<void> | null;
}

export interface Lease<T> {
  readonly model: T;
  readonly version: string;
  readonly generation: number;
  release(): void;
}

export type AspireResult = { ok: true; serving: boolean } | { ok: false; error: Error };

export class ModelSlots<T> {
  #slots: Slot<T>[] = [];
  #aspired = -Infinity;
  #aspiredLoad: { version: string; load: () => Promise<T> } | null = null;
  #current: Slot<T> | null = null;
  #closed = false;

  constructor(private readonly releaseModel: (model: T) => Promise<void> | void) {}

  /** The serving model's version and generation, or null before the first successful load. */
  current(): { version: string; generation: number } | null {
    return this.#current ? { version: this.#current.version, generation: this.#current.generation } : null;
  }

  /** States of every slot still held, for status pages and tests. */
  states(): Array<{ generation: number; version: string; state: LifecycleState; leases: number }> {
    return this.#slots.map((s) => ({ generation: s.generation, version: s.version, state: s.state, leases: s.leases }));
  }

  /**
   * Makes `generation` the one to serve and loads it with `load` unless it is older than one already held.
   * Resolves once its load settled: ok with serving = true when it now serves (false when a newer generation
   * overtook it), or the load's error, in which case the previous model keeps serving.
   */
  async aspire(generation: number, version: string, load: () => Promise<T>): Promise<AspireResult> {
    if (this.#closed) return { ok: false, error: new Error('model slots are closed') };
    if (generation > this.#aspired) {
      this.#aspired = generation;
      this.#aspiredLoad = { version, load };
    }
    this.#step();
    const slot = this.#slots.find((s) => s.generation === generation);
    if (!slot) return { ok: true, serving: false }; // older than something held: ignored
    if (slot.loaded) await slot.loaded;
    if (slot.state === 'error') return { ok: false, error: slot.error ?? new Error('load failed') };
    return { ok: true, serving: this.#current === slot };
  }

  /** A lease on the serving model, or null when none serves yet. Release it exactly once. */
  acquire(): Lease<T> | null {
    const slot = this.#current;
    if (!slot || slot.model === null) return null;
    slot.leases++;
    let released = false;
    return {
      model: slot.model,
      version: slot.version,
      generation: slot.generation,
      release: () => {
        if (released) return;
        released = true;
        slot.leases--;
        this.#maybeDrain(slot);
      },
    };
  }

  /** Releases every model (waiting for none: call after the last task). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const held = this.#slots.filter((s) => s.model !== null);
    this.#slots = [];
    this.#current = null;
    for (const s of held) await this.releaseModel(s.model as T);
  }

  #step(): void {
    for (;;) {
      const action = decideServingAction(this.#slots, this.#aspired);
      switch (action.action) {
        case 'none':
          this.#slots = this.#slots.filter((s) => s.state !== 'released' && !(s.state === 'error' && s.generation !== this.#aspired));
          return;
        case 'load': {
          const { version, load } = this.#aspiredLoad as { version: string; load: () => Promise<T> };
          const slot: Slot<T> = { generation: action.generation, version, state: 'new', model: null, leases: 0, error: null, loaded: null };
          slot.state = transition(slot.state, 'load');
          this.#slots.push(slot);
          slot.loaded = load().then(
            (model) => {
              if (this.#closed) {
                void this.releaseModel(model);
                return;
              }
              slot.model = model;
              slot.state = transition(slot.state, 'loaded');
              this.#step();
            },
            (err: unknown) => {
              slot.error = err instanceof Error ? err : new Error(String(err));
              slot.state = transition(slot.state, 'failed');
              this.#step();
            },
          );
          break;
        }
        case 'serve': {
          const slot = this.#find(action.generation);
          slot.state = transition(slot.state, 'serve');
          this.#current = slot;
          break;
        }
        case 'quiesce': {
          const slot = this.#find(action.generation);
          slot.state = transition(slot.state, 'quiesce');
          this.#maybeDrain(slot);
          break;
        }
        default: {
          const never: never = action;
          throw new Error(`unknown serving action ${JSON.stringify(never)}`);
        }
      }
    }
  }

  #find(generation: number): Slot<T> {
    const slot = this.#slots.find((s) => s.generation === generation);
    if (!slot) throw new Error(`no model slot for generation ${generation}`);
    return slot;
  }

  #maybeDrain(slot: Slot<T>): void {
    if (slot.state !== 'quiescing' || slot.leases > 0) return;
    slot.state = transition(slot.state, 'drained');
    const model = slot.model;
    slot.model = null;
    this.#slots = this.#slots.filter((s) => s !== slot);
    if (model !== null) void this.releaseModel(model);
  }
}
