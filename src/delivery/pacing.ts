/**
 * Budget pacing: spreading a campaign's daily budget over the UTC day, and the budget check workers make
 * per request.
 *
 * Division of labour. The main thread runs `PacingController.update` once a second (the server wires the
 * timer): for each campaign it compares spend (from the campaign table, which the spend ledger keeps at
 * committed values) with the plan and writes a pass probability r into the table. A worker serves a paced
 * campaign's offer with probability r (one uniform draw against `table.read(slot).throttle`), and does not
 * serve it at all once `eligibleBudget` says the total or today's budget is spent: exhaustion is a hard
 * stop, never a low throttle, so it takes effect on the next request after the commit rather than after the
 * next controller tick.
 *
 * The plan. 'even' with a daily budget: daily x the fraction of the UTC day elapsed, but at least
 * floorFraction x daily, so the first minutes after midnight (plan ~ 0) do not throttle a campaign to rMin
 * on its first charge. 'even' with only a total budget and a bounded flight: total x the fraction of the
 * flight elapsed (same floor). 'asap', or no budget to pace: r = 1.
 *
 * The controller is multiplicative increase / multiplicative decrease on the sign of (spend - plan), with a
 * dead band: ahead of plan by more than deadbandFraction of the budget -> r x decrease, behind by more ->
 * r x increase, r kept in [rMin, 1]. Spend then oscillates in a narrow band around the plan whatever the
 * (unknown, varying) demand: at 1 Hz with factors 1.25 / 0.8, r crosses a decade in about 10 s, far faster
 * than traffic changes over a day. rMin > 0 keeps a paced campaign visible (and learning) while it waits for
 * the plan to catch up. test/delivery-pacing.test.ts runs it against a simulated day.
 */
import type { Budget, Campaign, PacingMode } from '../catalog/types.js';
import { utcDay, type CampaignTable, type SlotValues } from './campaign-table.js';

const MS_PER_DAY = 86_400_000;

export interface PacingOptions {
  /** Lowest pass probability of a paced campaign, 0 < rMin <= 1. Default 0.01. */
  rMin?: number;
  /** Factor applied to r when spend is behind plan, > 1. Default 1.25. */
  increase?: number;
  /** Factor applied to r when spend is ahead of plan, 0 < decrease < 1. Default 0.8. */
  decrease?: number;
  /** No change while |spend - plan| is within this fraction of the paced budget. Default 0.002. */
  deadbandFraction?: number;
  /** The plan is never below this fraction of the paced budget. Default 0.01 (about 15 minutes of an even day). */
  floorFraction?: number;
}

export const PACING_DEFAULTS: Readonly<Required<PacingOptions>> = {
  rMin: 0.01,
  increase: 1.25,
  decrease: 0.8,
  deadbandFraction: 0.002,
  floorFraction: 0.01,
};

export function resolvePacingOptions(opts: PacingOptions = {}): Required<PacingOptions> {
  const o = { ...PACING_DEFAULTS, ...opts };
  if (!(o.rMin > 0 && o.rMin <= 1)) throw new TypeError('pacing option rMin must be in (0, 1]');
  if (!(o.increase > 1 && o.increase <= 10)) throw new TypeError('pacing option increase must be in (1, 10]');
  if (!(o.decrease > 0 && o.decrease < 1)) throw new TypeError('pacing option decrease must be in (0, 1)');
  if (!(o.deadbandFraction >= 0 && o.deadbandFraction < 1)) throw new TypeError('pacing option deadbandFraction must be in [0, 1)');
  if (!(o.floorFraction >= 0 && o.floorFraction <= 1)) throw new TypeError('pacing option floorFraction must be in [0, 1]');
  return o;
}

/** What pacing needs of a campaign. */
export type PacedCampaign = Pick<Campaign, 'tenant' | 'id' | 'budget' | 'pacing' | 'start' | 'end'>;

