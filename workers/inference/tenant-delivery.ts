/**
 * One tenant's delivery state inside an inference worker, for one catalog version: the eligibility index, the
 * per-row bid columns, the rules arm's static values, the cap index, the campaigns' slots in the shared
 * campaign table, and what the worker derives from that table (exhausted campaigns, pacing throttles, the
 * per-row value multiplier).
 *
 * Budgets and pacing are read from shared memory, not messages. The main thread writes spend and throttles
 * into the CampaignTable (src/delivery/campaign-table.ts) and bumps its epoch; a worker compares the epoch at
 * each group of requests and rederives its lists only when it moved, at most once per REFRESH_MS (the
 * epoch moves on every charge, thousands of times a second under load). So a budget cut-off reaches every
 * worker within REFRESH_MS of the commit that spent it: that delay, times the campaign's rate of billable
 * events, is the in-process part of the over-delivery tolerance (docs/DELIVERY.md).
 *
 * Threading: owned by one worker thread. The scratch bitsets are used synchronously per request (from the
 * eligibility pass to the end of selection), never across an await, so two tasks of the worker never share
 * them mid-use.
 */
import type { Campaign, Offer, Placement, Rule, Tenant } from '../../src/catalog/types.js';
import { BID_TYPES } from '../../src/features/spec.js';
import { andInto, clearRow, clearRows, wordsFor } from '../../src/delivery/bitset.js';
import { CampaignTable, newSlotValues, utcDay, type SlotValues } from '../../src/delivery/campaign-table.js';
import { buildCapIndex, cappedFor, newCapped, type CapIndex, type Capped } from '../../src/delivery/caps.js';
import { coldStartBoost } from '../../src/delivery/cold-start.js';
import { EligibilityIndex } from '../../src/delivery/eligibility-index.js';
import { eligibleBudget } from '../../src/delivery/pacing.js';
import type { SelectionPlacement } from '../../src/delivery/select.js';
import type { ServedEntry, RequestContext } from '../../src/delivery/types.js';
import { CTR_PRIOR, CVR_PRIOR } from '../../src/ranking/bid-scale.js';

/** Longest a worker serves from budget and pacing state older than the table's (ms). */
export const REFRESH_MS = 10;

/**
 * Conversion-rate estimate for CPA bids: the bid scale assumes CVR_PRIOR; once a campaign has clicks, its
 * value is corrected by (conversions + m x prior) / (clicks + m) / prior, a Beta-smoothed rate that starts
 * at the prior and needs about m clicks to move halfway. Clamped so one lucky conversion cannot dominate.
 */
const CVR_PRIOR_WEIGHT = 200;
const CVR_FACTOR_MIN = 0.2;
const CVR_FACTOR_MAX = 5;

const BID_CPA = BID_TYPES.indexOf('cpa');

export class TenantDelivery {
  readonly index: EligibilityIndex;
  /** Per row: the bid amount (its own unit) and type index (BID_TYPES). */
  readonly bidAmount: Float64Array;
  readonly bidType: Uint8Array;
  /** The rules arm's static value per row: the bid's value per impression at prior relevance (bid eCPM / 1000). */
  readonly rulesEv: Float32Array;
  /** Per row: the dynamic multiplier of the model's value (cold-start boost, CPA conversion-rate correction). */
  readonly mult: Float32Array;
  /** The rules arm prices and filters like the AI arm but explores nothing and has no relevance model. */
  readonly rulesPlacements: Map<string, SelectionPlacement>;
  readonly caps: CapIndex;
  readonly capped: Capped = newCapped();
  /** Request scratch: the eligible rows, and the rows the rules fire on. */
  readonly mask: Uint32Array;
  readonly ruleMask: Uint32Array;
  /** Per campaign index: its slot in the shared table. */
  private readonly slots: Int32Array;
  /** Campaigns whose budget is spent, and paced ones with their pass probability (< 1), as of `seenEpoch`. */
  private exhausted: number[] = [];
  private throttled: { campaign: number; r: number }[] = [];
  private seenEpoch = -1;
  private seenDay = -1;
  private refreshedAt = -Infinity;
  private readonly values: SlotValues = newSlotValues();
  private readonly offerRow: Map<string, number>;

