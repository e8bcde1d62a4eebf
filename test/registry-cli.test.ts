/** `txrank models` against a real registry in a temp dir. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runModelsCli } from '../src/cli/models.js';
import { openRegistry, type ModelRegistry } from '../src/registry/registry.js';
import { SHIPPED, shippedWeights, variant } from './helpers/learning-fixtures.js';

const SHIPPED_VERSION = 'tt-1-6ead99d6';
let tmp: string;
let reg: ModelRegistry;
let out: string[];
let err: string[];
const io = () => ({ out: (l: string) => out.push(l), err: (l: string) => err.push(l), env: { TXRANK_DATA_DIR: tmp } });

beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'txrank-models-cli-'));
  reg = await openRegistry(path.join(tmp, 'models'), { seedFrom: SHIPPED });
  out = [];
  err = [];
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('models CLI', () => {
  it('list shows the serving version, generation and every entry (registry under $TXRANK_DATA_DIR/models)', async () => {
    const p = await reg.publishCandidate(variant(await shippedWeights(), 1), { parent: SHIPPED_VERSION, training: {}, metrics: { progressiveLogLoss: 0.1234567 } });
    expect(await runModelsCli(['list'], io())).toBe(0);
    expect(out[0]).toBe(`serving ${SHIPPED_VERSION}  generation 1`);
    expect(out[1]).toMatch(new RegExp(`^  ${p.version}\\s+candidate\\s+parent ${SHIPPED_VERSION} .* progressive logloss 0\\.12346\\n      published$`));
    expect(out[2]).toMatch(new RegExp(`^\\* ${SHIPPED_VERSION}\\s+serving\\s+gen 1\\s+parent -`));
  });

  it('pin, unpin and rollback change the registry and say what they did', async () => {
    const p = await reg.publishCandidate(variant(await shippedWeights(), 2), { parent: SHIPPED_VERSION, training: {}, metrics: {} });
    expect(await runModelsCli(['pin', p.version, '--data', tmp], io())).toBe(0);
    expect(out.pop()).toBe(`pinned ${p.version} (generation 2); no candidate is promoted until \`models unpin\``);
    expect(await reg.serving()).toMatchObject({ version: p.version, pinned: true });
    expect(await runModelsCli(['unpin', '--registry', reg.dir], io())).toBe(0);
    expect((await reg.serving()).pinned).toBe(false);
    expect(await runModelsCli(['rollback', '--pin'], io())).toBe(0);
    expect(out.pop()).toBe(`rolled back ${p.version} -> ${SHIPPED_VERSION} (generation 3); pinned`);
    expect(await reg.serving()).toMatchObject({ version: SHIPPED_VERSION, pinned: true });
  });

  it('refusals exit 1 with the reason; usage errors exit 2 with the usage', async () => {
    expect(await runModelsCli(['rollback'], io())).toBe(1);
    expect(err.pop()).toMatch(/^models: no previous good version to roll back to/);
    expect(await runModelsCli(['pin', 'tt-1-00000000'], io())).toBe(1);
    expect(err.pop()).toMatch(/^models: cannot pin tt-1-00000000/);
    expect(await runModelsCli(['list', '--data', path.join(tmp, 'none')], io())).toBe(1);
    expect(err.pop()).toMatch(/no model registry at/);
    expect(await runModelsCli(['frobnicate'], io())).toBe(2);
    expect(err.pop()).toMatch(/unknown command "frobnicate"[\s\S]*usage:/);
    expect(await runModelsCli(['pin', 'a', 'b'], io())).toBe(2);
    expect(await runModelsCli([], io())).toBe(2);
    expect(await runModelsCli(['--help'], io())).toBe(0);
    expect(out.pop()).toMatch(/^usage:/);
  });
});
