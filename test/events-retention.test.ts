/**
 * Retention sweeps against a real LMDB environment: by age, by count, in chunks; events (and with them their
 * idempotency keys) go with their decision; examples expire too; what is young stays.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../src/catalog/store.js';
import { TXN_DIM } from '../src/features/spec.js';
import { EventStore, EVENTS_LAYOUT, type DecisionRecord, type EngagementEvent, type EventOptions } from '../src/events/store.js';

const T0 = 1_760_000_000_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function decision(id: string, decidedAt: number): DecisionRecord {
  return {
    decisionId: id,
    tenant: 'freshmart',
    placement: 'checkout',
    decidedAt,
    txnFeatures: new Float32Array(TXN_DIM),
    modelVersion: 'm',
    catalogVersion: 1,
    policy: 'ai',
    shown: [
      { offerId: 'o1', position: 1, p: 0.1, propensity: 1 },
      { offerId: 'o2', position: 2, p: 0.1, propensity: 1 },
    ],
  };
}

function ev(eventId: string, decisionId: string, ts: number, kind: EngagementEvent['kind'] = 'impression'): EngagementEvent {
  return { tenant: 'freshmart', eventId, decisionId, offerId: 'o1', kind, ts };
}

let dir: string;
let storage: Storage;
let store: EventStore;

function open(options: EventOptions = {}): void {
  storage = openStorage(dir);
  store = new EventStore(storage.root, options);
}

/** Entries in one of the event log's DBs, counted straight from LMDB. */
function rows(name: keyof typeof EVENTS_LAYOUT): number {
  return storage.root.openDB(EVENTS_LAYOUT[name], { encoding: 'binary' }).getKeysCount();
}

/** Decisions d0..d(n-1), one an hour from T0, each with an impression and a click on o1. */
async function seed(n: number): Promise<void> {
  for (let i = 0; i < n; i++) store.logDecision(decision(`d${i}`, T0 + i * HOUR));
  const events = [];
  for (let i = 0; i < n; i++) events.push(ev(`i${i}`, `d${i}`, T0 + i * HOUR + 1_000), ev(`c${i}`, `d${i}`, T0 + i * HOUR + 2_000, 'click'));
  const out = await store.ingest(events, T0 + n * HOUR);
  expect(out.every((o) => 'status' in o && o.status === 'accepted')).toBe(true);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'txrank-retention-'));
});

afterEach(async () => {
  await store.close();
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('sweep by age', () => {
  it('deletes decisions past retention with their events and examples, and keeps the rest', async () => {
    open({ retentionMs: 8 * DAY });
    await seed(10);
    await store.labelDue(T0 + 20 * HOUR);
    expect(store.read(0, 100)).toHaveLength(10);
    // At T0 + 8 days + 3.5 h, decisions d0..d3 (decided at T0 .. T0+3h) are older than 8 days.
    const r = await store.sweep(T0 + 8 * DAY + 3.5 * HOUR);
    expect(r).toEqual({ decisions: 4, events: 8, examples: 4 });
    expect(rows('decisions')).toBe(6);
    expect(rows('decisionTimes')).toBe(6);
    expect(rows('events')).toBe(12);
    expect(store.getDecision('freshmart', 'd3')).toBeNull();
    expect(store.getEvent('freshmart', 'd3', 'i3')).toBeNull();
    expect(store.getDecision('freshmart', 'd4')?.decisionId).toBe('d4');
    expect(store.eventsOf('freshmart', 'd4').map((e) => e.eventId).sort()).toEqual(['c4', 'i4']);
    expect(store.read(0, 100).map((x) => x.decisionId)).toEqual(['d4', 'd5', 'd6', 'd7', 'd8', 'd9']);
    expect(store.counters()).toMatchObject({ sweptDecisions: 4, sweptEvents: 8, sweptExamples: 4 });
  });

  it('sweeps nothing while everything is young, and is idempotent', async () => {
    open();
    await seed(3);
    expect(await store.sweep(T0 + DAY)).toEqual({ decisions: 0, events: 0, examples: 0 });
    expect(await store.sweep(T0 + 9 * DAY)).toEqual({ decisions: 3, events: 6, examples: 0 });
    expect(await store.sweep(T0 + 9 * DAY)).toEqual({ decisions: 0, events: 0, examples: 0 });
    expect(rows('events')).toBe(0);
  });

  it('takes the idempotency key with the event: a resend after its decision is gone is unknown_decision, never stored', async () => {
    open({ retentionMs: 8 * DAY });
    await seed(1);
    await store.sweep(T0 + 9 * DAY);
    const [out] = await store.ingest([ev('i0', 'd0', T0 + 1_000)], T0 + 9 * DAY);
    expect(out).toMatchObject({ code: 'unknown_decision' });
    expect(rows('events')).toBe(0);
  });

  it('works in chunks of sweepChunk', async () => {
    open({ retentionMs: 2 * DAY, conversionWindowMs: DAY, sweepChunk: 3 });
    await seed(20);
    await store.labelDue(T0 + 30 * HOUR);
    const r = await store.sweep(T0 + 2 * DAY + 10.5 * HOUR); // d0..d10 expire
    expect(r).toEqual({ decisions: 11, events: 22, examples: 11 });
    expect(rows('decisions')).toBe(9);
    expect(rows('events')).toBe(18);
  });
});

describe('sweep by count', () => {
  it('keeps at most maxDecisions, deleting the oldest with their events', async () => {
    open({ maxDecisions: 4 });
    await seed(10);
    const r = await store.sweep(T0 + 11 * HOUR);
    expect(r).toMatchObject({ decisions: 6, events: 12 });
    expect(rows('decisions')).toBe(4);
    expect(rows('events')).toBe(8);
    expect(store.getDecision('freshmart', 'd5')).toBeNull();
    expect(store.getDecision('freshmart', 'd6')?.decisionId).toBe('d6');
    // The swept decisions are gone from ingest's cache too.
    const [late] = await store.ingest([ev('x', 'd5', T0 + 5 * HOUR + 10)], T0 + 11 * HOUR);
    expect(late).toMatchObject({ code: 'unknown_decision' });
  });

  it('keeps at most maxExamples, deleting the oldest', async () => {
    open({ maxExamples: 3 });
    await seed(6);
    await store.labelDue(T0 + 20 * HOUR);
    const r = await store.sweep(T0 + 20 * HOUR);
    expect(r).toEqual({ decisions: 0, events: 0, examples: 3 });
    expect(store.read(0, 100).map((x) => x.seq)).toEqual([4, 5, 6]);
    // Seqs never go back, even with older examples deleted.
    expect(store.latestSeq()).toBe(6);
  });
});

describe('scheduled runs', () => {
  it('start() labels and sweeps on its intervals with the injected clock, and close() stops them', async () => {
    let now = T0 + 2 * HOUR;
    storage = openStorage(dir);
    store = new EventStore(storage.root, { labelIntervalMs: 10, sweepIntervalMs: 10, retentionMs: 8 * DAY }, { now: () => now });
    store.logDecision(decision('d0', T0));
    await store.ingest([ev('i0', 'd0', T0 + 1_000)], T0 + 5_000);
    store.start();
    store.start(); // idempotent
    await waitFor(() => store.counters().examplesEmitted === 1);
    now = T0 + 9 * DAY;
    await waitFor(() => store.counters().sweptDecisions === 1);
    expect(store.counters().backgroundErrors).toBe(0);
    await store.close();
    const before = store.counters();
    await new Promise((r) => setTimeout(r, 50));
    expect(store.counters()).toEqual(before);
  });
});

async function waitFor(cond: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
