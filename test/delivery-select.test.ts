import { describe, expect, it } from 'vitest';
import type { BidType } from '../src/catalog/types.js';
import { wordsFor } from '../src/delivery/bitset.js';
import { gspPrice } from '../src/delivery/auction.js';
import { candidateLimit, slotPropensity } from '../src/delivery/exploration.js';
import { Selector, selectedBuffer, type SelectionPlacement, type Selected, type SelectorInput } from '../src/delivery/select.js';
import { Prng } from '../src/learning/prng.js';
import { bidScale, CTR_PRIOR } from '../src/ranking/bid-scale.js';

interface RowSpec {
  ev: number;
  adv?: number;
  dept?: number;
  bid?: number;
  type?: BidType;
  mult?: number;
  eligible?: boolean;
}

const GREEDY: SelectionPlacement = {
  floorCpm: 0,
  minRelevance: 0,
  pricing: 'gsp',
  exploration: { epsilon: 0, pool: 10 },
  categoryExclusivity: false,
};

function placement(over: Partial<SelectionPlacement> = {}): SelectionPlacement {
  return { ...GREEDY, ...over };
}

const noRandom = (): number => {
  throw new Error('random() called by a greedy selection');
};

/** Each row its own advertiser and department unless given; cpc bid 1 unless given. */
function input(rows: RowSpec[], pl: SelectionPlacement, k: number, random: () => number = noRandom): SelectorInput {
  const n = rows.length;
  const eligible = new Uint32Array(wordsFor(n));
  const useMult = rows.some((r) => r.mult !== undefined);
  const mult = useMult ? new Float32Array(n) : null;
  const scale = new Float32Array(n);
  const amount = new Float64Array(n);
  const advertiserOf = new Int32Array(n);
  const departmentOf = new Uint8Array(n);
  let advertisers = 0;
  rows.forEach((r, i) => {
    if (r.eligible !== false) eligible[i >>> 5] |= 1 << (i & 31);
    if (mult) mult[i] = r.mult ?? 1;
    const type = r.type ?? 'cpc';
    amount[i] = r.bid ?? 1;
    scale[i] = bidScale({ type, amount: amount[i] });
    advertiserOf[i] = r.adv ?? i;
    departmentOf[i] = r.dept ?? i % 256;
    advertisers = Math.max(advertisers, advertiserOf[i] + 1);
  });
  return {
    ev: Float32Array.from(rows.map((r) => r.ev)),
    offset: 0,
    n,
    mult,
    bidScale: scale,
    bidAmount: amount,
    eligible,
    advertiserOf,
    departmentOf,
    advertiserCount: advertisers,
    placement: pl,
    k,
    random,
  };
}

function run(inp: SelectorInput, selector = new Selector(4)): Selected[] {
  const out = selectedBuffer(inp.k);
  const found = selector.select(inp, out);
  return out.slice(0, found).map((o) => ({ ...o }));
}

const rowsOf = (s: Selected[]): number[] => s.map((o) => o.row);

// ---- A naive reference of the documented semantics (allocates, sorts everything) ----

interface Cand {
  row: number;
  v: number;
  adv: number;
  dept: number;
}

/** Every advertiser's best candidate row, in selection order. */
function referenceCandidates(inp: SelectorInput): Cand[] {
  const best = new Map<number, Cand>();
  const pl = inp.placement;
  for (let i = 0; i < inp.n; i++) {
    const e = inp.ev[inp.offset + i];
    const v = inp.mult ? e * inp.mult[i] : e;
    const eligible = ((inp.eligible[i >>> 5] >>> (i & 31)) & 1) === 1;
    const p = e / inp.bidScale[i];
    const ok = eligible && v > 0 && Number.isFinite(v) && p >= pl.minRelevance && p >= 0 && v * 1000 >= pl.floorCpm && inp.bidAmount[i] > 0;
    if (!ok) continue;
    const a = inp.advertiserOf[i];
    const cur = best.get(a);
    if (!cur || v > cur.v) best.set(a, { row: i, v, adv: a, dept: inp.departmentOf[i] });
  }
  return [...best.values()].sort((x, y) => y.v - x.v || x.row - y.row);
}

