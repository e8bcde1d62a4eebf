/**
 * Frequency caps: the worker-side check (windows, the three scopes, several caps), the main-thread history
 * store on a real LMDB environment (bound on entries, age limit, LRU eviction with read-through, durability),
 * and the cold-start boost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../src/catalog/store.js';
import type { Campaign, FrequencyCap } from '../src/catalog/types.js';
import { buildCapIndex, cappedFor, newCapped } from '../src/delivery/caps.js';
import { coldStartBoost } from '../src/delivery/cold-start.js';
import { decodeHistory, encodeHistory, FrequencyStore } from '../src/delivery/frequency.js';
import type { ServedEntry } from '../src/delivery/types.js';

const H = 3_600_000;
const NOW = 1_750_000_000_000;

function served(offerId: string, campaign: string, advertiser: string, agoMs: number): ServedEntry {
  return { offerId, campaign, advertiser, ts: NOW - agoMs };
}

function camp(id: string, advertiser: string, frequencyCaps: FrequencyCap[]): Pick<Campaign, 'id' | 'advertiser' | 'frequencyCaps'> {
  return { id, advertiser, frequencyCaps };
}

describe('cappedFor', () => {
  const out = newCapped();

  it('caps an offer served max times within its window, and not when the servings are older', () => {
    const index = buildCapIndex([camp('c1', 'a1', [{ scope: 'offer', max: 2, windowMs: 24 * H }])]);
    const inside = [served('o1', 'c1', 'a1', 23 * H), served('o1', 'c1', 'a1', 1 * H), served('o2', 'c1', 'a1', 1 * H)];
    cappedFor(inside, NOW, index, out);
    expect([...out.offers]).toEqual(['o1']);
    expect(out.size).toBe(1);
    // One of the two servings of o1 falls out of the window: below max again.
    const aged = [served('o1', 'c1', 'a1', 24 * H), served('o1', 'c1', 'a1', 1 * H)];
    cappedFor(aged, NOW, index, out);
    expect(out.size).toBe(0);
  });

  it('caps a campaign on its offers together, and only the campaign that declares the cap', () => {
    const index = buildCapIndex([
      camp('c1', 'a1', [{ scope: 'campaign', max: 3, windowMs: 7 * 24 * H }]),
      camp('c2', 'a1', []),
    ]);
    const h = [served('o1', 'c1', 'a1', 5 * H), served('o2', 'c1', 'a1', 4 * H), served('o3', 'c1', 'a1', 3 * H), served('o4', 'c2', 'a1', 1 * H), served('o5', 'c2', 'a1', 1 * H), served('o6', 'c2', 'a1', 1 * H)];
    cappedFor(h, NOW, index, out);
    expect([...out.campaigns]).toEqual(['c1']);
    expect(out.offers.size + out.advertisers.size).toBe(0);
    cappedFor(h.slice(1), NOW, index, out);
    expect(out.size).toBe(0);
  });

  it('caps an advertiser on servings of all its campaigns, whichever campaign declares the cap', () => {
    const index = buildCapIndex([
      camp('c1', 'a1', [{ scope: 'advertiser', max: 2, windowMs: H }]),
      camp('c2', 'a1', []),
      camp('c3', 'a2', []),
    ]);
    // c1 itself was never served: two c2 offers of the same advertiser within the hour reach the cap.
    const h = [served('o4', 'c2', 'a1', 30 * 60_000), served('o5', 'c2', 'a1', 10 * 60_000), served('o9', 'c3', 'a2', 1000)];
    cappedFor(h, NOW, index, out);
    expect([...out.advertisers]).toEqual(['a1']);
    expect(out.campaigns.size + out.offers.size).toBe(0);
    cappedFor(h, NOW + 31 * 60_000, index, out); // the first serving has left the window
    expect(out.size).toBe(0);
  });

  it('applies every cap of a campaign (short and long windows) and ignores caps that say nothing', () => {
    const index = buildCapIndex([
      camp('c1', 'a1', [
        { scope: 'campaign', max: 1, windowMs: 10 * 60_000 },
        { scope: 'campaign', max: 3, windowMs: 24 * H },
        { scope: 'offer', max: 0, windowMs: H }, // never valid; dropped
      ]),
    ]);
    expect(index.byCampaign.get('c1')).toHaveLength(2);
    cappedFor([served('o1', 'c1', 'a1', 20 * 60_000)], NOW, index, out);
    expect(out.size).toBe(0);
    cappedFor([served('o1', 'c1', 'a1', 5 * 60_000)], NOW, index, out);
    expect([...out.campaigns]).toEqual(['c1']);
    cappedFor([served('o1', 'c1', 'a1', 20 * H), served('o2', 'c1', 'a1', 10 * H), served('o1', 'c1', 'a1', 2 * H)], NOW, index, out);
    expect([...out.campaigns]).toEqual(['c1']);
    cappedFor([], NOW, index, out);
    expect(out.size).toBe(0);
  });
});

describe('FrequencyStore', () => {
  let dir: string;
  let storage: Storage;
  let clock: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'txrank-freq-'));
    storage = openStorage(dir);
    clock = NOW;
  });
  afterEach(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const store = (opts: { maxEntries?: number; cacheBuyers?: number; maxAgeMs?: number } = {}) => new FrequencyStore(storage.root, { ...opts, now: () => clock });

  it('records servings per tenant and buyer and keeps old snapshots unchanged', () => {
    const f = store();
    expect(f.history('t1', 'b1')).toEqual([]);
    f.recordServed('t1', 'b1', [served('o1', 'c1', 'a1', 0), served('o2', 'c2', 'a1', 0)]);
    const first = f.history('t1', 'b1');
    f.recordServed('t1', 'b1', [served('o3', 'c1', 'a1', 0)]);
    expect(first.map((e) => e.offerId)).toEqual(['o1', 'o2']);
    expect(f.history('t1', 'b1').map((e) => e.offerId)).toEqual(['o1', 'o2', 'o3']);
    expect(f.history('t2', 'b1')).toEqual([]);
    expect(f.history('t1', 'b2')).toEqual([]);
  });

  it('keeps at most maxEntries (the newest) and drops entries older than maxAgeMs', () => {
    const f = store({ maxEntries: 5, maxAgeMs: 24 * H });
    for (let i = 0; i < 8; i++) f.recordServed('t', 'b', [served(`o${i}`, 'c', 'a', (8 - i) * 1000)]);
    expect(f.history('t', 'b').map((e) => e.offerId)).toEqual(['o3', 'o4', 'o5', 'o6', 'o7']);
    clock = NOW + 24 * H - 3500; // o3 and o4 are now more than a day old
    f.recordServed('t', 'b', [served('o8', 'c', 'a', -clock + NOW)]);
    expect(f.history('t', 'b').map((e) => e.offerId)).toEqual(['o5', 'o6', 'o7', 'o8']);
  });

  it('evicts the least recently used buyer and reads it back from LMDB', async () => {
    const f = store({ cacheBuyers: 2 });
    f.recordServed('t', 'b1', [served('o1', 'c', 'a', 10)]);
    f.recordServed('t', 'b2', [served('o2', 'c', 'a', 10)]);
    f.history('t', 'b1'); // b1 is now more recent than b2
    f.recordServed('t', 'b3', [served('o3', 'c', 'a', 10)]); // evicts b2
    expect(f.stats.cached).toBe(2);
    await storage.root.committed;
    const misses = f.stats.misses;
    expect(f.history('t', 'b2')).toEqual([served('o2', 'c', 'a', 10)]);
    expect(f.stats.misses).toBe(misses + 1);
    // Reading b2 back made it the most recent and evicted b1 (least recently used); b3 is still cached.
    expect(f.history('t', 'b3')).toEqual([served('o3', 'c', 'a', 10)]);
    expect(f.stats.misses).toBe(misses + 1);
    expect(f.history('t', 'b1')).toEqual([served('o1', 'c', 'a', 10)]);
    expect(f.stats.misses).toBe(misses + 2);
    expect(f.stats.cached).toBe(2);
    // b2 has been evicted again; appending to it reads it back first and keeps what was there.
    f.recordServed('t', 'b2', [served('o4', 'c', 'a', 5)]);
    expect(f.stats.misses).toBe(misses + 3);
    expect(f.history('t', 'b2').map((e) => e.offerId)).toEqual(['o2', 'o4']);
    expect(f.stats.writesLost).toBe(0);
  });

  it('survives a restart', async () => {
    let f = store();
    f.recordServed('t', 'b', [served('o1', 'c1', 'a1', 100), served('o2', 'c2', 'a1', 100)]);
    f.close();
    expect(() => f.history('t', 'b')).toThrow(/closed/);
    await storage.close();
    storage = openStorage(dir);
    f = store();
    expect(f.history('t', 'b')).toEqual([served('o1', 'c1', 'a1', 100), served('o2', 'c2', 'a1', 100)]);
  });

  it('stores a full history compactly and decodes it exactly', () => {
    const h: ServedEntry[] = [];
    for (let i = 0; i < 64; i++) h.push(served(`offer-${String(i).padStart(6, '0')}`, `campaign-${i % 4}`, `advertiser-${i % 2}`, (64 - i) * 60_000 + 0.5));
    const bytes = encodeHistory(h);
    expect(decodeHistory(bytes)).toEqual(h);
    expect(bytes.length).toBeLessThan(2048);
  });
});

describe('coldStartBoost', () => {
  it('starts at 1 + b, halves the extra after 3 x n0 impressions and decays towards 1, never below', () => {
    expect(coldStartBoost(0)).toBe(1.5);
    expect(coldStartBoost(600)).toBeCloseTo(1.25, 12);
    expect(coldStartBoost(19_800)).toBeCloseTo(1.05, 12);
    let prev = Infinity;
    for (const n of [0, 1, 10, 100, 1e3, 1e4, 1e6, 1e9]) {
      const b = coldStartBoost(n);
      expect(b).toBeLessThan(prev);
      expect(b).toBeGreaterThanOrEqual(1);
      prev = b;
    }
    expect(coldStartBoost(0, { b: 1, n0: 50 })).toBe(2);
    expect(coldStartBoost(-5)).toBe(1.5);
  });
});
