import { describe, expect, it } from 'vitest';
import { Prng } from '../src/learning/prng.js';

describe('Prng', () => {
  it('gives the same stream for the same seed and a different one for another seed', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const sa = Array.from({ length: 20 }, () => a.nextU32());
    expect(Array.from({ length: 20 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.nextU32())).not.toEqual(sa);
  });

  it('pins the first outputs of seed 7, so a change to the generator (and to every model) is noticed', () => {
    const r = new Prng(7);
    const got = [r.nextU32(), r.nextU32(), r.nextU32()];
    // Recorded from this implementation; the shipped model's reproducibility depends on it not changing.
    expect(got).toEqual(PINNED_SEED_7);
  });

  it('draws uniforms in [0, 1), integers in range and normals with mean 0 and sd 1', () => {
    const r = new Prng(1);
    let sum = 0;
    let sq = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      expect(u >= 0 && u < 1).toBe(true);
      const k = r.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
      const z = r.normal();
      sum += z;
      sq += z * z;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.05);
  });

  it('weighted() follows the weights and never picks a zero weight', () => {
    const r = new Prng(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[r.weighted([1, 0, 3])]++;
    expect(counts[1]).toBe(0);
    expect(counts[2] / counts[0]).toBeGreaterThan(2.7);
    expect(counts[2] / counts[0]).toBeLessThan(3.3);
  });

  it('shuffle is a permutation', () => {
    const a = Array.from({ length: 50 }, (_, i) => i);
    new Prng(5).shuffle(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

const PINNED_SEED_7 = [838155491, 1550620431, 3610122010];
