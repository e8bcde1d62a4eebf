/**
 * ReportCounters against a real LMDB environment in a temp dir: the sink contract (counted with the event's
 * transaction, exactly once, nothing from an aborted group), billing and currency rules, and the decision
 * counts flushed from memory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../src/catalog/store.js';
import type { Billing } from '../src/delivery/types.js';
import { TXN_DIM } from '../src/features/spec.js';
import { EventStore, type AcceptedEventSink, type DecisionHead, type DecisionRecord, type EngagementEvent } from '../src/events/store.js';
import { ReportCounters, validateReportCountersOptions } from '../src/reporting/counters.js';
import { CounterReader, utcDay, zeroValues, type CounterRow, type CounterValues } from '../src/reporting/layout.js';

const T0 = Date.UTC(2026, 10, 27, 18, 30);
const DAY = utcDay(T0);
const NOW = T0 + 5_000;

const cpc: Billing = { campaign: 'c-coffee', advertiser: 'a-roast', bidType: 'cpc', price: 0.5 };
const cpm: Billing = { campaign: 'c-tea', advertiser: 'a-leaf', bidType: 'cpm', price: 4 };
const cpa: Billing = { campaign: 'c-mugs', advertiser: 'a-roast', bidType: 'cpa', price: 3 };

function head(policy = 'ai', billing: (Billing | null)[] = [cpc, cpm, cpa]): DecisionHead {
  return { tenant: 'freshmart', placement: 'checkout', decidedAt: T0, policy, offerIds: ['o1', 'o2', 'o3'].slice(0, billing.length), billing };
}

function ev(eventId: string, kind: EngagementEvent['kind'], over: Partial<EngagementEvent> = {}): EngagementEvent {
  return { tenant: 'freshmart', eventId, decisionId: 'd1', offerId: 'o1', kind, ts: T0 + 1_000, ...over };
}

function decision(id: string, policy: string, billing: (Billing | undefined)[] = [cpc, cpm, cpa], decidedAt = T0): DecisionRecord {
  return {
    decisionId: id,
    tenant: 'freshmart',
    placement: 'checkout',
    decidedAt,
    buyer: 'b-1',
    txnFeatures: new Float32Array(TXN_DIM),
    modelVersion: 'tt-1',
    catalogVersion: 1,
    policy,
    shown: billing.map((b, i) => ({ offerId: `o${i + 1}`, position: i + 1, p: 0.1, propensity: 1, ...(b ? { billing: b } : {}) })),
  };
}

let dir: string;
let storage: Storage;
let counters: ReportCounters;

function rows(): CounterRow[] {
  return CounterReader.of(storage.root).rows({}).rows;
}

function row(arm: string, campaign: string, advertiser: string): CounterValues | undefined {
  return rows().find((r) => r.day === DAY && r.arm === arm && r.campaign === campaign && r.advertiser === advertiser);
}

function values(over: Partial<CounterValues>): CounterValues {
  return { ...zeroValues(), ...over };
}

function pick(r: CounterRow | CounterValues | undefined): CounterValues | undefined {
  if (r === undefined) return undefined;
  const out = zeroValues();
  for (const k of Object.keys(out) as (keyof CounterValues)[]) out[k] = r[k];
  return out;
}

/** Runs sink calls as the event log does: inside a child write transaction, then committed() or aborted(). */
async function group(sink: AcceptedEventSink, body: () => void): Promise<boolean> {
  try {
    await storage.root.childTransaction(body);
    sink.committed();
    return true;
  } catch {
    sink.aborted();
    return false;
  }
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'txrank-report-'));
  storage = openStorage(dir);
  counters = new ReportCounters(storage.root, { flushMs: 60_000 }, { currencyOf: (t) => (t === 'freshmart' ? 'USD' : undefined), onFlushError: () => {} });
});

