/**
 * Pacing: the plan, the per-request budget check, and the controller run against a simulated day of
 * spend (deterministic: expected spend per second, no randomness, no timers). The simulation plays the
 * ledger's part by writing spend into the campaign table, and the workers' part by spending r x demand.
 */
import { describe, expect, it } from 'vitest';
import type { Campaign } from '../src/catalog/types.js';
import { CampaignTable, newSlotValues, utcDay, type SlotValues } from '../src/delivery/campaign-table.js';
import { eligibleBudget, nextThrottle, PACING_DEFAULTS, PacingController, plan, resolvePacingOptions, type PacedCampaign } from '../src/delivery/pacing.js';

const DAY = 86_400_000;
const MIDNIGHT = 20_100 * DAY;

function campaign(id: string, over: Partial<Campaign> = {}): PacedCampaign {
  return { tenant: 't', id, budget: { daily: 100 }, pacing: 'even', start: 0, end: Number.POSITIVE_INFINITY, ...over };
}

function values(over: Partial<SlotValues>): SlotValues {
  return { ...newSlotValues(), ...over };
}

/**
 * Runs one simulated UTC day at 1 s ticks. demand(s): money per second the campaign would spend at r = 1,
 * s = seconds since midnight. Returns spend and throttle at each hour.
 */
function simulateDay(c: PacedCampaign, demand: (s: number) => number, start = MIDNIGHT) {
  const table = CampaignTable.create({ capacity: 4 });
  const pacing = new PacingController(table);
  const slot = table.slotOf(c.tenant, c.id);
  const v = newSlotValues();
  let spent = 0;
  const hourly: { spent: number; plan: number; r: number }[] = [];
  let minR = 1;
  for (let s = 0; s < 86_400; s++) {
    const now = start + s * 1000;
    pacing.update([c], now);
    table.read(slot, v);
    minR = Math.min(minR, v.throttle);
    const daily = c.budget.daily ?? Infinity;
    // Workers serve with probability r; the ledger clamps at the daily budget.
    spent = Math.min(daily, spent + v.throttle * demand(s));
    table.writeSpend(slot, { spentTotal: spent, spentDay: spent, day: utcDay(now), impressions: 0, clicks: 0, conversions: 0, unbilled: 0 });
    if ((s + 1) % 3600 === 0) hourly.push({ spent, plan: plan(c, now + 999)!.planned, r: v.throttle });
  }
  return { spent, hourly, minR };
}

describe('plan', () => {
  it("is the daily budget times the fraction of the UTC day elapsed, with a floor, for 'even'", () => {
    const c = campaign('c');
    expect(plan(c, MIDNIGHT + DAY / 2)).toEqual({ planned: 50, budget: 100, of: 'day' });
    expect(plan(c, MIDNIGHT + DAY / 4)!.planned).toBeCloseTo(25, 9);
    // The floor: at midnight the plan is 1% of the day, not 0.
    expect(plan(c, MIDNIGHT)!.planned).toBe(100 * PACING_DEFAULTS.floorFraction);
    expect(plan(c, MIDNIGHT, 0)!.planned).toBe(0);
    expect(plan(c, MIDNIGHT + DAY - 1)!.planned).toBeCloseTo(100, 3);
  });

  it('paces a total budget over a bounded flight when there is no daily budget, and nothing else', () => {
    const flight = { start: MIDNIGHT, end: MIDNIGHT + 10 * DAY };
    expect(plan(campaign('c', { budget: { total: 1000 }, ...flight }), MIDNIGHT + 2.5 * DAY)).toEqual({ planned: 250, budget: 1000, of: 'total' });
    expect(plan(campaign('c', { budget: { total: 1000 } }), MIDNIGHT + DAY)).toBeUndefined(); // unbounded flight
    expect(plan(campaign('c', { pacing: 'asap' }), MIDNIGHT + DAY / 2)).toBeUndefined();
    expect(plan(campaign('c', { budget: {} }), MIDNIGHT + DAY / 2)).toBeUndefined();
  });
});

