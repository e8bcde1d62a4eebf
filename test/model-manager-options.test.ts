/**
 * Options of the learning threads: defaults validate, every option refuses a bad value with a message naming
 * it, unknown keys are refused, and docs/LEARNING.md carries exactly the generated tables.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TRAINER_DEFAULTS, TRAINER_SPECS, resolveTrainerOptions, specMarkdown, type OptionSpec, type SpecTable } from '../src/learning/online-options.js';
import { MANAGER_DEFAULTS, MANAGER_SPECS, resolveManagerOptions } from '../src/model-manager/options.js';

const doc = readFileSync(new URL('../docs/LEARNING.md', import.meta.url), 'utf8');

function badValues(spec: OptionSpec<unknown>): unknown[] {
  const t = spec.type;
  switch (t.kind) {
    case 'int':
      return [t.min - 1, t.max + 1, t.min + 0.5, String(t.min), null];
    case 'number':
      return [t.min - 1, t.max + 1, NaN, Infinity, String(t.min)];
    case 'bool':
      return ['true', 1, null];
    default:
      throw new Error('unknown kind');
  }
}

function suite<O>(name: string, what: string, specs: SpecTable<O>, defaults: O, resolve: (p: Partial<Record<keyof O, unknown>>) => O): void {
  describe(`${name} options`, () => {
    it('defaults validate and equal the spec defaults', () => {
      expect(resolve({})).toEqual(defaults);
    });

    it('every option refuses bad values with a message naming it and the expected form', () => {
      for (const key of Object.keys(specs) as Array<keyof O>) {
        for (const bad of badValues(specs[key] as OptionSpec<unknown>)) {
          expect(() => resolve({ [key]: bad } as Partial<Record<keyof O, unknown>>), `${String(key)} = ${String(bad)}`).toThrow(
            new RegExp(`${what} option ${String(key)}: got .*, expected (an integer|a number|true or false)`),
          );
        }
      }
    });

    it('every option accepts its bounds', () => {
      for (const key of Object.keys(specs) as Array<keyof O>) {
        const t = (specs[key] as OptionSpec<unknown>).type;
        const ok = t.kind === 'bool' ? [true, false] : [t.min, t.max];
        for (const v of ok) expect(resolve({ [key]: v } as Partial<Record<keyof O, unknown>>)[key]).toBe(v);
      }
    });

    it('refuses unknown keys', () => {
      expect(() => resolve({ pollIntervallMs: 5 } as never)).toThrow(`unknown ${what} option pollIntervallMs`);
    });

    it('docs/LEARNING.md has the generated table', () => {
      expect(doc).toContain(specMarkdown(specs));
    });
  });
}

suite('model manager', 'model manager', MANAGER_SPECS, MANAGER_DEFAULTS, resolveManagerOptions);
suite('trainer', 'trainer', TRAINER_SPECS, TRAINER_DEFAULTS, resolveTrainerOptions);
