/**
 * The join of decisions and engagement into labelled examples, against a real LMDB environment: labels,
 * what yields no example, exactly-once emission (repeated, concurrent, across reopen, chunked), and the
 * ExampleSource paging the trainer relies on.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../src/catalog/store.js';
import { TXN_DIM } from '../src/features/spec.js';
import type { LabelledExample } from '../src/learning/labelled-example.js';
import { EventStore, ExampleStream, type DecisionRecord, type EngagementEvent, type EventOptions } from '../src/events/store.js';

const T0 = 1_760_000_000_000;
const HOUR = 3_600_000;

function features(seed: number): Float32Array {
  const f = new Float32Array(TXN_DIM);
  for (let i = 0; i < TXN_DIM; i++) f[i] = Math.fround(Math.sin(seed * 31 + i) * 0.5);
  return f;
}

function decision(id: string, decidedAt = T0, offers = ['o1', 'o2', 'o3'], seed = 1): DecisionRecord {
  return {
    decisionId: id,
    tenant: 'freshmart',
    placement: 'checkout',
    decidedAt,
    txnFeatures: features(seed),
    modelVersion: 'tt-1-abc',
    catalogVersion: 7,
    policy: 'ai',
    shown: offers.map((offerId, i) => ({ offerId, position: i + 1, p: 0.05 * (i + 1), propensity: 1 - 0.1 * i })),
  };
}

function ev(eventId: string, decisionId: string, offerId: string, kind: EngagementEvent['kind'], ts = T0 + 1_000): EngagementEvent {
  return { tenant: 'freshmart', eventId, decisionId, offerId, kind, ts };
}

/** The examples as (decision, offer, label) triples, in seq order. */
const triples = (xs: LabelledExample[]) => xs.map((x) => [x.decisionId, x.offerId, x.label]);

let dir: string;
let storage: Storage;
let store: EventStore;

function open(options: EventOptions = {}): void {
  storage = openStorage(dir);
  store = new EventStore(storage.root, options);
}

async function reopen(options: EventOptions = {}): Promise<void> {
  await store.close();
  await storage.close();
  open(options);
}

async function ingestAll(events: EngagementEvent[], now = T0 + 5_000): Promise<void> {
  const out = await store.ingest(events, now);
  for (const o of out) expect(o).toMatchObject({ status: 'accepted' });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'txrank-labeler-'));
  open();
});