describe('eligibleBudget', () => {
  const now = MIDNIGHT + DAY / 2;
  const today = utcDay(now);
  it('is false once the total or today\'s spend reaches the budget', () => {
    expect(eligibleBudget({ budget: { total: 10 } }, values({ spentTotal: 9.99 }), now)).toBe(true);
    expect(eligibleBudget({ budget: { total: 10 } }, values({ spentTotal: 10 }), now)).toBe(false);
    expect(eligibleBudget({ budget: { daily: 5 } }, values({ spentTotal: 50, spentDay: 4, day: today }), now)).toBe(true);
    expect(eligibleBudget({ budget: { daily: 5 } }, values({ spentTotal: 50, spentDay: 5, day: today }), now)).toBe(false);
    expect(eligibleBudget({ budget: {} }, values({ spentTotal: 1e9, spentDay: 1e9, day: today }), now)).toBe(true);
  });
  it("counts yesterday's daily spend as 0 today", () => {
    expect(eligibleBudget({ budget: { daily: 5 } }, values({ spentDay: 5, day: today - 1 }), now)).toBe(true);
  });
});

describe('nextThrottle', () => {
  const o = resolvePacingOptions();
  const p = { planned: 50, budget: 100, of: 'day' as const };
  it('lowers r when ahead of plan, raises it when behind, holds it inside the dead band, stays in [rMin, 1]', () => {
    expect(nextThrottle(0.5, 60, p, o)).toBeCloseTo(0.4, 12);
    expect(nextThrottle(0.5, 40, p, o)).toBeCloseTo(0.625, 12);
    expect(nextThrottle(0.5, 50.1, p, o)).toBe(0.5);
    expect(nextThrottle(0.9, 0, p, o)).toBe(1);
    expect(nextThrottle(o.rMin, 100, p, o)).toBe(o.rMin);
  });
  it('rejects options that would not converge', () => {
    expect(() => resolvePacingOptions({ decrease: 1 })).toThrow(/decrease/);
    expect(() => resolvePacingOptions({ rMin: 0 })).toThrow(/rMin/);
  });
});

describe('PacingController', () => {
  it('converges to the even plan over a simulated day with 5x oversupply and a daily traffic curve', () => {
    const c = campaign('c');
    const need = 100 / 86_400;
    // Traffic peaks at 18:00 and bottoms out at 06:00 at twice what the plan needs (5x on average).
    const demand = (s: number) => need * (5 - 3 * Math.cos((2 * Math.PI * (s - 6 * 3600)) / 86_400));
    const { spent, hourly, minR } = simulateDay(c, demand);
    for (const h of hourly) expect(Math.abs(h.spent - h.plan)).toBeLessThan(1); // within 1% of the daily budget, every hour
    expect(spent).toBeGreaterThan(99);
    expect(spent).toBeLessThanOrEqual(100);
    // The throttle found the oversupply: far below 1, never below rMin.
    expect(hourly[12].r).toBeLessThan(0.5);
    expect(minR).toBeGreaterThanOrEqual(PACING_DEFAULTS.rMin);
  });

  it('opens fully when demand is short of the plan', () => {
    const { hourly, spent } = simulateDay(campaign('c'), () => (0.5 * 100) / 86_400);
    for (const h of hourly) expect(h.r).toBe(1);
    expect(spent).toBeCloseTo(50, 6);
  });

  it("leaves 'asap' and unpaced campaigns at r = 1 and writes only changes", () => {
    const table = CampaignTable.create({ capacity: 8 });
    const pacing = new PacingController(table);
    const asap = campaign('a', { pacing: 'asap' });
    const even = campaign('e');
    const now = MIDNIGHT + DAY / 2;
    const e = table.slotOf('t', 'e');
    table.writeSpend(e, { spentTotal: 80, spentDay: 80, day: utcDay(now), impressions: 0, clicks: 0, conversions: 0, unbilled: 0 });
    const a = table.slotOf('t', 'a');
    table.writeThrottle(a, 0.3); // e.g. left over from when it was 'even'
    expect(pacing.update([asap, even], now)).toBe(2);
    expect(table.throttleOf(a)).toBe(1);
    expect(table.throttleOf(e)).toBeCloseTo(0.8, 12); // 80 spent, plan 50: ahead
    const epoch = table.epoch;
    expect(pacing.update([asap], now)).toBe(0);
    expect(table.epoch).toBe(epoch);
  });

  it('recovers at midnight: yesterday\'s low throttle rises as today\'s plan starts', () => {
    const table = CampaignTable.create({ capacity: 8 });
    const pacing = new PacingController(table);
    const c = campaign('c');
    const s = table.slotOf('t', 'c');
    table.writeSpend(s, { spentTotal: 100, spentDay: 100, day: utcDay(MIDNIGHT) - 1, impressions: 0, clicks: 0, conversions: 0, unbilled: 0 });
    table.writeThrottle(s, PACING_DEFAULTS.rMin);
    for (let i = 0; i < 30; i++) pacing.update([c], MIDNIGHT + i * 1000);
    expect(table.throttleOf(s)).toBe(1);
  });
});
