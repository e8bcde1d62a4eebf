import { describe, expect, it } from 'vitest';
import { assignArm, holdoutPoint } from '../src/delivery/holdout.js';

describe('holdout split', () => {
  it('is deterministic by buyer key, else by transaction id', () => {
    for (let i = 0; i < 200; i++) {
      const a = assignArm(0.3, 't', 'checkout', `buyer-${i}`, `txn-${i}`);
      // Same buyer, other transactions: same arm.
      expect(assignArm(0.3, 't', 'checkout', `buyer-${i}`, `other-${i}`)).toBe(a);
      const b = assignArm(0.3, 't', 'checkout', undefined, `txn-${i}`);
      expect(assignArm(0.3, 't', 'checkout', undefined, `txn-${i}`)).toBe(b);
    }
  });

  it('sends the configured share to rules, within binomial error', () => {
    for (const share of [0.05, 0.1, 0.5]) {
      const n = 40_000;
      let rules = 0;
      for (let i = 0; i < n; i++) if (assignArm(share, 'freshmart', 'checkout', `b${i}`, 'x') === 'rules') rules++;
      const sd = Math.sqrt((share * (1 - share)) / n);
      expect(Math.abs(rules / n - share)).toBeLessThan(4 * sd);
    }
  });

  it('honours the ends of the range and splits placements independently', () => {
    expect(assignArm(0, 't', 'p', 'b', 'x')).toBe('ai');
    expect(assignArm(1, 't', 'p', 'b', 'x')).toBe('rules');
    let same = 0;
    const n = 10_000;
    for (let i = 0; i < n; i++) if (holdoutPoint('t', 'p1', `b${i}`) < 0.5 === holdoutPoint('t', 'p2', `b${i}`) < 0.5) same++;
    // Independent halves agree about half the time.
    expect(Math.abs(same / n - 0.5)).toBeLessThan(0.03);
  });

  it('gives uniform points (decile counts within 4 sigma)', () => {
    const n = 50_000;
    const bins = new Array(10).fill(0);
    for (let i = 0; i < n; i++) bins[Math.floor(holdoutPoint('t', 'p', `txn:${i}`) * 10)]++;
    const sd = Math.sqrt(n * 0.1 * 0.9);
    for (const c of bins) expect(Math.abs(c - n / 10)).toBeLessThan(4 * sd);
  });
});
