import { describe, expect, it } from 'vitest';
import { leftBehindP99, slope } from '../bench/load/twin-stats.js';

describe('twin benchmark intervals', () => {
  const windows = [10.2, 11.8, 9.7, 12.4, 10.9, 11.1];

  it('reads nothing left behind when A and B move together', () => {
    const before = { A: windows, B: windows.map((w) => w * 1.1) };
    const after = { A: windows.map((w) => w * 2), B: windows.map((w) => w * 2.2) };
    const r = leftBehindP99(before, after);
    expect(r.estimate).toBeCloseTo(1, 6);
    expect(r.lo).toBeLessThanOrEqual(1);
    expect(r.hi).toBeGreaterThanOrEqual(1);
  });

  it('reads what A alone gained after, with an interval around it', () => {
    const before = { A: windows, B: windows };
    const after = { A: windows.map((w) => w * 1.5), B: windows };
    const r = leftBehindP99(before, after);
    expect(r.estimate).toBeCloseTo(1.5, 6);
    expect(r.lo).toBeLessThan(r.estimate);
    expect(r.hi).toBeGreaterThan(r.estimate);
    expect(r.lo).toBeGreaterThan(1);
  });

  it('gives a slope per unit asked, exact on a line and zero on a flat series', () => {
    const xs = [100, 200, 300, 400, 500];
    const line = slope(xs, xs.map((x) => 5 + 0.03 * x), 1000);
    expect(line.estimate).toBeCloseTo(30, 6);
    expect(line.lo).toBeCloseTo(30, 6);
    expect(line.hi).toBeCloseTo(30, 6);
    const flat = slope(xs, [7, 7, 7, 7, 7], 1000);
    expect(flat.estimate).toBeCloseTo(0, 9);
  });

  it('has no slope without two distinct x, and skips values that are not finite', () => {
    expect(slope([100, 100, 100], [1, 2, 3], 1000).estimate).toBeNaN();
    const r = slope([100, 200, 300, 400], [1, Number.NaN, 3, 4], 1);
    expect(r.estimate).toBeCloseTo(0.01, 6);
  });
});
