/**
 * Off-policy evaluation from logged propensities, on a real decision log (LMDB in a temp dir, the EventStore
 * that the server uses): hand-computed IPS and SNIPS values, what counts as the sample, and filters.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../src/catalog/store.js';
import { EventStore, type DecisionRecord } from '../src/events/store.js';
import { TXN_DIM } from '../src/features/spec.js';
import { isGreedyPick, offPolicyEstimate, renderOpe } from '../src/reporting/ope.js';

let dir: string | undefined;
let storage: Storage;
let store: EventStore;

afterEach(async () => {
  if (dir === undefined) return;
  await store.close();
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function setup(): Promise<void> {
  const d = mkdtempSync(join(tmpdir(), 'txrank-ope-'));
  dir = d;
  storage = openStorage(d);
  store = new EventStore(storage.root);
}

let seq = 0;
/** Logs a decision whose slot 1 was picked with `propensity`; returns its id and slot-1 offer. */
function decision(placement: string, propensity: number, policy = 'ai', tenant = 't'): { id: string; offer: string } {
  const id = `d-${++seq}`;
  const rec: DecisionRecord = {
    decisionId: id,
    tenant,
    placement,
    decidedAt: Date.now() - 1000,
    txnFeatures: new Float32Array(TXN_DIM),
    modelVersion: 'm',
    catalogVersion: 1,
    policy,
    shown: [
      { offerId: `o-${seq}-a`, position: 1, p: 0.05, propensity },
      { offerId: `o-${seq}-b`, position: 2, p: 0.04, propensity: 1 },
    ],
  };
  store.logDecision(rec);
  return { id, offer: rec.shown[0].offerId };
}

async function engage(d: { id: string; offer: string }, kinds: ('impression' | 'click')[], tenant = 't'): Promise<void> {
  const out = await store.ingest(kinds.map((kind, i) => ({ tenant, eventId: `${d.id}-${i}`, decisionId: d.id, offerId: d.offer, kind, ts: Date.now() })));
  for (const o of out) expect(o).toMatchObject({ status: 'accepted' });
}

describe('off-policy evaluation', () => {
  it('tells greedy picks from explored ones by propensity alone', () => {
    // (1 - eps) + eps/|P| for the greedy pick, eps/|P| for an explored one, eps <= 0.5, |P| >= 2.
    for (const eps of [0.01, 0.05, 0.2, 0.5]) {
      for (let m = 2; m <= 50; m++) {
        expect(isGreedyPick(1 - eps + eps / m)).toBe(true);
        expect(isGreedyPick(eps / m)).toBe(false);
      }
    }
    expect(isGreedyPick(1)).toBe(true);
  });

  it('estimates the greedy policy by IPS and SNIPS over decisions whose slot 1 was seen', async () => {
    await setup();
    // Greedy slot-1 picks: two at 0.9 (not clicked), two at 0.6 (clicked). Explored: two at 0.05, one clicked.
    await engage(decision('p', 0.9), ['impression']);
    await engage(decision('p', 0.9), ['impression']);
    await engage(decision('p', 0.6), ['impression', 'click']);
    await engage(decision('p', 0.6), ['impression', 'click']);
    await engage(decision('p', 0.05), ['impression', 'click']);
    await engage(decision('p', 0.05), ['impression']);
    // Not in the sample: slot 1 never seen; another placement; another tenant's decision.
    decision('p', 0.9);
    await engage(decision('q', 0.9), ['impression', 'click']);
    await engage(decision('p', 0.9, 'ai', 'u'), ['impression'], 'u');
    await storage.root.committed;

    const rows = offPolicyEstimate(storage.root, { tenant: 't', placement: 'p' });
    expect(rows).toHaveLength(1);
    const r = rows[0];
    expect(r).toMatchObject({ tenant: 't', placement: 'p', arm: 'ai', decisions: 6, explored: 2 });
    expect(r.loggedCtr).toBeCloseTo(3 / 6, 12);
    const sw = 2 / 0.9 + 2 / 0.6;
    const swr = 2 / 0.6;
    expect(r.greedyIps).toBeCloseTo(swr / 6, 12);
    expect(r.greedySnips).toBeCloseTo(swr / sw, 12);
    // Delta-method interval around SNIPS, and the effective sample size.
    const v = 2 * (1 / 0.9) ** 2 * (0 - swr / sw) ** 2 + 2 * (1 / 0.6) ** 2 * (1 - swr / sw) ** 2;
    const se = Math.sqrt(v) / sw;
    expect(r.greedySnipsCi95![0]).toBeCloseTo(Math.max(0, swr / sw - 1.96 * se), 12);
    expect(r.greedySnipsCi95![1]).toBeCloseTo(Math.min(1, swr / sw + 1.96 * se), 12);
    expect(r.effectiveSampleSize).toBeCloseTo(sw ** 2 / (2 / 0.81 + 2 / 0.36), 12);

    // Unfiltered: one row per (tenant, placement, arm), sorted.
    const all = offPolicyEstimate(storage.root);
    expect(all.map((x) => `${x.tenant}/${x.placement}/${x.arm}`)).toEqual(['t/p/ai', 't/q/ai', 'u/p/ai']);
    expect(renderOpe(all)).toContain('greedy CTR (SNIPS)');
  });

  it('equals the logged CTR on a placement that does not explore', async () => {
    await setup();
    for (let i = 0; i < 10; i++) await engage(decision('p', 1, 'rules'), i % 4 === 0 ? ['impression', 'click'] : ['impression']);
    await storage.root.committed;
    const [r] = offPolicyEstimate(storage.root);
    expect(r.arm).toBe('rules');
    expect(r.explored).toBe(0);
    expect(r.greedySnips).toBeCloseTo(r.loggedCtr!, 12);
    expect(r.greedyIps).toBeCloseTo(r.loggedCtr!, 12);
    expect(r.effectiveSampleSize).toBeCloseTo(10, 9);
  });
});
