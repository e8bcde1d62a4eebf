/**
 * Options of the learning loop's two threads, one spec table each (default, unit, meaning, bounds), one
 * validator that names the bad option and the expected form, and a Markdown table generated from the spec
 * that docs/LEARNING.md carries (test/model-manager-options.test.ts keeps
 * them equal). This file holds the small kit both use and the trainer's options; the manager's are in
 * src/model-manager/options.ts.
 */
import { TxrankError } from '../errors/codes.js';

export type OptionKind = { kind: 'int'; min: number; max: number } | { kind: 'number'; min: number; max: number } | { kind: 'bool' };

export interface OptionSpec<V> {
  default: V;
  unit: string;
  doc: string;
  type: OptionKind;
}

export type SpecTable<O> = { [K in keyof O]: OptionSpec<O[K]> };

/** Defaults overlaid with `partial`, every value checked; unknown keys are refused (a typo must not pass). */
export function resolveWith<O>(what: string, specs: SpecTable<O>, partial: Partial<Record<keyof O, unknown>> = {}): O {
  const out = {} as Record<keyof O, unknown>;
  const keys = Object.keys(specs) as Array<keyof O>;
  for (const k of Object.keys(partial)) {
    if (!(k in specs)) throw new TxrankError('bad_request', `unknown ${what} option ${k}; known: ${keys.join(', ')}`);
  }
  for (const key of keys) {
    const spec = specs[key] as OptionSpec<unknown>;
    const raw = partial[key];
    if (raw === undefined) {
      out[key] = spec.default;
      continue;
    }
    const t = spec.type;
    const name = `${what} option ${String(key)}`;
    switch (t.kind) {
      case 'int':
        if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < t.min || raw > t.max) {
          throw new TxrankError('bad_request', `${name}: got ${JSON.stringify(raw)}, expected an integer from ${t.min} to ${t.max}`);
        }
        break;
      case 'number':
        if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < t.min || raw > t.max) {
          throw new TxrankError('bad_request', `${name}: got ${JSON.stringify(raw)}, expected a number from ${t.min} to ${t.max}`);
        }
        break;
      case 'bool':
        if (typeof raw !== 'boolean') throw new TxrankError('bad_request', `${name}: got ${JSON.stringify(raw)}, expected true or false`);
        break;
      default: {
        const never: never = t;
        throw new Error(`unhandled option kind ${JSON.stringify(never)}`);
      }
    }
    out[key] = raw;
  }
  return out as O;
}

export function defaultsOf<O>(specs: SpecTable<O>): O {
  const out = {} as Record<keyof O, unknown>;
  for (const key of Object.keys(specs) as Array<keyof O>) out[key] = (specs[key] as OptionSpec<unknown>).default;
  return out as O;
}

/** | option | default | unit | meaning | rows, in spec order. */
export function specMarkdown<O>(specs: SpecTable<O>): string {
  const rows = (Object.keys(specs) as Array<keyof O>).map((key) => {
    const s = specs[key] as OptionSpec<unknown>;
    return `| \`${String(key)}\` | ${String(s.default)} | ${s.unit} | ${s.doc} |`;
  });
  return ['| option | default | unit | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

export interface TrainerOptions {
  exportEveryExamples: number;
  exportEverySeconds: number;
  minExamplesPerExport: number;
  readBatch: number;
  batchSize: number;
  learningRate: number;
  l2: number;
  aucWindow: number;
  pollIntervalMs: number;
  maxBusyFraction: number;
  catalogVersionsCached: number;
  seed: number;
  nice: number;
}

export const TRAINER_SPECS: SpecTable<TrainerOptions> = {
  exportEveryExamples: { default: 20_000, unit: 'examples', doc: 'Export a candidate after this many newly trained examples.', type: { kind: 'int', min: 1, max: 100_000_000 } },
  exportEverySeconds: { default: 60, unit: 's', doc: 'Or after this long since the last export, if at least minExamplesPerExport were trained.', type: { kind: 'number', min: 0.01, max: 86_400 } },
  minExamplesPerExport: { default: 1_000, unit: 'examples', doc: 'No time-triggered export with fewer new examples than this (a near-copy of the parent is not worth validating).', type: { kind: 'int', min: 1, max: 100_000_000 } },
  readBatch: { default: 1_024, unit: 'examples', doc: 'Examples read from the source per step; each is predicted (progressive validation), then trained on.', type: { kind: 'int', min: 1, max: 1_000_000 } },
  batchSize: { default: 256, unit: 'examples', doc: 'Adam mini-batch size (same train() as offline training).', type: { kind: 'int', min: 1, max: 65_536 } },
  learningRate: { default: 0.001, unit: 'step', doc: 'Adam learning rate; lower than offline (0.003) because training continues from a trained model with a fresh optimiser.', type: { kind: 'number', min: 1e-7, max: 1 } },
  l2: { default: 1e-6, unit: 'coefficient', doc: 'L2 penalty on weight matrices, as offline.', type: { kind: 'number', min: 0, max: 1 } },
  aucWindow: { default: 10_000, unit: 'examples', doc: 'Progressive AUC is computed over the most recent predictions, this many.', type: { kind: 'int', min: 10, max: 10_000_000 } },
  pollIntervalMs: { default: 1_000, unit: 'ms', doc: 'Wait between reads when the source has no new examples, and between registry checks.', type: { kind: 'int', min: 1, max: 600_000 } },
  maxBusyFraction: { default: 0.5, unit: 'fraction', doc: 'Duty cycle: after a step that took t ms the trainer rests t x (1 - f) / f ms, so it leaves the cores to serving.', type: { kind: 'number', min: 0.01, max: 1 } },
  catalogVersionsCached: { default: 4, unit: 'versions', doc: 'Decoded catalog versions kept for offer features.', type: { kind: 'int', min: 1, max: 64 } },
  seed: { default: 1, unit: 'integer', doc: 'Seeds the mini-batch order within each step.', type: { kind: 'int', min: 0, max: 2 ** 32 - 1 } },
  nice: { default: 10, unit: 'nice', doc: "The thread's OS priority (Linux nice, 0 = unchanged, 19 = lowest): training yields the cores to serving (src/runtime/thread-priority.ts).", type: { kind: 'int', min: 0, max: 19 } },
};

export const TRAINER_DEFAULTS: TrainerOptions = defaultsOf(TRAINER_SPECS);

export function resolveTrainerOptions(partial: Partial<Record<keyof TrainerOptions, unknown>> = {}): TrainerOptions {
  return resolveWith('trainer', TRAINER_SPECS, partial);
}