afterEach(async () => {
  await store.close();
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('labels', () => {
  it('labels a clicked impression 1 and an unclicked one 0, once the reward wait has passed', async () => {
    store.logDecision(decision('d1'));
    await ingestAll([ev('i1', 'd1', 'o1', 'impression'), ev('i2', 'd1', 'o2', 'impression'), ev('c1', 'd1', 'o1', 'click', T0 + 30_000)]);
    const r = await store.labelDue(T0 + HOUR + 1);
    expect(r).toEqual({ decisions: 1, examples: 2, positives: 1, lastSeq: 2 });
    expect(triples(store.read(0, 10))).toEqual([
      ['d1', 'o1', 1],
      ['d1', 'o2', 0],
    ]);
  });

  it('emits nothing before the reward wait has passed (the click window by default)', async () => {
    store.logDecision(decision('d1'));
    await ingestAll([ev('i1', 'd1', 'o1', 'impression')]);
    expect(await store.labelDue(T0 + HOUR)).toMatchObject({ decisions: 0, examples: 0 });
    expect(store.read(0, 10)).toEqual([]);
    expect(await store.labelDue(T0 + HOUR + 1)).toMatchObject({ decisions: 1, examples: 1 });
  });

  it('waits the configured reward wait', async () => {
    await reopen({ rewardWaitMs: 2 * HOUR });
    store.logDecision(decision('d1'));
    await ingestAll([ev('i1', 'd1', 'o1', 'impression')]);
    expect((await store.labelDue(T0 + HOUR + 1)).examples).toBe(0);
    expect((await store.labelDue(T0 + 2 * HOUR + 1)).examples).toBe(1);
  });

  it('makes no example of a shown offer without an impression (not seen, not a negative)', async () => {
    store.logDecision(decision('d1'));
    store.logDecision(decision('d2', T0 + 10));
    await ingestAll([ev('i1', 'd1', 'o2', 'impression')]);
    const r = await store.labelDue(T0 + 2 * HOUR);
    expect(r).toMatchObject({ decisions: 2, examples: 1, positives: 0 });
    expect(triples(store.read(0, 10))).toEqual([['d1', 'o2', 0]]);
  });

  it('counts a click or a dismiss as seen (their impression beacon may be lost); a conversion alone is not', async () => {
    store.logDecision(decision('d1'));
    await ingestAll([ev('c', 'd1', 'o1', 'click'), ev('x', 'd1', 'o2', 'dismiss'), ev('v', 'd1', 'o3', 'conversion')]);
    await store.labelDue(T0 + 2 * HOUR);
    expect(triples(store.read(0, 10))).toEqual([
      ['d1', 'o1', 1],
      ['d1', 'o2', 0],
    ]);
  });

  it('carries the decision as served into the example', async () => {
    const d = decision('d1', T0, ['o1', 'o2'], 5);
    store.logDecision(d);
    await ingestAll([ev('i', 'd1', 'o2', 'impression')]);
    await store.labelDue(T0 + 2 * HOUR);
    const [x] = store.read(0, 1);
    expect(x).toEqual({
      seq: 1,
      decisionId: 'd1',
      tenant: 'freshmart',
      offerId: 'o2',
      catalogVersion: 7,
      modelVersion: 'tt-1-abc',
      position: 2,
      propensity: 0.9,
      txnFeatures: d.txnFeatures,
      label: 0,
      decidedAt: T0,
    });
    expect(Array.from(x.txnFeatures)).toEqual(Array.from(d.txnFeatures));
  });

  it('does not let a late conversion change an emitted label; counts late events', async () => {
    store.logDecision(decision('d1'));
    await ingestAll([ev('i', 'd1', 'o1', 'impression')]);
    await store.labelDue(T0 + HOUR + 1);
    await ingestAll([ev('v', 'd1', 'o1', 'conversion', T0 + 3 * HOUR)], T0 + 3 * HOUR);
    await store.labelDue(T0 + 4 * HOUR);
    expect(triples(store.read(0, 10))).toEqual([['d1', 'o1', 0]]);
    expect(store.counters()).toMatchObject({ eventsAfterLabel: 1, examplesEmitted: 1, examplesPositive: 0 });
    expect(store.getEngagement('freshmart', 'd1')?.[0]).toMatchObject({ impression: true, click: false, conversion: true });
  });
});

describe('exactly once', () => {
  async function setup(decisions: number): Promise<void> {
    for (let i = 0; i < decisions; i++) store.logDecision(decision(`d${i}`, T0 + i, ['o1', 'o2'], i));
    const events: EngagementEvent[] = [];
    for (let i = 0; i < decisions; i++) {
      events.push(ev(`i${i}`, `d${i}`, 'o1', 'impression', T0 + i + 100));
      if (i % 3 === 0) events.push(ev(`c${i}`, `d${i}`, 'o1', 'click', T0 + i + 200));
    }
    await ingestAll(events);
  }

  it('emits each example once however often labelDue runs', async () => {
    await setup(20);
    expect((await store.labelDue(T0 + 2 * HOUR)).examples).toBe(20);
    expect((await store.labelDue(T0 + 2 * HOUR)).examples).toBe(0);
    expect((await store.labelDue(T0 + 9 * HOUR)).examples).toBe(0);
    const xs = store.read(0, 100);
    expect(xs.map((x) => x.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(xs.map((x) => x.decisionId)).size).toBe(20);
    expect(xs.filter((x) => x.label === 1).map((x) => x.decisionId)).toEqual(['d0', 'd3', 'd6', 'd9', 'd12', 'd15', 'd18']);
  });

  it('emits each example once under concurrent labelDue calls', async () => {
    await setup(30);
    const results = await Promise.all([store.labelDue(T0 + 2 * HOUR), store.labelDue(T0 + 2 * HOUR), store.labelDue(T0 + 2 * HOUR)]);
    expect(results.reduce((n, r) => n + r.examples, 0)).toBe(30);
    expect(store.read(0, 100)).toHaveLength(30);
  });

  it('continues after a reopen without repeating or skipping, and seqs keep growing', async () => {
    await setup(10);
    await store.labelDue(T0 + HOUR + 5); // decisions d0..d4 are due (decidedAt < now - wait)
    expect(store.read(0, 100).map((x) => x.decisionId)).toEqual(['d0', 'd1', 'd2', 'd3', 'd4']);
    await reopen();
    await store.labelDue(T0 + 2 * HOUR);
    const xs = store.read(0, 100);
    expect(xs.map((x) => x.decisionId)).toEqual(Array.from({ length: 10 }, (_, i) => `d${i}`));
    expect(xs.map((x) => x.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(store.latestSeq()).toBe(10);
  });

  it('gives the same stream when labelling in small chunks', async () => {
    await setup(25);
    await store.labelDue(T0 + 2 * HOUR);
    const whole = triples(store.read(0, 100));
    await store.close();
    await storage.close();
    await rm(dir, { recursive: true, force: true });
    dir = await mkdtemp(join(tmpdir(), 'txrank-labeler-'));
    open({ labelChunk: 4 });
    await setup(25);
    const r = await store.labelDue(T0 + 2 * HOUR);
    expect(r.decisions).toBe(25);
    expect(triples(store.read(0, 100))).toEqual(whole);
  });
});

describe('reading the stream', () => {
  it('pages with read(afterSeq, limit), from -1 or 0, and stops at the end', async () => {
    for (let i = 0; i < 7; i++) store.logDecision(decision(`d${i}`, T0 + i));
    await ingestAll(Array.from({ length: 7 }, (_, i) => ev(`i${i}`, `d${i}`, 'o1', 'impression')));
    await store.labelDue(T0 + 2 * HOUR);
    expect(store.read(-1, 3).map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(store.read(0, 3).map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(store.read(3, 3).map((x) => x.seq)).toEqual([4, 5, 6]);
    expect(store.read(6, 3).map((x) => x.seq)).toEqual([7]);
    expect(store.read(7, 3)).toEqual([]);
    expect(store.read(0, 0)).toEqual([]);
  });

  it('is readable through a separate ExampleStream on the same environment', async () => {
    store.logDecision(decision('d1'));
    await ingestAll([ev('i', 'd1', 'o3', 'impression')]);
    await store.labelDue(T0 + 2 * HOUR);
    const stream = new ExampleStream(storage.root);
    expect(triples(stream.read(0, 10))).toEqual([['d1', 'o3', 0]]);
    expect(stream.latestSeq()).toBe(1);
  });
});
