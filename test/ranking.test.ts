import { describe, expect, it } from 'vitest';
import { topK, type EligibilityColumns } from '../src/ranking/top-k.js';
import { bidScale, CTR_PRIOR, CVR_PRIOR } from '../src/ranking/bid-scale.js';

function eligible(n: number): EligibilityColumns {
  return { active: new Uint8Array(n).fill(1), start: new Float64Array(n).fill(0), end: new Float64Array(n).fill(Infinity) };
}

function run(ev: number[], k: number, elig = eligible(ev.length), now = 1000, offset = 0) {
  const out = new Int32Array(20);
  const outEv = new Float64Array(20);
  const found = topK(Float32Array.from(ev), offset, ev.length - offset, elig, now, k, out, outEv);
  return Array.from(out.subarray(0, found));
}

describe('topK', () => {
  it('returns the k best rows, best first', () => {
    expect(run([0.1, 0.5, 0.3, 0.9, 0.2], 3)).toEqual([3, 1, 2]);
  });

  it('agrees with a full sort on random input', () => {
    let seed = 1;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let t = 0; t < 50; t++) {
      const ev = Array.from({ length: 500 }, () => Math.fround(rnd()));
      const expected = ev.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 7).map((x) => x[1]);
      expect(run(ev, 7)).toEqual(expected);
    }
  });

  it('breaks ties by the lower row (offer id order), deterministically', () => {
    expect(run([0.5, 0.7, 0.5, 0.7, 0.5], 4)).toEqual([1, 3, 0, 2]);
  });

  it('skips inactive offers and offers outside their flight', () => {
    const elig = eligible(4);
    elig.active[0] = 0;
    elig.start[1] = 2000; // not started at now=1000
    elig.end[2] = 1000; // ended exactly now
    expect(run([0.9, 0.8, 0.7, 0.1], 3, elig)).toEqual([3]);
  });

  it('never picks offers worth nothing or NaN', () => {
    expect(run([0, NaN, -1, 0.2], 3)).toEqual([3]);
  });
});

describe('bidScale', () => {
  it('puts CPC, CPA and CPM on the per-click scale', () => {
    expect(bidScale({ type: 'cpc', amount: 1.5 })).toBe(1.5);
    expect(bidScale({ type: 'cpa', amount: 20 })).toBeCloseTo(20 * CVR_PRIOR);
    // An average-relevance CPM offer (p = CTR_PRIOR) is worth exactly its per-impression price.
    expect(CTR_PRIOR * bidScale({ type: 'cpm', amount: 10 })).toBeCloseTo(10 / 1000);
  });
});
