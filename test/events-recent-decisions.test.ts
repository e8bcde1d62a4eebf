/**
 * The recent-decision cache (src/events/recent-decisions.ts): an entry is the decision's head in bytes plus
 * its event count and seen flags; a hit decodes the head as logged, and counts and flags written through one
 * hit are seen by the next; first in, first out past the capacity; a full intern table empties the cache.
 */
import { describe, expect, it } from 'vitest';
import { TXN_DIM } from '../src/features/spec.js';
import { MAX_INTERNED, RecentDecisions } from '../src/events/recent-decisions.js';
import type { DecisionRecord } from '../src/events/types.js';

function record(id: string, over: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    decisionId: id,
    tenant: 'freshmart',
    placement: 'checkout',
    decidedAt: 1_764_417_600_123.5,
    buyer: 'b-1',
    txnFeatures: new Float32Array(TXN_DIM).fill(0.5),
    modelVersion: 'tt-1-00000000',
    catalogVersion: 3,
    policy: 'rules',
    shown: [
      { offerId: 'fm-1', position: 1, p: 0.1, propensity: 1, billing: { campaign: 'c-1', advertiser: 'a-1', bidType: 'cpc', price: 0.42 } },
      { offerId: 'fm-ü', position: 2, p: 0.2, propensity: 0.5, billing: { campaign: 'c-2', advertiser: 'a-2', bidType: 'cpm', price: 3 } },
    ],
    ...over,
  };
}

function add(cache: RecentDecisions, rec: DecisionRecord): void {
  cache.add(rec);
}

describe('RecentDecisions', () => {
  it('a hit gives the head as logged, with no events yet', () => {
    const cache = new RecentDecisions(10);
    const rec = record('d-1');
    add(cache, rec);
    const hit = cache.get('d-1');
    expect(hit).toBeDefined();
    expect({ ...hit, seen: [...(hit?.seen ?? [])] }).toMatchObject({
      tenant: 'freshmart',
      placement: 'checkout',
      decidedAt: rec.decidedAt,
      policy: 'rules',
      offerIds: ['fm-1', 'fm-ü'],
      billing: rec.shown.map((s) => s.billing),
      seen: [0, 0],
    });
    expect(hit?.events).toBe(0);
    expect(cache.get('d-2')).toBeUndefined();
  });

  it('event counts and seen flags written through one hit are seen by the next, per decision', () => {
    const cache = new RecentDecisions(10);
    add(cache, record('d-1'));
    add(cache, record('d-2', { shown: [{ offerId: 'x', position: 1, p: 0.5, propensity: 1 }] }));
    const a = cache.get('d-1');
    if (!a) throw new Error('missing');
    a.events++;
    a.events++;
    a.seen[1] |= 4;
    const again = cache.get('d-1');
    expect(again?.events).toBe(2);
    expect([...(again?.seen ?? [])]).toEqual([0, 4]);
    // The other entry is untouched; a record without billing reads back as nulls.
    const b = cache.get('d-2');
    expect(b?.events).toBe(0);
    expect([...(b?.seen ?? [])]).toEqual([0]);
    expect(b?.billing).toEqual([null]);
  });

  it('keeps at most `capacity` decisions, dropping the oldest logged; delete and capacity 0', () => {
    const cache = new RecentDecisions(3);
    for (let i = 0; i < 5; i++) add(cache, record(`d-${i}`));
    expect(cache.size).toBe(3);
    expect(cache.get('d-0')).toBeUndefined();
    expect(cache.get('d-1')).toBeUndefined();
    expect(cache.get('d-4')?.offerIds).toEqual(['fm-1', 'fm-ü']);
    cache.delete('d-3');
    expect(cache.get('d-3')).toBeUndefined();
    expect(cache.size).toBe(2);
    const off = new RecentDecisions(0);
    add(off, record('d-9'));
    expect(off.size).toBe(0);
    expect(off.get('d-9')).toBeUndefined();
  });

  it('an entry does not share the record it was made from', () => {
    const cache = new RecentDecisions(2);
    const rec = record('d-1');
    add(cache, rec);
    rec.shown[0].offerId = 'changed';
    rec.tenant = 'changed';
    expect(cache.get('d-1')).toMatchObject({ tenant: 'freshmart', offerIds: ['fm-1', 'fm-ü'] });
  });

  it('past MAX_INTERNED distinct strings the cache starts over, and then serves new decisions again', () => {
    const perDecision = 4; // two offers, each with its own campaign and advertiser
    const count = Math.ceil(MAX_INTERNED / perDecision) + 10;
    const cache = new RecentDecisions(count * 2);
    const unique = (i: number): DecisionRecord =>
      record(`d-${i}`, {
        shown: [0, 1].map((k) => ({ offerId: `o-${k}`, position: k + 1, p: 0.1, propensity: 1, billing: { campaign: `c-${i}-${k}`, advertiser: `a-${i}-${k}`, bidType: 'cpa' as const, price: 2 } })),
      });
    for (let i = 0; i < count; i++) add(cache, unique(i));
    expect(cache.size).toBeLessThan(count);
    expect(cache.get('d-0')).toBeUndefined();
    const last = cache.get(`d-${count - 1}`);
    expect(last?.billing[1]).toEqual({ campaign: `c-${count - 1}-1`, advertiser: `a-${count - 1}-1`, bidType: 'cpa', price: 2 });
  });
});