  constructor(
    readonly tenant: Tenant,
    readonly offers: Offer[],
    readonly campaigns: Campaign[],
    rules: Rule[],
    bidScale: Float32Array,
    private readonly table: CampaignTable,
  ) {
    const n = offers.length;
    this.index = EligibilityIndex.build(tenant, offers, campaigns, rules);
    this.bidAmount = new Float64Array(n);
    this.bidType = new Uint8Array(n);
    this.rulesEv = new Float32Array(n);
    this.mult = new Float32Array(n).fill(1);
    this.offerRow = new Map();
    for (let i = 0; i < n; i++) {
      const o = offers[i];
      this.bidAmount[i] = o.bid.amount;
      this.bidType[i] = BID_TYPES.indexOf(o.bid.type);
      this.rulesEv[i] = bidScale[i] * CTR_PRIOR;
      this.offerRow.set(o.id, i);
    }
    this.rulesPlacements = new Map(
      tenant.placements.map((p: Placement) => [p.id, { ...p, minRelevance: 0, exploration: { epsilon: 0, pool: p.exploration.pool } }]),
    );
    const own = this.index.campaigns;
    this.caps = buildCapIndex(own);
    this.slots = new Int32Array(own.length);
    for (let c = 0; c < own.length; c++) this.slots[c] = table.slotOf(tenant.id, own[c].id);
    this.mask = new Uint32Array(wordsFor(n));
    this.ruleMask = new Uint32Array(wordsFor(n));
  }

  /**
   * Rederives exhausted campaigns, throttles and multipliers when the shared table moved (rate-limited), or
   * when the UTC day changed: a campaign that spent yesterday's daily budget serves again after midnight even
   * if nothing has been charged since.
   */
  refresh(now: number): void {
    const epoch = this.table.epoch;
    const day = utcDay(now);
    if ((epoch === this.seenEpoch && day === this.seenDay) || now - this.refreshedAt < REFRESH_MS) return;
    this.seenEpoch = epoch;
    this.seenDay = day;
    this.refreshedAt = now;
    const exhausted: number[] = [];
    const throttled: { campaign: number; r: number }[] = [];
    const own = this.index.campaigns;
    for (let c = 0; c < own.length; c++) {
      const v = this.table.read(this.slots[c], this.values);
      if (!eligibleBudget(own[c], v, now)) exhausted.push(c);
      else if (v.throttle < 1) throttled.push({ campaign: c, r: v.throttle });
      const boost = coldStartBoost(v.impressions);
      const cvr = (v.conversions + CVR_PRIOR_WEIGHT * CVR_PRIOR) / (v.clicks + CVR_PRIOR_WEIGHT) / CVR_PRIOR;
      const cvrFactor = Math.min(CVR_FACTOR_MAX, Math.max(CVR_FACTOR_MIN, cvr));
      const rows = this.index.offersOfCampaign(c);
      for (let j = 0; j < rows.length; j++) {
        const i = rows[j];
        this.mult[i] = this.bidType[i] === BID_CPA ? boost * cvrFactor : boost;
      }
    }
    this.exhausted = exhausted;
    this.throttled = throttled;
  }

  /**
   * Fills `mask` with the rows this request may be shown: eligibility (targeting, blocks, flights), minus
   * campaigns out of budget, minus paced campaigns that lose their throttle draw, minus what the buyer's
   * frequency caps exclude.
   */
  eligibleRows(ctx: RequestContext, history: readonly ServedEntry[] | null, random: () => number): Uint32Array {
    const mask = this.mask;
    this.index.eligible(ctx, mask);
    for (const c of this.exhausted) clearRows(mask, this.index.offersOfCampaign(c));
    // A throttle draw per campaign and request: a campaign that loses it sits this auction out. It is part of
    // eligibility (like a budget), so it never enters the logged propensities, which are conditional on the
    // eligible set.
    for (const t of this.throttled) if (random() >= t.r) clearRows(mask, this.index.offersOfCampaign(t.campaign));
    if (history !== null && history.length > 0) {
      const capped = cappedFor(history, ctx.now, this.caps, this.capped);
      if (capped.size > 0) this.clearCapped(capped);
    }
    return mask;
  }

  /** Restricts `mask` to the rows the rules fire on; false (mask unchanged) when no rule fires. */
  restrictToRules(basketDepartments: number, mask: Uint32Array): boolean {
    if (!this.index.ruleMatches(basketDepartments, this.ruleMask)) return false;
    andInto(mask, this.ruleMask);
    return true;
  }

  private clearCapped(capped: Capped): void {
    const mask = this.mask;
    for (const id of capped.offers) {
      const row = this.offerRow.get(id);
      if (row !== undefined) clearRow(mask, row);
    }
    for (const id of capped.campaigns) {
      const c = this.index.campaignIndex(id);
      if (c >= 0) clearRows(mask, this.index.offersOfCampaign(c));
    }
    for (const id of capped.advertisers) {
      const a = this.index.advertiserIndex(id);
      if (a >= 0) clearRows(mask, this.index.offersOfAdvertiser(a));
    }
  }
}
