import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTION_KEYS, OPTION_SPECS, defaultOptions, envName, flagName, optionsMarkdown, resolveOptions } from '../src/config/options.js';
import { parseServeArgs } from '../src/cli/args.js';

describe('options', () => {
  it('defaults validate', () => {
    expect(resolveOptions()).toEqual(defaultOptions());
  });

  it('flags beat the environment, which beats defaults', () => {
    const o = resolveOptions({ poolSize: '3' }, { TXRANK_POOL_SIZE: '2', TXRANK_MAX_BATCH: '8' });
    expect(o.poolSize).toBe(3);
    expect(o.maxBatch).toBe(8);
  });

  it('every option refuses a bad value with a message naming it', () => {
    for (const key of OPTION_KEYS) {
      const t = OPTION_SPECS[key].type;
      const bad = t.kind === 'int' ? String(t.max + 1) : t.kind === 'bool' ? 'maybe' : t.kind === 'host' ? 'not a host!' : t.allowEmpty ? null : '';
      if (bad === null) continue;
      expect(() => resolveOptions({ [key]: bad })).toThrow(`option ${flagName(key)}`);
      expect(() => resolveOptions({}, { [envName(key)]: bad })).toThrow(envName(key));
    }
  });

  it('int options refuse non-integers and values below the minimum', () => {
    expect(() => resolveOptions({ poolSize: '1.5' })).toThrow('an integer from 1 to 64');
    expect(() => resolveOptions({ poolSize: '0' })).toThrow('pool-size');
    expect(() => resolveOptions({ port: 'http' })).toThrow('port');
  });

  it('refuses unknown options and unknown TXRANK_ variables', () => {
    expect(() => resolveOptions({ poolsize: 2 } as never)).toThrow('unknown option');
    expect(() => resolveOptions({}, { TXRANK_POOLSIZE: '2' })).toThrow('unknown environment variable TXRANK_POOLSIZE');
  });

  it('parses every option as a flag', () => {
    const a = parseServeArgs(['--pool-size', '2', '--allow-js-fallback', 'true', '--max-frame-bytes', '2048']);
    expect(resolveOptions(a.overrides)).toMatchObject({ poolSize: 2, allowJsFallback: true, maxFrameBytes: 2048 });
    expect(() => parseServeArgs(['--no-such-flag', '1'])).toThrow();
  });

  it('the README options table is the generated one', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(optionsMarkdown());
  });
});