/** The exact distribution of the next slot given the rows chosen so far. */
function referenceSlot(inp: SelectorInput, chosen: number[]): Map<number, number> {
  const pl = inp.placement;
  const taken = new Set(chosen);
  const depts = new Set(chosen.map((r) => inp.departmentOf[r]));
  const valid = referenceCandidates(inp).filter((c) => !taken.has(c.row) && !(pl.categoryExclusivity && depts.has(c.dept)));
  const dist = new Map<number, number>();
  if (valid.length === 0) return dist;
  const eps = pl.exploration.epsilon;
  const width = eps > 0 ? Math.min(pl.exploration.pool, valid.length) : 1;
  for (let i = 0; i < width; i++) dist.set(valid[i].row, (i === 0 ? 1 - (width > 1 ? eps : 0) : 0) + (width > 1 ? eps / width : 0));
  return dist;
}

/** Reference prices for a given sequence of chosen rows. */
function referencePrices(inp: SelectorInput, chosen: number[]): number[] {
  const cands = referenceCandidates(inp);
  const vOf = new Map(cands.map((c) => [c.row, c.v]));
  return chosen.map((row, s) => {
    const bid = inp.bidAmount[row];
    if (inp.placement.pricing === 'first') return bid;
    const above = new Set(chosen.slice(0, s + 1));
    const competitor = cands.find((c) => !above.has(c.row))?.v ?? 0;
    const v = vOf.get(row)!;
    const q = v / bid;
    return Math.min(bid, Math.max(inp.placement.floorCpm / 1000 / q, competitor / q));
  });
}

/** Greedy reference: follow the best of each slot's distribution. */
function referenceGreedy(inp: SelectorInput): number[] {
  const chosen: number[] = [];
  for (let j = 0; j < inp.k; j++) {
    const d = referenceSlot(inp, chosen);
    if (d.size === 0) break;
    chosen.push(d.keys().next().value!);
  }
  return chosen;
}

/** Random instance: small value alphabet (many ties), shared advertisers and departments, NaN and negatives. */
function randomInput(rng: Prng, over: { epsilon?: number } = {}): SelectorInput {
  const n = 1 + rng.int(150);
  const advertisers = 1 + rng.int(30);
  const depts = 1 + rng.int(5);
  const types: BidType[] = ['cpm', 'cpc', 'cpa'];
  const useMult = rng.bernoulli(0.5);
  const rows: RowSpec[] = [];
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    const ev = r < 0.03 ? NaN : r < 0.06 ? -0.01 : r < 0.09 ? 0 : (1 + rng.int(12)) * 0.004;
    const type = types[rng.int(3)];
    rows.push({
      ev,
      adv: rng.int(advertisers),
      dept: rng.int(depts),
      type,
      bid: type === 'cpm' ? 1 + rng.int(40) : type === 'cpc' ? 0.1 + rng.int(20) / 10 : 1 + rng.int(30),
      mult: useMult ? (rng.bernoulli(0.05) ? NaN : 0.5 + rng.int(4) * 0.5) : undefined,
      eligible: rng.bernoulli(0.7),
    });
  }
  const pl = placement({
    floorCpm: rng.bernoulli(0.5) ? rng.int(30) : 0,
    minRelevance: rng.bernoulli(0.3) ? rng.next() * 0.05 : 0,
    pricing: rng.bernoulli(0.7) ? 'gsp' : 'first',
    exploration: { epsilon: over.epsilon ?? 0, pool: 2 + rng.int(8) },
    categoryExclusivity: rng.bernoulli(0.4),
  });
  return input(rows, pl, 1 + rng.int(8), () => rng.next());
}

// ---- Tests ----

