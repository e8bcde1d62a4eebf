/**
 * Confidence intervals for the twin benchmark (swap-twin.bench.ts), so that a reading is stated with its
 * uncertainty rather than as a single ratio on a noisy machine.
 *
 * Both intervals are percentile bootstraps (resampling with replacement, a fixed seed so that a report is
 * reproducible from its JSON): they assume nothing about the shape of P99's noise, which on a shared 2-vCPU
 * VM is far from normal (a window's P99 jumps when the host steals the CPU for a few milliseconds).
 */
import { linearRegression, mean, quantile, sampleWithReplacement } from 'simple-statistics';
import { Prng } from '../sim/prng.js';

/** A point estimate with its central 95% bootstrap interval. */
export interface Interval {
  estimate: number;
  lo: number;
  hi: number;
}

const RESAMPLES = 10_000;
const SEED = 20261129;

function interval(estimate: number, draws: number[]): Interval {
  return { estimate, lo: quantile(draws, 0.025), hi: quantile(draws, 0.975) };
}

/** Windows' P99 (ms) of each server in one phase. */
export interface PhaseWindows {
  A: readonly number[];
  B: readonly number[];
}

/**
 * What the swaps left behind in P99, as a difference in differences of the windows' log P99:
 * (A after - B after) - (A before - B before), returned as a ratio (1 = nothing left behind). Each of the four
 * groups of windows is resampled on its own: a window is the unit (its P99 rests on ~50 requests at 1,000/s),
 * and ABBA order puts the machine's drift into A and B alike.
 */
export function leftBehindP99(before: PhaseWindows, after: PhaseWindows): Interval {
  const groups = [after.A, after.B, before.A, before.B].map((w) => w.map(Math.log));
  if (groups.some((g) => g.length === 0)) return { estimate: NaN, lo: NaN, hi: NaN };
  const did = (g: number[][]): number => mean(g[0]) - mean(g[1]) - (mean(g[2]) - mean(g[3]));
  const rng = new Prng(SEED);
  const random = (): number => rng.next();
  const draws: number[] = [];
  for (let i = 0; i < RESAMPLES; i++) draws.push(Math.exp(did(groups.map((g) => sampleWithReplacement(g, g.length, random)))));
  return interval(Math.exp(did(groups)), draws);
}

/**
 * The least-squares slope of y over x, per `per` units of x, with a bootstrap over the (x, y) pairs. Used for
 * the creep blocks: log(A/B P99) against swaps done (a multiplicative creep per 1,000 swaps once exp'd) and
 * A - B memory against swaps done (MB per 1,000 swaps).
 */
export function slope(xs: readonly number[], ys: readonly number[], per: number): Interval {
  const pairs = xs.map((x, i): [number, number] => [x, ys[i]]).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (pairs.length < 3 || new Set(pairs.map(([x]) => x)).size < 2) return { estimate: NaN, lo: NaN, hi: NaN };
  const fit = (p: [number, number][]): number => linearRegression(p).m * per;
  const rng = new Prng(SEED);
  const random = (): number => rng.next();
  const draws: number[] = [];
  for (let i = 0; i < RESAMPLES; i++) {
    const sample = sampleWithReplacement(pairs, pairs.length, random);
    // A resample with a single distinct x has no slope; it is drawn again.
    if (new Set(sample.map(([x]) => x)).size < 2) {
      i--;
      continue;
    }
    draws.push(fit(sample));
  }
  return interval(fit(pairs), draws);
}

/**
 * A multiplicative trend: the slope of log(y) over x, as a factor per `per` units of x (1.3 = y grows 30% per
 * `per`), with slope()'s bootstrap interval. y must be positive (latencies, ratios of latencies).
 */
export function factorSlope(xs: readonly number[], ys: readonly number[], per: number): Interval {
  const s = slope(xs, ys.map(Math.log), per);
  return { estimate: Math.exp(s.estimate), lo: Math.exp(s.lo), hi: Math.exp(s.hi) };
}