afterEach(async () => {
  await counters.close();
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('events: the sink contract', () => {
  it('counts each first event in its transaction; charges only the billable kind of the offer', async () => {
    const h = head();
    const ok = await group(counters, () => {
      counters.accepted(ev('e1', 'impression'), h, 0, true);
      counters.accepted(ev('e2', 'click'), h, 0, true); // cpc: billed 0.50
      counters.accepted(ev('e3', 'impression', { offerId: 'o2' }), h, 1, true); // cpm: billed 4 / 1000
      counters.accepted(ev('e4', 'click', { offerId: 'o2' }), h, 1, true); // not billable for cpm
      counters.accepted(ev('e5', 'conversion', { offerId: 'o3', value: 25, currency: 'USD' }), h, 2, true); // cpa: billed 3
      counters.accepted(ev('e6', 'dismiss', { offerId: 'o3' }), h, 2, true);
    });
    expect(ok).toBe(true);
    expect(pick(row('ai', 'c-coffee', 'a-roast'))).toEqual(values({ impressions: 1, clicks: 1, spend: 0.5, spendSq: 0.25, billable: 1 }));
    expect(pick(row('ai', 'c-tea', 'a-leaf'))).toEqual(values({ impressions: 1, clicks: 1, spend: 0.004, spendSq: 0.004 * 0.004, billable: 1 }));
    expect(pick(row('ai', 'c-mugs', 'a-roast'))).toEqual(values({ conversions: 1, dismisses: 1, conversionValue: 25, spend: 3, spendSq: 9, billable: 1 }));
    expect(counters.stats()).toMatchObject({ eventsCounted: 6, eventsDropped: 0 });
  });

  it('a repeat of a kind on the same offer (first = false) counts nothing and bills nothing', async () => {
    const h = head();
    await group(counters, () => {
      counters.accepted(ev('e1', 'click'), h, 0, true);
      counters.accepted(ev('e2', 'click'), h, 0, false);
    });
    expect(pick(row('ai', 'c-coffee', 'a-roast'))).toEqual(values({ clicks: 1, spend: 0.5, spendSq: 0.25, billable: 1 }));
  });

  it('an aborted group leaves no count, and the counts of committed groups add up across transactions', async () => {
    const h = head('rules');
    await group(counters, () => counters.accepted(ev('e1', 'impression'), h, 0, true));
    const ok = await group(counters, () => {
      counters.accepted(ev('e2', 'click'), h, 0, true);
      throw new Error('storage failure later in the group');
    });
    expect(ok).toBe(false);
    expect(pick(row('rules', 'c-coffee', 'a-roast'))).toEqual(values({ impressions: 1 }));
    await group(counters, () => counters.accepted(ev('e3', 'click'), h, 0, true));
    expect(pick(row('rules', 'c-coffee', 'a-roast'))).toEqual(values({ impressions: 1, clicks: 1, spend: 0.5, spendSq: 0.25, billable: 1 }));
    expect(counters.stats()).toMatchObject({ eventsCounted: 2, eventsDropped: 1 });
  });

  it('a conversion in another currency is counted without its value; no currency means the tenant\'s', async () => {
    const h = head();
    await group(counters, () => {
      counters.accepted(ev('e1', 'conversion', { offerId: 'o3', value: 40, currency: 'EUR' }), h, 2, true);
      counters.accepted(ev('e2', 'conversion', { offerId: 'o1', value: 7 }), h, 0, true);
    });
    expect(row('ai', 'c-mugs', 'a-roast')).toMatchObject({ conversions: 1, conversionValue: 0, foreignConversions: 1 });
    expect(row('ai', 'c-coffee', 'a-roast')).toMatchObject({ conversions: 1, conversionValue: 7, foreignConversions: 0 });
  });

  it('an offer without billing (a record from before delivery) counts in the arm\'s own row', async () => {
    await group(counters, () => counters.accepted(ev('e1', 'click'), head('ai', [null]), 0, true));
    expect(pick(row('ai', '', ''))).toEqual(values({ clicks: 1 }));
  });

  it('through the event log: accepted once, a resend is a duplicate and not counted again', async () => {
    const events = new EventStore(storage.root, {}, { sinks: [counters] });
    try {
      events.logDecision(decision('d1', 'ai'));
      const batch = [ev('e1', 'impression'), ev('e2', 'click'), ev('e3', 'conversion', { offerId: 'o3', value: 12.5, currency: 'USD' })];
      expect((await events.ingest(batch, NOW)).map((o) => ('status' in o ? o.status : o.code))).toEqual(['accepted', 'accepted', 'accepted']);
      expect((await events.ingest(batch, NOW)).map((o) => ('status' in o ? o.status : o.code))).toEqual(['duplicate', 'duplicate', 'duplicate']);
      // Another event id for a click already counted on that offer: accepted, but not a second click.
      expect((await events.ingest([ev('e4', 'click')], NOW)).map((o) => ('status' in o ? o.status : o.code))).toEqual(['accepted']);
    } finally {
      await events.close();
    }
    expect(pick(row('ai', 'c-coffee', 'a-roast'))).toEqual(values({ impressions: 1, clicks: 1, spend: 0.5, spendSq: 0.25, billable: 1 }));
    expect(pick(row('ai', 'c-mugs', 'a-roast'))).toEqual(values({ conversions: 1, conversionValue: 12.5, spend: 3, spendSq: 9, billable: 1 }));
  });

  it('through the event log: a group another sink aborts leaves no count here', async () => {
    let fail = true;
    const failing: AcceptedEventSink = {
      accepted() {
        if (fail) throw new Error('the other sink failed');
      },
      committed() {},
      aborted() {},
    };
    const events = new EventStore(storage.root, {}, { sinks: [counters, failing] });
    try {
      events.logDecision(decision('d1', 'rules'));
      const out = await events.ingest([ev('e1', 'impression'), ev('e2', 'click')], NOW);
      expect(out.map((o) => ('code' in o ? o.code : o.status))).toEqual(['internal', 'internal']);
      fail = false;
      expect((await events.ingest([ev('e3', 'impression', { offerId: 'o2' })], NOW)).map((o) => ('status' in o ? o.status : o.code))).toEqual(['accepted']);
    } finally {
      await events.close();
    }
    expect(row('rules', 'c-coffee', 'a-roast')).toBeUndefined();
    expect(pick(row('rules', 'c-tea', 'a-leaf'))).toEqual(values({ impressions: 1, spend: 0.004, spendSq: 0.004 * 0.004, billable: 1 }));
    // The other sink threw at the group's first event, right after this one counted it: one count dropped.
    expect(counters.stats().eventsDropped).toBe(1);
  });
});

describe('decisions: counted in memory, flushed in one transaction', () => {
  it('counts decisions on the arm row and served offers on each campaign row, only once flushed', async () => {
    counters.recordDecision(decision('d1', 'ai'));
    counters.recordDecision(decision('d2', 'ai', [cpc]));
    counters.recordDecision(decision('d3', 'rules', [cpm, undefined]));
    counters.recordDecision(decision('d4', 'rules', []));
    expect(rows()).toEqual([]);
    expect(counters.stats().decisionsPending).toBe(4);
    await counters.flush();
    expect(counters.stats()).toMatchObject({ decisionsPending: 0, flushes: 1 });
    expect(pick(row('ai', '', ''))).toEqual(values({ decisions: 2 }));
    expect(pick(row('ai', 'c-coffee', 'a-roast'))).toEqual(values({ served: 2 }));
    expect(pick(row('ai', 'c-tea', 'a-leaf'))).toEqual(values({ served: 1 }));
    expect(pick(row('ai', 'c-mugs', 'a-roast'))).toEqual(values({ served: 1 }));
    expect(pick(row('rules', '', ''))).toEqual(values({ decisions: 2, served: 1 }));
    expect(pick(row('rules', 'c-tea', 'a-leaf'))).toEqual(values({ served: 1 }));
    // A second flush adds only what came since.
    counters.recordDecision(decision('d5', 'ai', [cpc]));
    await counters.flush();
    await counters.flush();
    expect(pick(row('ai', '', ''))).toEqual(values({ decisions: 3 }));
    expect(pick(row('ai', 'c-coffee', 'a-roast'))).toEqual(values({ served: 3 }));
  });

  it('decision counts and event counts share rows without losing each other\'s updates', async () => {
    counters.recordDecision(decision('d1', 'ai'));
    const flushed = counters.flush();
    const events = group(counters, () => counters.accepted(ev('e1', 'click'), head(), 0, true));
    await Promise.all([flushed, events]);
    expect(pick(row('ai', 'c-coffee', 'a-roast'))).toEqual(values({ served: 1, clicks: 1, spend: 0.5, spendSq: 0.25, billable: 1 }));
  });

  it('each decision counts on the UTC day of its decision time', async () => {
    counters.recordDecision(decision('d1', 'ai', [cpc], T0));
    counters.recordDecision(decision('d2', 'ai', [cpc], T0 + 86_400_000));
    await counters.flush();
    const days = rows().filter((r) => r.campaign === '').map((r) => [r.day - DAY, r.decisions]);
    expect(days).toEqual([
      [0, 1],
      [1, 1],
    ]);
  });

  it('flushes by itself after flushMs', async () => {
    const quick = new ReportCounters(storage.root, { flushMs: 20 });
    try {
      quick.recordDecision(decision('d1', 'rules', []));
      for (let i = 0; i < 200 && row('rules', '', '') === undefined; i++) await new Promise((r) => setTimeout(r, 10));
      expect(pick(row('rules', '', ''))).toEqual(values({ decisions: 1 }));
    } finally {
      await quick.close();
    }
  });

  it('close() flushes, is idempotent, and later decisions are counted lost; the counts survive a reopen', async () => {
    counters.recordDecision(decision('d1', 'ai', [cpc]));
    const a = counters.close();
    expect(counters.close()).toBe(a);
    await a;
    counters.recordDecision(decision('d2', 'ai', [cpc]));
    expect(counters.stats()).toMatchObject({ decisionsLost: 1, decisionsPending: 0 });
    await storage.close();
    storage = openStorage(dir);
    const ro = openStorage(dir, { readOnly: true });
    try {
      const seen = CounterReader.of(ro.root).rows({}).rows.map((r) => [r.campaign, r.decisions, r.served]);
      expect(seen).toEqual([
        ['', 1, 0],
        ['c-coffee', 0, 1],
      ]);
    } finally {
      await ro.close();
    }
  });
});

describe('options', () => {
  it('flushMs defaults to 1000 and must be an integer in 1..60000', () => {
    expect(validateReportCountersOptions({})).toEqual({ flushMs: 1000 });
    for (const bad of [0, -1, 1.5, 60_001, Number.NaN]) expect(() => validateReportCountersOptions({ flushMs: bad })).toThrow(/flushMs/);
  });
});

describe('reader', () => {
  it('reads nothing from a read-only environment whose writer never kept report counters', async () => {
    const other = await mkdtemp(join(tmpdir(), 'txrank-report-empty-'));
    try {
      await openStorage(other).close();
      const ro = openStorage(other, { readOnly: true });
      try {
        expect(CounterReader.of(ro.root).rows({}).rows).toEqual([]);
      } finally {
        await ro.close();
      }
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
