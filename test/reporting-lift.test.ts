/**
 * The lift statistics against values worked out by hand (the arithmetic is in the comments).
 */
import { describe, expect, it } from 'vitest';
import { moneyRateLift, proportionLift, Z95 } from '../src/reporting/lift.js';

describe('proportionLift: delta method on the log ratio', () => {
  it('CTR 60/1000 vs 40/1000: +50%, 95% CI [+1.52%, +121.63%]', () => {
    // p1 = 0.06, p2 = 0.04, lift = 0.06 / 0.04 - 1 = 0.5
    // var = (1 - 0.06) / 60 + (1 - 0.04) / 40 = 0.0156667 + 0.024 = 0.0396667, se = 0.1991649
    // log(1.5) = 0.4054651; 1.96 se = 0.3903633
    // lo = exp(0.0151018) - 1 = 0.0152165; hi = exp(0.7958284) - 1 = 1.2162761
    const f = proportionLift({ x: 60, n: 1000 }, { x: 40, n: 1000 });
    expect(f.ai).toBeCloseTo(0.06, 12);
    expect(f.rules).toBeCloseTo(0.04, 12);
    expect(f.lift).toBeCloseTo(0.5, 12);
    expect(f.ci95).not.toBeNull();
    const [lo, hi] = f.ci95 as [number, number];
    expect(lo).toBeCloseTo(0.0152165, 6);
    expect(hi).toBeCloseTo(1.2162761, 6);
  });

  it('is symmetric on the log scale: swapping the arms inverts the ratio and its interval', () => {
    const a = proportionLift({ x: 60, n: 1000 }, { x: 40, n: 1000 });
    const b = proportionLift({ x: 40, n: 1000 }, { x: 60, n: 1000 });
    const [alo, ahi] = a.ci95 as [number, number];
    const [blo, bhi] = b.ci95 as [number, number];
    expect(1 + (b.lift as number)).toBeCloseTo(1 / (1 + (a.lift as number)), 12);
    expect(1 + blo).toBeCloseTo(1 / (1 + ahi), 12);
    expect(1 + bhi).toBeCloseTo(1 / (1 + alo), 12);
  });

  it('a lift whose interval spans 0 with small counts: 3/100 vs 2/100', () => {
    // var = 0.97 / 3 + 0.98 / 2 = 0.3233333 + 0.49 = 0.8133333, se = 0.9018499; log 1.5 = 0.4054651
    // lo = exp(0.4054651 - 1.7676258) - 1 = exp(-1.3621607) - 1 = -0.7438932
    // hi = exp(2.1730909) - 1 = 7.7853979
    const f = proportionLift({ x: 3, n: 100 }, { x: 2, n: 100 });
    const [lo, hi] = f.ci95 as [number, number];
    expect(lo).toBeCloseTo(-0.7438932, 6);
    expect(hi).toBeCloseTo(7.7853979, 5);
  });

  it('no interval when a count is 0; no lift when the rules rate is 0 or unknown', () => {
    expect(proportionLift({ x: 0, n: 100 }, { x: 5, n: 100 })).toEqual({ ai: 0, rules: 0.05, lift: -1, ci95: null });
    expect(proportionLift({ x: 5, n: 100 }, { x: 0, n: 100 })).toEqual({ ai: 0.05, rules: 0, lift: null, ci95: null });
    expect(proportionLift({ x: 5, n: 100 }, { x: 0, n: 0 })).toEqual({ ai: 0.05, rules: null, lift: null, ci95: null });
    expect(proportionLift({ x: 0, n: 0 }, { x: 0, n: 0 })).toEqual({ ai: null, rules: null, lift: null, ci95: null });
  });

  it('no interval when a rate is above 1 (not a proportion), but the lift is still given', () => {
    const f = proportionLift({ x: 12, n: 10 }, { x: 5, n: 10 });
    expect(f.lift).toBeCloseTo(1.4, 12);
    expect(f.ci95).toBeNull();
  });

  it('the z is a parameter (1.96 by default)', () => {
    expect(Z95).toBe(1.96);
    const wide = proportionLift({ x: 60, n: 1000 }, { x: 40, n: 1000 }, 2.576).ci95 as [number, number];
    const normal = proportionLift({ x: 60, n: 1000 }, { x: 40, n: 1000 }).ci95 as [number, number];
    expect(wide[0]).toBeLessThan(normal[0]);
    expect(wide[1]).toBeGreaterThan(normal[1]);
  });
});

describe('moneyRateLift: compound Poisson on the log ratio', () => {
  it('RPM with one CPC price equals the Poisson interval of the billable counts', () => {
    // ai: 60 clicks at 0.50 = 30.00 spend, Σc² = 60 x 0.25 = 15, 1000 impressions -> RPM 30
    // rules: 40 clicks at 0.50 = 20.00, Σc² = 10, 1000 impressions -> RPM 20; lift 0.5
    // var = 15 / 900 + 10 / 400 = 1/60 + 1/40 = 0.0416667, se = 0.2041241; 1.96 se = 0.4000833
    // lo = exp(0.4054651 - 0.4000833) - 1 = 0.0053963; hi = exp(0.8055484) - 1 = 1.2379235
    const f = moneyRateLift({ spend: 30, spendSq: 15, exposure: 1000 }, { spend: 20, spendSq: 10, exposure: 1000 });
    expect(f.ai).toBeCloseTo(30, 12);
    expect(f.rules).toBeCloseTo(20, 12);
    expect(f.lift).toBeCloseTo(0.5, 12);
    const [lo, hi] = f.ci95 as [number, number];
    expect(lo).toBeCloseTo(0.0053963, 6);
    expect(hi).toBeCloseTo(1.2379235, 6);
  });

  it('mixed prices widen the interval (same spend, more of it in few large charges)', () => {
    const even = moneyRateLift({ spend: 30, spendSq: 15, exposure: 1000 }, { spend: 20, spendSq: 10, exposure: 1000 }).ci95 as [number, number];
    // ai's 30.00 as 2 charges of 10 and 20 small ones of 0.5: Σc² = 200 + 5 = 205
    const lumpy = moneyRateLift({ spend: 30, spendSq: 205, exposure: 1000 }, { spend: 20, spendSq: 10, exposure: 1000 }).ci95 as [number, number];
    expect(lumpy[0]).toBeLessThan(even[0]);
    expect(lumpy[1]).toBeGreaterThan(even[1]);
  });

  it('no interval without spend on both arms; no rate without impressions', () => {
    expect(moneyRateLift({ spend: 0, spendSq: 0, exposure: 100 }, { spend: 2, spendSq: 4, exposure: 100 })).toEqual({ ai: 0, rules: 20, lift: -1, ci95: null });
    expect(moneyRateLift({ spend: 1, spendSq: 1, exposure: 0 }, { spend: 2, spendSq: 4, exposure: 100 })).toEqual({ ai: null, rules: 20, lift: null, ci95: null });
  });
});
