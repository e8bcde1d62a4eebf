/**
 * Event ingest against a real LMDB environment in a temp dir: acks, idempotency, tenant isolation, the
 * decision checks, bounds, counters. Every test uses explicit times (decidedAt, ts, now) so none depends on
 * the wall clock.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../src/catalog/store.js';
import { TxrankError } from '../src/errors/codes.js';
import { TXN_DIM } from '../src/features/spec.js';
import { EventStore, type DecisionRecord, type EngagementEvent, type EventOptions, type EventOutcome } from '../src/events/store.js';

const T0 = 1_760_000_000_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function decision(id: string, tenant = 'freshmart', decidedAt = T0, offers = ['o1', 'o2', 'o3']): DecisionRecord {
  const txnFeatures = new Float32Array(TXN_DIM);
  for (let i = 0; i < TXN_DIM; i++) txnFeatures[i] = (i + 1) / 64;
  return {
    decisionId: id,
    tenant,
    placement: 'checkout',
    decidedAt,
    buyer: 'b-42',
    txnFeatures,
    modelVersion: 'tt-1-abc',
    catalogVersion: 7,
    policy: 'ai',
    shown: offers.map((offerId, i) => ({ offerId, position: i + 1, p: 0.1 / (i + 1), propensity: 1 })),
  };
}

function event(eventId: string, over: Partial<EngagementEvent> = {}): EngagementEvent {
  return { tenant: 'freshmart', eventId, decisionId: 'd1', offerId: 'o1', kind: 'impression', ts: T0 + 1_000, ...over };
}

const NOW = T0 + 5_000;
const accepted = (eventId: string): EventOutcome => ({ eventId, status: 'accepted' });
const duplicate = (eventId: string): EventOutcome => ({ eventId, status: 'duplicate' });
const codeOf = (o: EventOutcome): string => ('code' in o ? o.code : o.status);

let dir: string;
let storage: Storage;
let store: EventStore;

function open(options: EventOptions = {}): EventStore {
  storage = openStorage(dir);
  store = new EventStore(storage.root, options);
  return store;
}

async function reopen(options: EventOptions = {}): Promise<EventStore> {
  await store.close();
  await storage.close();
  return open(options);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'txrank-events-'));
  open();
});

afterEach(async () => {
  await store.close();
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ingest: acknowledgement and storage', () => {
  it('accepts an event for a logged decision, resolves after commit, and stores it', async () => {
    store.logDecision(decision('d1'));
    const out = await store.ingest([event('e1', { kind: 'click', offerId: 'o2', ts: T0 + 2_000 })], NOW);
    expect(out).toEqual([accepted('e1')]);
    expect(store.getEvent('freshmart', 'd1', 'e1')).toEqual({
      tenant: 'freshmart',
      eventId: 'e1',
      decisionId: 'd1',
      offerId: 'o2',
      kind: 'click',
      ts: T0 + 2_000,
      receivedAt: NOW,
    });
    expect(store.getEngagement('freshmart', 'd1')?.map((o) => [o.offerId, o.impression, o.click])).toEqual([
      ['o1', false, false],
      ['o2', false, true],
      ['o3', false, false],
    ]);
  });

  it('finds a decision logged in the same tick, before either is committed', async () => {
    store.logDecision(decision('d1'));
    const p = store.ingest([event('e1')], NOW);
    expect(await p).toEqual([accepted('e1')]);
  });

  it('answers in the order given, one outcome per event, across a mixed batch', async () => {
    store.logDecision(decision('d1'));
    const out = await store.ingest(
      [event('a'), event('b', { decisionId: 'nope' }), event('c', { offerId: 'o9' }), event('d', { kind: 'click', ts: T0 + 2 * HOUR }), event('e', { kind: 'dismiss' })],
      NOW + 2 * HOUR,
    );
    expect(out.map((o) => [o.eventId, codeOf(o)])).toEqual([
      ['a', 'accepted'],
      ['b', 'unknown_decision'],
      ['c', 'bad_request'],
      ['d', 'out_of_window'],
      ['e', 'accepted'],
    ]);
  });

  it('keeps conversion value and currency, for reports', async () => {
    store.logDecision(decision('d1'));
    await store.ingest([event('c1', { kind: 'conversion', ts: T0 + 3 * DAY, value: 12.5, currency: 'EUR' })], T0 + 3 * DAY);
    expect(store.eventsOf('freshmart', 'd1')).toEqual([
      { tenant: 'freshmart', eventId: 'c1', decisionId: 'd1', offerId: 'o1', kind: 'conversion', ts: T0 + 3 * DAY, receivedAt: T0 + 3 * DAY, value: 12.5, currency: 'EUR' },
    ]);
    expect(store.getEngagement('freshmart', 'd1')?.[0]).toMatchObject({ impression: false, conversion: true });
  });

  it('commits many concurrent calls in few transactions and answers each', async () => {
    for (let d = 0; d < 50; d++) store.logDecision(decision(`d${d}`));
    const calls = Array.from({ length: 200 }, (_, i) => store.ingest([event(`e${i}`, { decisionId: `d${i % 50}`, offerId: `o${(i % 3) + 1}` })], NOW));
    const outs = await Promise.all(calls);
    expect(outs.flat()).toEqual(Array.from({ length: 200 }, (_, i) => accepted(`e${i}`)));
    expect(store.eventsOf('freshmart', 'd7').map((e) => e.eventId).sort()).toEqual(['e107', 'e157', 'e57', 'e7']);
  });
});

describe('ingest: idempotency', () => {
  beforeEach(() => store.logDecision(decision('d1')));

  it('answers a second copy in the same batch as duplicate and stores one', async () => {
    const out = await store.ingest([event('e1'), event('e1', { kind: 'click' })], NOW);
    expect(out).toEqual([accepted('e1'), duplicate('e1')]);
    expect(store.eventsOf('freshmart', 'd1')).toHaveLength(1);
    expect(store.getEvent('freshmart', 'd1', 'e1')?.kind).toBe('impression');
    expect(store.counters()).toMatchObject({ eventsAccepted: 1, eventsDuplicate: 1 });
  });

  it('answers a resend in a later batch as duplicate', async () => {
    expect(await store.ingest([event('e1')], NOW)).toEqual([accepted('e1')]);
    expect(await store.ingest([event('e1')], NOW + 10)).toEqual([duplicate('e1')]);
    expect(store.getEvent('freshmart', 'd1', 'e1')?.receivedAt).toBe(NOW);
  });

  it('answers concurrent copies (separate calls, same tick) with exactly one accepted', async () => {
    const outs = await Promise.all(Array.from({ length: 8 }, () => store.ingest([event('e1')], NOW)));
    const statuses = outs.flat().map(codeOf);
    expect(statuses.filter((s) => s === 'accepted')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(7);
    expect(store.eventsOf('freshmart', 'd1')).toHaveLength(1);
  });

  it('remembers accepted events across a reopen', async () => {
    await store.ingest([event('e1'), event('e2', { offerId: 'o2' })], NOW);
    await reopen();
    expect(await store.ingest([event('e2', { offerId: 'o2' }), event('e1'), event('e3')], NOW + 1)).toEqual([duplicate('e2'), duplicate('e1'), accepted('e3')]);
  });

  it('answers a retry of an accepted event as duplicate even when the event would now be refused', async () => {
    await reopen({ maxEventsPerDecision: 2 });
    expect(await store.ingest([event('e1'), event('e2')], NOW)).toEqual([accepted('e1'), accepted('e2')]);
    const out = await store.ingest([event('e1'), event('e3')], NOW);
    expect(out[0]).toEqual(duplicate('e1'));
    expect(out[1]).toMatchObject({ eventId: 'e3', code: 'bad_request' });
    expect((out[1] as { message: string }).message).toContain('already has 2 events');
  });

  it('scopes ids to the decision: the same id on another decision is another event', async () => {
    store.logDecision(decision('d2'));
    expect(await store.ingest([event('e1'), event('e1', { decisionId: 'd2' })], NOW)).toEqual([accepted('e1'), accepted('e1')]);
  });
});

describe('ingest: decisions and tenants', () => {
  it('refuses an unknown decision with unknown_decision and stores nothing', async () => {
    const out = await store.ingest([event('e1', { decisionId: 'never' })], NOW);
    expect(out).toEqual([{ eventId: 'e1', code: 'unknown_decision', message: 'unknown decision never' }]);
    expect(store.eventsOf('freshmart', 'never')).toEqual([]);
  });

  it("answers another tenant's decision exactly as an unknown one, and reveals nothing of it", async () => {
    store.logDecision(decision('d1', 'hometown'));
    await store.ingest([event('e1', { tenant: 'hometown' })], NOW);
    const theirs = await store.ingest([event('e1', { tenant: 'freshmart' })], NOW);
    const missing = await store.ingest([event('e1', { tenant: 'freshmart', decisionId: 'zz' })], NOW);
    // Not "duplicate" (which would reveal the other tenant's event), and the same message shape as missing.
    expect(theirs).toEqual([{ eventId: 'e1', code: 'unknown_decision', message: 'unknown decision d1' }]);
    expect(missing).toEqual([{ eventId: 'e1', code: 'unknown_decision', message: 'unknown decision zz' }]);
    expect(store.getDecision('freshmart', 'd1')).toBeNull();
    expect(store.getEngagement('freshmart', 'd1')).toBeNull();
    expect(store.getEvent('freshmart', 'd1', 'e1')).toBeNull();
    expect(store.getDecision('hometown', 'd1')?.tenant).toBe('hometown');
    expect(store.eventsOf('hometown', 'd1')).toHaveLength(1);
  });

  it('refuses an offer the decision did not show with bad_request, saying so', async () => {
    store.logDecision(decision('d1'));
    const [out] = await store.ingest([event('e1', { offerId: 'o4' })], NOW);
    expect(out).toEqual({ eventId: 'e1', code: 'bad_request', message: 'offer o4 was not shown in decision d1' });
  });

  it('gives the same answers with the decision cache off or empty (the read path)', async () => {
    await reopen({ decisionCacheSize: 0 });
    store.logDecision(decision('d1'));
    store.logDecision(decision('d2', 'hometown'));
    const batch = [event('a'), event('a'), event('b', { decisionId: 'd2' }), event('c', { offerId: 'o9' }), event('d', { ts: T0 + 2 * HOUR })];
    const expected = ['accepted', 'duplicate', 'unknown_decision', 'bad_request', 'out_of_window'];
    expect((await store.ingest(batch, NOW + 2 * HOUR)).map(codeOf)).toEqual(expected);
    await reopen();
    expect((await store.ingest([event('a'), event('e')], NOW)).map(codeOf)).toEqual(['duplicate', 'accepted']);
  });
});

describe('ingest: attribution windows', () => {
  beforeEach(() => store.logDecision(decision('d1')));

  it('takes each kind up to the end of its window and refuses it after', async () => {
    const at = (kind: EngagementEvent['kind'], dt: number, id: string) => event(id, { kind, ts: T0 + dt });
    const out = await store.ingest(
      [
        at('impression', HOUR, 'i-in'),
        at('impression', HOUR + 1, 'i-out'),
        at('click', HOUR, 'c-in'),
        at('click', HOUR + 1, 'c-out'),
        at('dismiss', HOUR, 'd-in'),
        at('dismiss', HOUR + 1, 'd-out'),
        at('conversion', 7 * DAY, 'v-in'),
        at('conversion', 7 * DAY + 1, 'v-out'),
      ],
      T0 + 8 * DAY,
    );
    expect(out.map((o) => [o.eventId, codeOf(o)])).toEqual([
      ['i-in', 'accepted'],
      ['i-out', 'out_of_window'],
      ['c-in', 'accepted'],
      ['c-out', 'out_of_window'],
      ['d-in', 'accepted'],
      ['d-out', 'out_of_window'],
      ['v-in', 'accepted'],
      ['v-out', 'out_of_window'],
    ]);
    expect((out[3] as { message: string }).message).toContain('click window of 3600000 ms');
  });

  it('accepts a conversion hours later that a click at that time would miss', async () => {
    const out = await store.ingest([event('v', { kind: 'conversion', ts: T0 + 5 * HOUR }), event('c', { kind: 'click', ts: T0 + 5 * HOUR })], T0 + 5 * HOUR);
    expect(out.map(codeOf)).toEqual(['accepted', 'out_of_window']);
  });

  it('allows clock skew before the decision, and refuses beyond it', async () => {
    const out = await store.ingest([event('early', { ts: T0 - 5 * 60_000 }), event('too-early', { ts: T0 - 5 * 60_000 - 1 })], NOW);
    expect(out.map(codeOf)).toEqual(['accepted', 'out_of_window']);
    expect((out[1] as { message: string }).message).toContain('before its decision');
  });

  it('refuses an event dated in the future beyond the skew', async () => {
    const out = await store.ingest([event('soon', { ts: NOW + 5 * 60_000 }), event('future', { ts: NOW + 5 * 60_000 + 1 })], NOW);
    expect(out.map(codeOf)).toEqual(['accepted', 'out_of_window']);
    expect((out[1] as { message: string }).message).toContain('in the future');
  });

  it('uses the configured windows', async () => {
    await reopen({ clickWindowMs: 60_000, clockSkewMs: 0 });
    const out = await store.ingest([event('in', { kind: 'click', ts: T0 + 60_000 }), event('out', { kind: 'click', ts: T0 + 60_001 }), event('pre', { ts: T0 - 1 })], T0 + HOUR);
    expect(out.map(codeOf)).toEqual(['accepted', 'out_of_window', 'out_of_window']);
  });
});

describe('ingest: field checks and bounds', () => {
  beforeEach(() => store.logDecision(decision('d1')));

  it('refuses malformed fields with bad_request naming the field', async () => {
    const bad: [Partial<EngagementEvent>, string][] = [
      [{ eventId: '' }, 'event_id'],
      [{ eventId: 'x'.repeat(129) }, 'event_id'],
      [{ eventId: 'a\u0000b' }, 'control characters'],
      [{ decisionId: '' }, 'decision_id'],
      [{ offerId: '' }, 'offer_id'],
      [{ kind: 'view' as EngagementEvent['kind'] }, 'kind'],
      [{ ts: Number.NaN }, 'ts'],
      [{ ts: -1 }, 'ts'],
      [{ value: -1 }, 'value'],
      [{ currency: 'usd' }, 'currency'],
    ];
    const out = await store.ingest(
      bad.map(([over], i) => event(over.eventId ?? `e${i}`, over)),
      NOW,
    );
    out.forEach((o, i) => {
      expect(o).toMatchObject({ code: 'bad_request' });
      expect((o as { message: string }).message).toContain(bad[i][1]);
    });
    expect(store.eventsOf('freshmart', 'd1')).toEqual([]);
    expect(store.counters().eventsRejected.bad_request).toBe(bad.length);
  });

  it('accepts an event id of exactly 128 characters, and non-ASCII ones', async () => {
    const out = await store.ingest([event('x'.repeat(128)), event('évé-🎉')], NOW);
    expect(out.map(codeOf)).toEqual(['accepted', 'accepted']);
    expect(store.getEvent('freshmart', 'd1', 'évé-🎉')?.eventId).toBe('évé-🎉');
  });

  it('bounds the events of one decision', async () => {
    await reopen({ maxEventsPerDecision: 3 });
    const out = await store.ingest([event('a'), event('b'), event('c'), event('d')], NOW);
    expect(out.map(codeOf)).toEqual(['accepted', 'accepted', 'accepted', 'bad_request']);
    // A fresh process counts from LMDB (the decision is not in its cache).
    await reopen({ maxEventsPerDecision: 3 });
    expect((await store.ingest([event('e')], NOW)).map(codeOf)).toEqual(['bad_request']);
  });

  it('refuses a call over maxEventsPerIngest as a whole', async () => {
    await reopen({ maxEventsPerIngest: 2 });
    await expect(store.ingest([event('a'), event('b'), event('c')], NOW)).rejects.toMatchObject({ code: 'bad_request' });
    expect(store.counters().eventsAccepted).toBe(0);
  });

  it('answers overloaded beyond maxPendingEvents, and takes events again once acknowledged', async () => {
    await reopen({ maxPendingEvents: 3 });
    store.logDecision(decision('d1'));
    const first = store.ingest([event('a'), event('b')], NOW);
    const second = await store.ingest([event('c'), event('d')], NOW);
    expect(second.map(codeOf)).toEqual(['overloaded', 'overloaded']);
    expect((await first).map(codeOf)).toEqual(['accepted', 'accepted']);
    expect((await store.ingest([event('c')], NOW)).map(codeOf)).toEqual(['accepted']);
    expect(store.counters().eventsRejected.overloaded).toBe(2);
  });
});

describe('counters and lifecycle', () => {
  it('counts accepted, duplicate and refused events by code, once each', async () => {
    store.logDecision(decision('d1'));
    await store.ingest([event('a'), event('a'), event('b', { decisionId: 'x' }), event('c', { ts: T0 - DAY })], NOW);
    const c = store.counters();
    expect(c).toMatchObject({ decisionsLogged: 1, eventsAccepted: 1, eventsDuplicate: 1, pendingEvents: 0 });
    expect(c.eventsRejected.unknown_decision).toBe(1);
    expect(c.eventsRejected.out_of_window).toBe(1);
    expect(c.eventsRejected.internal).toBe(0);
  });

  it('acknowledges with ackOn committed too', async () => {
    await reopen({ ackOn: 'committed' });
    store.logDecision(decision('d1'));
    expect(await store.ingest([event('a')], NOW)).toEqual([accepted('a')]);
    await reopen();
    expect(await store.ingest([event('a')], NOW)).toEqual([duplicate('a')]);
  });

  it('close() waits for acks in flight, is idempotent, and then refuses new work', async () => {
    store.logDecision(decision('d1'));
    const pending = store.ingest([event('a')], NOW);
    const closing = store.close();
    expect(store.close()).toBe(closing);
    expect(await pending).toEqual([accepted('a')]);
    await closing;
    await expect(store.ingest([event('b')], NOW)).rejects.toBeInstanceOf(TxrankError);
    await expect(store.ingest([event('b')], NOW)).rejects.toMatchObject({ code: 'shutting_down' });
    await expect(store.labelDue(NOW)).rejects.toMatchObject({ code: 'shutting_down' });
    store.logDecision(decision('late'));
    expect(store.counters().decisionsLost).toBe(1);
    // The decision logged before close() was committed by it.
    await storage.close();
    open();
    expect(store.getDecision('freshmart', 'd1')?.decisionId).toBe('d1');
    expect(store.getDecision('freshmart', 'late')).toBeNull();
  });
});