/** Spend today (UTC) as the slot says: 0 when its day is not today's. */
export function spentToday(v: SlotValues, now: number): number {
  return v.day === utcDay(now) ? v.spentDay : 0;
}

/**
 * Worker side, per request: false when the campaign's total budget or today's (UTC) daily budget is spent.
 * A budget field that is absent does not limit.
 */
export function eligibleBudget(campaign: { budget: Budget }, v: SlotValues, now: number): boolean {
  const { total, daily } = campaign.budget;
  if (total !== undefined && v.spentTotal >= total) return false;
  if (daily !== undefined && spentToday(v, now) >= daily) return false;
  return true;
}

/** What a paced campaign should have spent by `now`, and of which budget; undefined when it is not paced. */
export interface Plan {
  /** Planned spend so far. */
  planned: number;
  /** The budget it is a part of (daily or total), for the dead band. */
  budget: number;
  /** Whether the plan is of today's spend (daily) or of lifetime spend (total over the flight). */
  of: 'day' | 'total';
}

/** The spend plan at `now` (pure). */
export function plan(
  campaign: { budget: Budget; pacing: PacingMode; start: number; end: number },
  now: number,
  floorFraction: number = PACING_DEFAULTS.floorFraction,
): Plan | undefined {
  if (campaign.pacing !== 'even') return undefined;
  const { daily, total } = campaign.budget;
  if (daily !== undefined) {
    const frac = (now - utcDay(now) * MS_PER_DAY) / MS_PER_DAY;
    return { planned: daily * Math.min(1, Math.max(floorFraction, frac)), budget: daily, of: 'day' };
  }
  if (total !== undefined && Number.isFinite(campaign.end) && campaign.end > campaign.start) {
    const frac = (now - campaign.start) / (campaign.end - campaign.start);
    return { planned: total * Math.min(1, Math.max(floorFraction, frac)), budget: total, of: 'total' };
  }
  return undefined;
}

/** One controller step (pure): the next pass probability given spend and the plan. */
export function nextThrottle(r: number, spent: number, p: Plan, o: Required<PacingOptions>): number {
  const band = o.deadbandFraction * p.budget;
  let next = r;
  if (spent > p.planned + band) next = r * o.decrease;
  else if (spent < p.planned - band) next = r * o.increase;
  return next < o.rMin ? o.rMin : next > 1 ? 1 : next;
}

/**
 * Main thread: writes each campaign's pass probability into the campaign table. State lives in the table
 * itself (the throttle written last tick), so the controller holds nothing per campaign and a catalog
 * change needs no bookkeeping here.
 */
export class PacingController {
  readonly #table: CampaignTable;
  readonly #opts: Required<PacingOptions>;
  readonly #scratch: SlotValues = { spentTotal: 0, spentDay: 0, day: 0, throttle: 1, impressions: 0, clicks: 0, conversions: 0, unbilled: 0 };

  constructor(table: CampaignTable, opts: PacingOptions = {}) {
    this.#table = table;
    this.#opts = resolvePacingOptions(opts);
  }

  /** One tick (call about once a second). Returns how many throttles changed. */
  update(campaigns: Iterable<PacedCampaign>, now: number): number {
    let changed = 0;
    const v = this.#scratch;
    for (const c of campaigns) {
      const p = plan(c, now, this.#opts.floorFraction);
      const slot = this.#table.slotOf(c.tenant, c.id);
      this.#table.read(slot, v);
      let r: number;
      if (p === undefined) {
        r = 1;
      } else {
        const spent = p.of === 'day' ? spentToday(v, now) : v.spentTotal;
        r = nextThrottle(v.throttle, spent, p, this.#opts);
      }
      // Unchanged throttles are not rewritten: every write moves the epoch, and workers recompute on a move.
      if (r !== v.throttle) {
        this.#table.writeThrottle(slot, r);
        changed++;
      }
    }
    return changed;
  }
}