describe('Selector: candidates', () => {
  it('takes the best by value, best first, with greedy propensity 1', () => {
    const s = run(input([{ ev: 0.01 }, { ev: 0.05 }, { ev: 0.03 }, { ev: 0.09 }], placement(), 3));
    expect(rowsOf(s)).toEqual([3, 1, 2]);
    expect(s.map((o) => o.propensity)).toEqual([1, 1, 1]);
  });

  it('excludes offers below the floor (eCPM) and keeps one exactly at it', () => {
    // floor 3 CPM = 0.003 per impression.
    const s = run(input([{ ev: 0.004 }, { ev: 0.0029 }, { ev: 0.003 }], placement({ floorCpm: 3 }), 3));
    expect(rowsOf(s)).toEqual([0, 2]);
  });

  it('excludes offers below the minimum relevance (p, not value)', () => {
    // p = ev / bidScale: row 0 has high value but p = 0.01 (bid 5); row 1 p = 0.03 (bid 1).
    const s = run(input([{ ev: 0.05, bid: 5 }, { ev: 0.03, bid: 1 }], placement({ minRelevance: 0.02 }), 2));
    expect(rowsOf(s)).toEqual([1]);
    expect(s[0].p).toBeCloseTo(0.03, 7);
  });

  it('never chooses NaN, negative, zero or infinite values, ineligible rows or rows without a bid', () => {
    const rows: RowSpec[] = [
      { ev: NaN },
      { ev: -0.5 },
      { ev: 0 },
      { ev: Infinity },
      { ev: 0.9, eligible: false },
      { ev: 0.8, bid: 0 },
      { ev: 0.7, mult: NaN },
      { ev: -0.6, mult: -1 }, // v = 0.6 but p < 0
      { ev: 0.001 },
    ];
    expect(rowsOf(run(input(rows, placement(), 5)))).toEqual([8]);
  });

  it('ranks by value = ev x mult, and reports model ev and p', () => {
    const s = run(input([{ ev: 0.05, mult: 0.5 }, { ev: 0.03, mult: 1 }, { ev: 0.01, mult: 4 }], placement(), 3));
    expect(rowsOf(s)).toEqual([2, 1, 0]);
    expect(s[0].ev).toBeCloseTo(0.01, 7);
    expect(s[0].value).toBeCloseTo(0.04, 7);
    expect(s[0].p).toBeCloseTo(0.01, 7);
  });

  it('shows at most one offer per advertiser: its best row, the lower row on ties', () => {
    const rows: RowSpec[] = [
      { ev: 0.05, adv: 0 },
      { ev: 0.09, adv: 0 },
      { ev: 0.09, adv: 0 },
      { ev: 0.04, adv: 1 },
      { ev: 0.06, adv: 2 },
    ];
    const s = run(input(rows, placement(), 5));
    expect(rowsOf(s)).toEqual([1, 4, 3]);
  });

  it('an advertiser whose best row is not eligible is represented by its best eligible row', () => {
    const rows: RowSpec[] = [{ ev: 0.09, adv: 0, eligible: false }, { ev: 0.02, adv: 0 }, { ev: 0.03, adv: 1 }];
    expect(rowsOf(run(input(rows, placement(), 3)))).toEqual([2, 1]);
  });

  it('with category exclusivity shows at most one offer per department', () => {
    const rows: RowSpec[] = [
      { ev: 0.09, dept: 1 },
      { ev: 0.08, dept: 1 },
      { ev: 0.07, dept: 2 },
      { ev: 0.06, dept: 1 },
      { ev: 0.05, dept: 3 },
    ];
    expect(rowsOf(run(input(rows, placement({ categoryExclusivity: true }), 3)))).toEqual([0, 2, 4]);
    expect(rowsOf(run(input(rows, placement({ categoryExclusivity: false }), 3)))).toEqual([0, 1, 2]);
  });

  it('with exclusivity still fills every slot when the top candidates crowd into one department', () => {
    // 50 advertisers in department 0 above everything else; k = 3 keeps only 6 candidates in the buffer.
    const rows: RowSpec[] = [];
    for (let i = 0; i < 50; i++) rows.push({ ev: 0.5 - i * 0.001, dept: 0 });
    rows.push({ ev: 0.01, dept: 1 }, { ev: 0.02, dept: 2 }, { ev: 0.015, dept: 1 }, { ev: 0.03, dept: 0 });
    const inp = input(rows, placement({ categoryExclusivity: true }), 3);
    const s = run(inp);
    expect(rowsOf(s)).toEqual([0, 51, 52]);
    expect(rowsOf(s)).toEqual(referenceGreedy(inp));
    // GSP counts the excluded department-0 offers as competitors: slots 2 and 3 pay their bids.
    expect(s.map((o) => o.price)).toEqual(referencePrices(inp, rowsOf(s)));
    expect(s[1].price).toBe(1);
  });

  it('breaks ties by the lower row, deterministically, also across advertisers', () => {
    const rows: RowSpec[] = [{ ev: 0.05 }, { ev: 0.07 }, { ev: 0.05 }, { ev: 0.07 }, { ev: 0.05 }];
    const a = run(input(rows, placement(), 4));
    expect(rowsOf(a)).toEqual([1, 3, 0, 2]);
    // Ties across many rows: the buffer's threshold must not let a later equal row displace an earlier one.
    const many: RowSpec[] = Array.from({ length: 500 }, () => ({ ev: 0.02 }));
    expect(rowsOf(run(input(many, placement(), 5)))).toEqual([0, 1, 2, 3, 4]);
  });

  it('returns fewer than k when candidates run out, and 0 for none', () => {
    expect(rowsOf(run(input([{ ev: 0.02 }, { ev: 0.01 }], placement(), 5)))).toEqual([0, 1]);
    expect(run(input([{ ev: NaN }], placement(), 3))).toEqual([]);
    expect(run(input([], placement(), 3))).toEqual([]);
  });

  it('reads the request row at ev[offset + row], with row-indexed columns', () => {
    const inp = input([{ ev: 0 }, { ev: 0 }, { ev: 0 }], placement(), 2);
    // Two requests' rows in one matrix; the second request prefers row 0.
    inp.ev = Float32Array.from([0.01, 0.02, 0.03, 0.05, 0.01, 0.02]);
    inp.offset = 3;
    expect(rowsOf(run(inp))).toEqual([0, 2]);
  });

  it('agrees with the reference on random inputs (greedy): rows, prices, p', () => {
    const rng = new Prng(11);
    const selector = new Selector(2); // reused across calls and grown: scratch must reset
    const out = selectedBuffer(8);
    for (let t = 0; t < 400; t++) {
      const inp = randomInput(rng);
      inp.random = noRandom;
      const found = selector.select(inp, out);
      const got = out.slice(0, found);
      const want = referenceGreedy(inp);
      expect(got.map((o) => o.row)).toEqual(want);
      const prices = referencePrices(inp, want);
      got.forEach((o, s) => {
        expect(o.price).toBeCloseTo(prices[s], 9);
        expect(o.propensity).toBe(1);
        expect(o.p).toBe(inp.ev[o.row] / inp.bidScale[o.row]);
      });
    }
  });
});

