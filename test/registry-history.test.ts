/**
 * registry.json stays bounded however often the serving model changes: an entry's status history keeps its
 * first change and the newest ones, and counts what it dropped (the swap bench pins two versions back and
 * forth 1,000 times; an unbounded history made every swap parse a larger file than the last).
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openRegistry, REGISTRY_DEFAULTS, type ModelRegistry } from '../src/registry/registry.js';
import { REGISTRY_FILE, validateRegistryState } from '../src/registry/state.js';
import { SHIPPED, shippedWeights, variant } from './helpers/learning-fixtures.js';

const SHIPPED_VERSION = 'tt-1-6ead99d6';
let tmp: string;
let dir: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'txrank-registry-history-'));
  dir = path.join(tmp, 'models');
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function pinBackAndForth(reg: ModelRegistry, other: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await reg.pin(i % 2 === 0 ? other : SHIPPED_VERSION);
}

describe('entry history bound', () => {
  it('keeps the first change and the newest ones, counts the dropped, and the file stops growing', async () => {
    const limit = 6;
    const reg = await openRegistry(dir, { seedFrom: SHIPPED, settleMs: 0, entryHistoryLimit: limit });
    const a = await reg.publishCandidate(variant(await shippedWeights(), 1), { parent: SHIPPED_VERSION, training: {}, metrics: {} });

    await pinBackAndForth(reg, a.version, 20);
    const sizeAfter20 = (await stat(path.join(dir, REGISTRY_FILE))).size;
    await pinBackAndForth(reg, a.version, 40);
    const sizeAfter60 = (await stat(path.join(dir, REGISTRY_FILE))).size;
    // 40 more swaps change timestamps and generations only (digits may widen by a byte or two).
    expect(sizeAfter60 - sizeAfter20).toBeLessThan(64);

    const s = await reg.state();
    expect(s.generation).toBe(61);
    const entry = s.entries.find((e) => e.version === a.version);
    expect(entry).toBeDefined();
    // a: 'candidate' (published) + 60 swaps = 61 changes; 6 kept.
    expect(entry?.history).toHaveLength(limit);
    expect(entry?.history[0]).toMatchObject({ from: null, to: 'candidate', reason: 'published' });
    expect(entry?.historyDropped).toBe(61 - limit);
    // The newest change is the last pin: a was pinned on even i, so the 60th pin (i = 59) restored the shipped one.
    expect(entry?.history[limit - 1]).toMatchObject({ from: 'serving', to: 'retired', generation: 61 });
    const shipped = s.entries.find((e) => e.version === SHIPPED_VERSION);
    expect(shipped?.history.at(-1)).toMatchObject({ to: 'serving', generation: 61 });

    // What is on disk reads back through the validator (historyDropped included).
    const onDisk = validateRegistryState(JSON.parse(await readFile(path.join(dir, REGISTRY_FILE), 'utf8')));
    expect(onDisk.entries.find((e) => e.version === a.version)?.historyDropped).toBe(61 - limit);
  });

  it('leaves short histories alone (no historyDropped field) and rejects a bad limit or field', async () => {
    const reg = await openRegistry(dir, { seedFrom: SHIPPED, settleMs: 0 });
    const a = await reg.publishCandidate(variant(await shippedWeights(), 2), { parent: SHIPPED_VERSION, training: {}, metrics: {} });
    await pinBackAndForth(reg, a.version, 3);
    const raw = JSON.parse(await readFile(path.join(dir, REGISTRY_FILE), 'utf8')) as { entries: Record<string, unknown>[] };
    for (const e of raw.entries) expect(e).not.toHaveProperty('historyDropped');
    expect(REGISTRY_DEFAULTS.entryHistoryLimit).toBeGreaterThanOrEqual(2);

    await expect(openRegistry(dir, { entryHistoryLimit: 1 })).rejects.toThrow(/entryHistoryLimit/);
    raw.entries[0].historyDropped = -3;
    expect(() => validateRegistryState(raw)).toThrow(/historyDropped/);
  });
});
