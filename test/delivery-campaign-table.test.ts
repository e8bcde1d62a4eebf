/**
 * The shared campaign table: lookups and inserts in one thread, the capacity error, the single writer, and
 * real worker threads inserting overlapping campaigns at once (all threads must agree on every slot) and
 * reading slots while the main thread writes them (never a mix of two writes).
 *
 * The workers are plain .mjs files written to a temp dir that import the compiled table from dist/ (build
 * first: npx tsc -p .), because a worker thread cannot import TypeScript.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CampaignTable, newSlotValues, utcDay } from '../src/delivery/campaign-table.js';
import { TxrankError } from '../src/errors/codes.js';

const MODULE = pathToFileURL(resolve('dist/src/delivery/campaign-table.js')).href;

const INSERTER = `
import { workerData, parentPort } from 'node:worker_threads';
const { CampaignTable } = await import(workerData.module);
const table = CampaignTable.attach(workerData.buffer);
const gate = new Int32Array(workerData.gate);
Atomics.add(gate, 1, 1);
Atomics.wait(gate, 0, 0); // everyone starts together
const slots = {};
for (const [tenant, id] of workerData.keys) slots[tenant + '/' + id] = table.slotOf(tenant, id);
parentPort.postMessage(slots);
`;

const READER = `
import { workerData, parentPort } from 'node:worker_threads';
const { CampaignTable, newSlotValues } = await import(workerData.module);
const table = CampaignTable.attach(workerData.buffer);
const stop = new Int32Array(workerData.gate);
const slot = table.slotOf('t', 'hot');
const v = newSlotValues();
let reads = 0, mixed = 0;
Atomics.add(stop, 1, 1);
while (Atomics.load(stop, 0) === 0) {
  table.read(slot, v);
  reads++;
  // The writer always writes one number k into every field of a write.
  if (v.spentTotal !== v.spentDay || v.spentTotal !== v.day || v.spentTotal !== v.clicks) mixed++;
}
parentPort.postMessage({ reads, mixed, last: table.read(slot, v).spentTotal });
`;

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'txrank-ctable-'));
  writeFileSync(join(dir, 'inserter.mjs'), INSERTER);
  writeFileSync(join(dir, 'reader.mjs'), READER);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run<T>(file: string, workerData: object): { done: Promise<T>; worker: Worker } {
  const worker = new Worker(join(dir, file), { workerData });
  const done = new Promise<T>((resolveDone, reject) => {
    worker.once('message', (m: T) => resolveDone(m));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`worker exited with ${code}`));
    });
  });
  return { done, worker };
}

/** Deterministic shuffle (xorshift), so each worker inserts in its own order. */
function shuffled<T>(xs: T[], seed: number): T[] {
  const out = xs.slice();
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const j = (s >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('CampaignTable in one thread', () => {
  it('finds what it inserted, keeps tenants and the id boundary apart, and counts entries', () => {
    const t = CampaignTable.create({ capacity: 100 });
    expect(t.find('t1', 'c1')).toBe(-1);
    const a = t.slotOf('t1', 'c1');
    expect(t.slotOf('t1', 'c1')).toBe(a);
    expect(t.find('t1', 'c1')).toBe(a);
    const others = [t.slotOf('t2', 'c1'), t.slotOf('ab', 'c'), t.slotOf('a', 'bc'), t.slotOf('t1', 'c2')];
    expect(new Set([a, ...others]).size).toBe(5);
    expect(t.size).toBe(5);
    expect(t.slots).toBeGreaterThanOrEqual(Math.ceil((100 * 4) / 3));
    // A new slot passes everything: throttle 1, nothing spent.
    expect(t.read(a, newSlotValues())).toMatchObject({ throttle: 1, spentTotal: 0, day: 0 });
  });

  it('refuses the insert past capacity with a clear error, and still serves what it has', () => {
    const t = CampaignTable.create({ capacity: 3 });
    const slots = ['a', 'b', 'c'].map((id) => t.slotOf('t', id));
    let err: unknown;
    try {
      t.slotOf('t', 'd');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TxrankError);
    expect((err as TxrankError).message).toMatch(/campaign table is full \(3 campaigns\)/);
    expect(t.size).toBe(3);
    expect(t.find('t', 'd')).toBe(-1);
    expect(['a', 'b', 'c'].map((id) => t.slotOf('t', id))).toEqual(slots);
    expect(() => CampaignTable.create({ capacity: 0 })).toThrow(/capacity/);
  });

  it('has one value writer: the creator writes and moves the epoch, an attached handle reads the same values', () => {
    const t = CampaignTable.create({ capacity: 10 });
    const other = CampaignTable.attach(t.buffer);
    const s = other.slotOf('t', 'c'); // a reader may insert
    expect(t.find('t', 'c')).toBe(s);
    const e0 = other.epoch;
    const day = utcDay(Date.UTC(2025, 0, 2, 12));
    t.writeSpend(s, { spentTotal: 12.5, spentDay: 2.5, day, impressions: 100, clicks: 3, conversions: 1, unbilled: 0.25 });
    t.writeThrottle(s, 0.4);
    expect(other.epoch).toBe(e0 + 2);
    expect(other.read(s, newSlotValues())).toEqual({ spentTotal: 12.5, spentDay: 2.5, day, throttle: 0.4, impressions: 100, clicks: 3, conversions: 1, unbilled: 0.25 });
    expect(other.throttleOf(s)).toBe(0.4);
    expect(() => other.writeThrottle(s, 1)).toThrow(/created the table/);
    t.writeThrottle(s, 7);
    expect(t.throttleOf(s)).toBe(1);
  });
});

describe('CampaignTable across worker threads', () => {
  it('concurrent inserts of overlapping campaigns from 4 threads agree on every slot', async () => {
    const table = CampaignTable.create({ capacity: 4096 });
    const keys: [string, string][] = [];
    for (let i = 0; i < 1500; i++) keys.push([`t${i % 3}`, `camp-${i}`]);
    const gate = new SharedArrayBuffer(8);
    const gateWords = new Int32Array(gate);
    // Each worker takes an overlapping two thirds of the keys, in its own order.
    const runs = [0, 1, 2, 3].map((w) =>
      run<Record<string, number>>('inserter.mjs', {
        module: MODULE,
        buffer: table.buffer,
        gate,
        keys: shuffled(keys.filter((_, i) => i % 3 !== w % 3), w + 11),
      }),
    );
    while (Atomics.load(gateWords, 1) < 4) await new Promise((r) => setTimeout(r, 5));
    Atomics.store(gateWords, 0, 1);
    Atomics.notify(gateWords, 0);
    const results = await Promise.all(runs.map((r) => r.done));
    expect(table.size).toBe(1500);
    const seen = new Map<string, number>();
    for (const slots of results) {
      for (const [k, slot] of Object.entries(slots)) {
        const prev = seen.get(k);
        if (prev !== undefined) expect(slot).toBe(prev);
        seen.set(k, slot);
      }
    }
    expect(seen.size).toBe(1500);
    // Distinct campaigns have distinct slots, and the main thread finds each where the workers put it.
    expect(new Set(seen.values()).size).toBe(1500);
    for (const [tenant, id] of keys) expect(table.find(tenant, id)).toBe(seen.get(`${tenant}/${id}`));
  });

  it('a worker reading while the main thread writes never sees fields of two different writes', async () => {
    const table = CampaignTable.create({ capacity: 16 });
    const slot = table.slotOf('t', 'hot');
    const gate = new SharedArrayBuffer(8);
    const words = new Int32Array(gate);
    const readers = [run<{ reads: number; mixed: number; last: number }>('reader.mjs', { module: MODULE, buffer: table.buffer, gate })];
    readers.push(run('reader.mjs', { module: MODULE, buffer: table.buffer, gate }));
    while (Atomics.load(words, 1) < 2) await new Promise((r) => setTimeout(r, 5));
    const N = 200_000;
    for (let k = 1; k <= N; k++) {
      table.writeSpend(slot, { spentTotal: k, spentDay: k, day: k, impressions: 0, clicks: k, conversions: 0, unbilled: 0 });
      if (k % 20_000 === 0) await new Promise((r) => setImmediate(r));
    }
    Atomics.store(words, 0, 1);
    const results = await Promise.all(readers.map((r) => r.done));
    for (const r of results) {
      expect(r.reads).toBeGreaterThan(0);
      expect(r.mixed).toBe(0);
      expect(r.last).toBe(N);
    }
  });
});