describe('Selector: pricing', () => {
  // r0 cpc 1.00, v 0.05; r1 cpm 20 (bidScale 1), v 0.03; r2 cpa 10 (bidScale 0.5), v 0.01. Floor 5 CPM.
  const rows: RowSpec[] = [
    { ev: 0.05, type: 'cpc', bid: 1 },
    { ev: 0.03, type: 'cpm', bid: 20 },
    { ev: 0.01, type: 'cpa', bid: 10 },
  ];

  it('GSP: each slot pays what it needed to beat the next value, in its own bid unit', () => {
    const s = run(input(rows, placement({ floorCpm: 5 }), 2));
    expect(rowsOf(s)).toEqual([0, 1]);
    // slot 1 (cpc): 0.03 / (0.05 per 1.00 of bid) = 0.60 per click.
    expect(s[0].price).toBeCloseTo(0.6, 6);
    // slot 2 (cpm), priced by the first loser (r2, 0.01): 0.01 / (0.03 / 20) = 6.667 per 1,000 impressions.
    expect(s[1].price).toBeCloseTo(20 / 3, 5);
  });

  it('GSP: the last slot with no loser left is priced by the floor', () => {
    const s = run(input(rows, placement({ floorCpm: 5 }), 3));
    // slot 3 (cpa): 0.005 / (0.01 per 10 of bid) = 5 per conversion.
    expect(s[2].price).toBeCloseTo(5, 5);
    // ... and without a floor it pays nothing (second price with no reserve).
    expect(run(input(rows, placement({ floorCpm: 0 }), 3))[2].price).toBe(0);
  });

  it('GSP: never below the floor when the next value is below it', () => {
    // v 0.05 vs next 0.002, floor 4 CPM: the floor (0.004) sets the price, 0.004 / 0.05 x 1 = 0.08.
    const s = run(input([{ ev: 0.05 }, { ev: 0.002 }], placement({ floorCpm: 4 }), 1));
    expect(s[0].price).toBeCloseTo(0.08, 7);
  });

  it('GSP: the advertiser\'s own second row does not set its price', () => {
    const s = run(input([{ ev: 0.05, adv: 0 }, { ev: 0.04, adv: 0 }, { ev: 0.01, adv: 1 }], placement(), 1));
    expect(s[0].price).toBeCloseTo(0.2, 6); // 0.01 / 0.05
  });

  it('GSP: equal values pay the bid', () => {
    const s = run(input([{ ev: 0.05, bid: 2 }, { ev: 0.05, bid: 2 }], placement(), 1));
    expect(s[0].price).toBe(2);
  });

  it('first price: each offer pays its bid', () => {
    const s = run(input(rows, placement({ pricing: 'first', floorCpm: 5 }), 3));
    expect(s.map((o) => o.price)).toEqual([1, 20, 10]);
  });

  it('gspPrice caps at the bid when the competitor is worth more', () => {
    expect(gspPrice(0.01, 3, 0.05, 0)).toBe(3);
  });

  it('price <= bid and price >= floor, always (random inputs, with and without exploration)', () => {
    const rng = new Prng(5);
    const selector = new Selector();
    const out = selectedBuffer(8);
    let checked = 0;
    for (let t = 0; t < 600; t++) {
      const inp = randomInput(rng, { epsilon: t % 2 === 0 ? 0 : 0.5 });
      const found = selector.select(inp, out);
      for (let s = 0; s < found; s++) {
        const o = out[s];
        const bid = inp.bidAmount[o.row];
        expect(o.price).toBeLessThanOrEqual(bid);
        expect(o.price).toBeGreaterThanOrEqual(0);
        // The value this price buys, per 1,000 impressions, is at least the floor.
        const valueAtPrice = (o.value / bid) * o.price * 1000;
        expect(valueAtPrice).toBeGreaterThanOrEqual(inp.placement.floorCpm * (1 - 1e-12));
        expect(o.propensity).toBeGreaterThan(0);
        expect(o.propensity).toBeLessThanOrEqual(1);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(500);
  });
});

describe('Selector: exploration', () => {
  /** Runs `runs` seeded selections and checks each logged propensity against the exact reference and the
   * empirical conditional frequency of each (slot, offer) choice. */
  function checkPropensities(inp: SelectorInput, runs: number, seed: number, choices: number): void {
    const rng = new Prng(seed);
    inp.random = () => rng.next();
    const selector = new Selector();
    const out = selectedBuffer(inp.k);
    const prefixCount = new Map<string, number>();
    const choiceCount = new Map<string, { n: number; propensity: number; prefix: string }>();
    const fullCount = new Map<string, { n: number; product: number }>();
    const referenceCache = new Map<string, Map<number, number>>();
    for (let t = 0; t < runs; t++) {
      const found = selector.select(inp, out);
      const chosen: number[] = [];
      let product = 1;
      for (let s = 0; s < found; s++) {
        const prefix = chosen.join(',');
        let dist = referenceCache.get(prefix);
        if (!dist) referenceCache.set(prefix, (dist = referenceSlot(inp, chosen)));
        const o = out[s];
        expect(o.propensity).toBeCloseTo(dist.get(o.row) ?? -1, 12);
        product *= o.propensity;
        prefixCount.set(prefix, (prefixCount.get(prefix) ?? 0) + 1);
        const key = `${prefix}|${o.row}`;
        const c = choiceCount.get(key) ?? { n: 0, propensity: o.propensity, prefix };
        c.n++;
        choiceCount.set(key, c);
        chosen.push(o.row);
      }
      // Prices of explored answers still follow the rule.
      const prices = referencePrices(inp, chosen);
      for (let s = 0; s < found; s++) expect(out[s].price).toBeCloseTo(prices[s], 9);
      const full = chosen.join(',');
      const f = fullCount.get(full) ?? { n: 0, product };
      f.n++;
      fullCount.set(full, f);
    }
    let compared = 0;
    // 4.5 standard errors: with a few dozen comparisons, a correct selector fails this by chance with
    // probability ~1e-4 (and the seed is fixed, so it does not flake).
    for (const { n, propensity, prefix } of choiceCount.values()) {
      const total = prefixCount.get(prefix)!;
      if (total < 300) continue;
      const se = Math.sqrt((propensity * (1 - propensity)) / total);
      expect(Math.abs(n / total - propensity)).toBeLessThanOrEqual(4.5 * se + 1e-12);
      compared++;
    }
    for (const { n, product } of fullCount.values()) {
      const se = Math.sqrt((product * (1 - product)) / runs);
      expect(Math.abs(n / runs - product)).toBeLessThanOrEqual(4.5 * se + 1e-12);
    }
    // The joint probabilities of all answers seen sum to about 1 (no answer is impossible under the log).
    const mass = [...fullCount.values()].reduce((acc, f) => acc + f.product, 0);
    expect(mass).toBeLessThanOrEqual(1 + 1e-9);
    expect(mass).toBeGreaterThan(0.97);
    // At least the (prefix, choice) pairs of the first slots were seen often enough to be compared.
    expect(compared).toBeGreaterThanOrEqual(choices);
  }

  it('propensities are exact and match empirical choice frequencies (20,000 seeded runs)', () => {
    const rows: RowSpec[] = [0.09, 0.08, 0.07, 0.06, 0.05, 0.04, 0.03].map((ev) => ({ ev }));
    checkPropensities(input(rows, placement({ exploration: { epsilon: 0.3, pool: 4 } }), 3), 20_000, 1, 20);
  });

  it('... with category exclusivity, shared advertisers and a crowded department', () => {
    const rows: RowSpec[] = [
      { ev: 0.09, dept: 0, adv: 0 },
      { ev: 0.085, dept: 0, adv: 0 },
      { ev: 0.08, dept: 0, adv: 1 },
      { ev: 0.07, dept: 0, adv: 2 },
      { ev: 0.06, dept: 0, adv: 3 },
      { ev: 0.05, dept: 1, adv: 4 },
      { ev: 0.045, dept: 1, adv: 5 },
      { ev: 0.04, dept: 2, adv: 6 },
      { ev: 0.03, dept: 0, adv: 7 },
      { ev: 0.02, dept: 3, adv: 8 },
    ];
    // k = 2, pool = 2: 8 of the 9 advertiser-bests are kept, 5 of them in department 0.
    checkPropensities(input(rows, placement({ categoryExclusivity: true, exploration: { epsilon: 0.5, pool: 2 } }), 2), 20_000, 2, 6);
  });

  it('... when exclusivity rules out the whole candidate list and it is refreshed', () => {
    // 70 advertisers in department 0 above 5 in departments 1-3: the 12 kept candidates are all in
    // department 0, so slots 2 and 3 draw from a refreshed list.
    const rows: RowSpec[] = [];
    for (let i = 0; i < 70; i++) rows.push({ ev: 0.5 - i * 0.001, dept: 0 });
    [0.05, 0.04, 0.03, 0.02, 0.01].forEach((ev, i) => rows.push({ ev, dept: 1 + (i % 3) }));
    const inp = input(rows, placement({ categoryExclusivity: true, exploration: { epsilon: 0.5, pool: 3 } }), 3);
    expect(candidateLimit(3, 3, true)).toBe(12);
    checkPropensities(inp, 20_000, 3, 12);
  });

  it('a pool of one candidate has propensity 1 and draws nothing', () => {
    let draws = 0;
    const s = run(input([{ ev: 0.05 }], placement({ exploration: { epsilon: 0.5, pool: 10 } }), 3, () => (draws++, 0)));
    expect(s.map((o) => o.propensity)).toEqual([1]);
    expect(draws).toBe(0);
  });

  it('explores from the pool when the coin says so', () => {
    // Draws: slot 1 explores (0 < eps) and picks index floor(0.99 x 3) = 2; slot 2 exploits.
    const draws = [0, 0.99, 0.9];
    let d = 0;
    const rows: RowSpec[] = [{ ev: 0.09 }, { ev: 0.08 }, { ev: 0.07 }, { ev: 0.06 }];
    const s = run(input(rows, placement({ exploration: { epsilon: 0.2, pool: 3 } }), 2, () => draws[d++]));
    expect(rowsOf(s)).toEqual([2, 0]);
    expect(s[0].propensity).toBeCloseTo(0.2 / 3, 12);
    expect(s[1].propensity).toBeCloseTo(0.8 + 0.2 / 3, 12);
    // The explored offer jumped over two better ones: it pays its bid under GSP.
    expect(s[0].price).toBe(1);
    // Slot 2 (row 0) is priced by the best not chosen in slots 1-2: row 1 (0.08 / 0.09).
    expect(s[1].price).toBeCloseTo(0.08 / 0.09, 6);
    expect(slotPropensity(true, 0.2, 1)).toBe(1);
  });

  it('keeps max(k + pool, 2k) candidates (x2 with exclusivity), at most 64', () => {
    expect(candidateLimit(3, 10)).toBe(13);
    expect(candidateLimit(5, 2)).toBe(10);
    expect(candidateLimit(20, 50)).toBe(64);
    expect(candidateLimit(3, 0, true)).toBe(12); // doubled with category exclusivity
  });
});

describe('Selector: the rules arm', () => {
  it('ranks by static bid eCPM with the same floors, exclusion and prices, propensity 1', () => {
    // The rules policy's value: bid eCPM under the priors, per impression (p = CTR_PRIOR for every offer).
    const bids: { type: BidType; bid: number; adv: number }[] = [
      { type: 'cpm', bid: 12, adv: 0 }, // 0.012
      { type: 'cpc', bid: 0.5, adv: 1 }, // 0.5 x 0.02 = 0.010
      { type: 'cpa', bid: 15, adv: 1 }, // 15 x 0.05 x 0.02 = 0.015, advertiser 1's best
      { type: 'cpm', bid: 2, adv: 2 }, // 0.002: below the 3 CPM floor
      { type: 'cpc', bid: 0.3, adv: 3 }, // 0.006
    ];
    const rows: RowSpec[] = bids.map((b) => ({ ev: CTR_PRIOR * bidScale({ type: b.type, amount: b.bid }), type: b.type, bid: b.bid, adv: b.adv }));
    const inp = input(rows, placement({ floorCpm: 3, minRelevance: 0.01 }), 3);
    const s = run(inp);
    expect(rowsOf(s)).toEqual([2, 0, 4]);
    for (const o of s) {
      expect(o.p).toBeCloseTo(CTR_PRIOR, 6);
      expect(o.propensity).toBe(1);
    }
    // cpa 15 priced by 0.012: 15 x 0.012 / 0.015 = 12 per conversion; cpm 12 priced by 0.006: 6 CPM; cpc
    // 0.3 priced by the floor (the only loser is below it): 0.3 x 0.003 / 0.006 = 0.15.
    expect(s[0].price).toBeCloseTo(12, 4);
    expect(s[1].price).toBeCloseTo(6, 4);
    expect(s[2].price).toBeCloseTo(0.15, 6);
  });
});

describe('Selector: reuse', () => {
  it('gives the same answer fresh or reused, and grows for more advertisers', () => {
    const rng = new Prng(3);
    const shared = new Selector(1);
    for (let t = 0; t < 100; t++) {
      const inp = randomInput(rng);
      inp.random = noRandom;
      expect(run(inp, shared)).toEqual(run(inp, new Selector(inp.advertiserCount)));
    }
  });

  it('refuses a bitset too short for n rows', () => {
    const inp = input([{ ev: 0.1 }], placement(), 1);
    inp.n = 40;
    expect(() => new Selector().select(inp, selectedBuffer(1))).toThrow(/bitset/);
  });
});
