/**
 * The delivery report: per tenant, per arm ('ai' model vs 'rules' holdout), per arm x campaign and per arm x
 * advertiser, from the report counters (layout.ts). docs/REPORTS.md defines every figure.
 *
 * Money is in each tenant's currency, so a report is grouped by tenant and never adds two tenants' money.
 * Ratios are null when their denominator is 0 (JSON has no NaN or Infinity).
 */
import { TxrankError } from '../errors/codes.js';
import { moneyRateLift, proportionLift, type LiftFigure } from './lift.js';
import { dayString, parseDay, zeroValues, type CounterKey, type CounterReader, type CounterRow, type CounterValues, type RowRange } from './layout.js';

/** What a report covers. Dates are UTC days 'YYYY-MM-DD', inclusive, of the decisions. */
export interface ReportQuery {
  tenant?: string;
  from?: string;
  to?: string;
  placement?: string;
}

export interface ReportOptions {
  /** The tenant's currency for labelling (ISO 4217); null in the report when absent or unknown. */
  currencyOf?: (tenant: string) => string | undefined;
  /** Clock for generatedAt. Default Date.now. */
  now?: () => number;
}

/** The figures of one group of rows. Money in the tenant's currency, major units. */
export interface Figures {
  served: number;
  impressions: number;
  clicks: number;
  conversions: number;
  dismisses: number;
  conversionValue: number;
  /** Gross charges of billable events (before any budget clamp of the spend ledger). */
  spend: number;
  billable: number;
  foreignConversions: number;
  /** clicks / impressions. */
  ctr: number | null;
  /** conversions / clicks. */
  cvr: number | null;
  /** conversions / impressions. */
  conversionsPerImpression: number | null;
  /** spend / impressions x 1000: the retailer's revenue per thousand impressions. */
  rpm: number | null;
  /** conversionValue / spend: the advertiser's return on ad spend. */
  roas: number | null;
}

export interface ArmFigures extends Figures {
  arm: string;
  decisions: number;
  /** This arm's share of the tenant's decisions in the report. */
  decisionShare: number | null;
}

export interface CampaignFigures extends Figures {
  arm: string;
  /** '' for offers without billing (decisions logged before delivery existed). */
  campaign: string;
  advertiser: string;
}

export interface AdvertiserFigures extends Figures {
  arm: string;
  advertiser: string;
}

export interface ReportLift {
  ctr: LiftFigure;
  cvr: LiftFigure;
  conversionsPerImpression: LiftFigure;
  rpm: LiftFigure;
}

export interface TenantReport {
  tenant: string;
  currency: string | null;
  /** The holdout as observed: decisions per arm and the rules arm's share of ai + rules. */
  holdout: { ai: number; rules: number; rulesShare: number | null };
  arms: ArmFigures[];
  campaigns: CampaignFigures[];
  advertisers: AdvertiserFigures[];
  /** ai vs rules; every figure null where an arm has no data. */
  lift: ReportLift;
}

export interface Report {
  generatedAt: string;
  from: string | null;
  to: string | null;
  tenant: string | null;
  placement: string | null;
  tenants: TenantReport[];
}

const ID_MAX = 128;

/** Checks a query's fields; the rows it selects. Throws `bad_request` naming the bad field. */
export function resolveReportQuery(q: ReportQuery): RowRange {
  const range: RowRange = {};
  for (const field of ['tenant', 'placement'] as const) {
    const v = q[field];
    if (v === undefined) continue;
    if (v.length === 0 || v.length > ID_MAX) throw new TxrankError('bad_request', `${field} must be 1..${ID_MAX} characters`);
    range[field] = v;
  }
  for (const field of ['from', 'to'] as const) {
    const v = q[field];
    if (v === undefined) continue;
    const day = parseDay(v);
    if (day === null) throw new TxrankError('bad_request', `${field} must be a date YYYY-MM-DD (UTC); got "${v}"`);
    if (field === 'from') range.fromDay = day;
    else range.toDay = day;
  }
  if (range.fromDay !== undefined && range.toDay !== undefined && range.fromDay > range.toDay) {
    throw new TxrankError('bad_request', `from (${q.from}) is after to (${q.to})`);
  }
  return range;
}

interface Group<T> {
  id: T;
  v: CounterValues;
}

interface TenantAcc {
  arms: Map<string, CounterValues>;
  campaigns: Map<string, Group<{ arm: string; campaign: string; advertiser: string }>>;
  advertisers: Map<string, Group<{ arm: string; advertiser: string }>>;
}

function addInto(into: CounterValues, row: CounterValues): void {
  into.decisions += row.decisions;
  into.served += row.served;
  into.impressions += row.impressions;
  into.clicks += row.clicks;
  into.conversions += row.conversions;
  into.dismisses += row.dismisses;
  into.conversionValue += row.conversionValue;
  into.spend += row.spend;
  into.spendSq += row.spendSq;
  into.billable += row.billable;
  into.foreignConversions += row.foreignConversions;
}

/** Money sums carry float rounding (prices / 1000 per impression): shown to a millionth of a unit. */
function money(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}

export function figuresOf(v: CounterValues): Figures {
  return {
    served: v.served,
    impressions: v.impressions,
    clicks: v.clicks,
    conversions: v.conversions,
    dismisses: v.dismisses,
    conversionValue: money(v.conversionValue),
    spend: money(v.spend),
    billable: v.billable,
    foreignConversions: v.foreignConversions,
    ctr: ratio(v.clicks, v.impressions),
    cvr: ratio(v.conversions, v.clicks),
    conversionsPerImpression: ratio(v.conversions, v.impressions),
    rpm: v.impressions > 0 ? (v.spend / v.impressions) * 1000 : null,
    roas: ratio(v.conversionValue, v.spend),
  };
}

/** Lift of ai over rules on the arm totals. */
export function liftOf(ai: CounterValues, rules: CounterValues): ReportLift {
  return {
    ctr: proportionLift({ x: ai.clicks, n: ai.impressions }, { x: rules.clicks, n: rules.impressions }),
    cvr: proportionLift({ x: ai.conversions, n: ai.clicks }, { x: rules.conversions, n: rules.clicks }),
    conversionsPerImpression: proportionLift({ x: ai.conversions, n: ai.impressions }, { x: rules.conversions, n: rules.impressions }),
    rpm: moneyRateLift(
      { spend: ai.spend, spendSq: ai.spendSq, exposure: ai.impressions },
      { spend: rules.spend, spendSq: rules.spendSq, exposure: rules.impressions },
    ),
  };
}

/** 'ai', 'rules', then any other policy name alphabetically. */
function armOrder(a: string, b: string): number {
  const rank = (x: string) => (x === 'ai' ? 0 : x === 'rules' ? 1 : 2);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A row of a breakdown shows only when its offers were seen or served (the arm's own row carries the
 * decision count, which belongs to the arm table). */
function hasActivity(v: CounterValues): boolean {
  return v.served + v.impressions + v.clicks + v.conversions + v.dismisses + v.billable > 0;
}

/** Accumulates counter rows (in any order, any number of calls) into a report. */
export class ReportBuilder {
  readonly #tenants = new Map<string, TenantAcc>();

  add(rows: readonly CounterRow[]): void {
    for (const r of rows) {
      let t = this.#tenants.get(r.tenant);
      if (t === undefined) {
        t = { arms: new Map(), campaigns: new Map(), advertisers: new Map() };
        this.#tenants.set(r.tenant, t);
      }
      let arm = t.arms.get(r.arm);
      if (arm === undefined) t.arms.set(r.arm, (arm = zeroValues()));
      addInto(arm, r);
      const ck = `${r.arm}\u0000${r.campaign}\u0000${r.advertiser}`;
      let c = t.campaigns.get(ck);
      if (c === undefined) t.campaigns.set(ck, (c = { id: { arm: r.arm, campaign: r.campaign, advertiser: r.advertiser }, v: zeroValues() }));
      addInto(c.v, r);
      const ak = `${r.arm}\u0000${r.advertiser}`;
      let a = t.advertisers.get(ak);
      if (a === undefined) t.advertisers.set(ak, (a = { id: { arm: r.arm, advertiser: r.advertiser }, v: zeroValues() }));
      addInto(a.v, r);
    }
  }

  build(range: RowRange, opts: ReportOptions = {}): Report {
    const tenants: TenantReport[] = [];
    for (const tenant of [...this.#tenants.keys()].sort(byText)) {
      const t = this.#tenants.get(tenant) as TenantAcc;
      const ai = t.arms.get('ai') ?? zeroValues();
      const rules = t.arms.get('rules') ?? zeroValues();
      let decisions = 0;
      for (const v of t.arms.values()) decisions += v.decisions;
      tenants.push({
        tenant,
        currency: opts.currencyOf?.(tenant) ?? null,
        holdout: { ai: ai.decisions, rules: rules.decisions, rulesShare: ratio(rules.decisions, ai.decisions + rules.decisions) },
        arms: [...t.arms.entries()]
          .sort(([a], [b]) => armOrder(a, b))
          .map(([arm, v]) => ({ arm, decisions: v.decisions, decisionShare: ratio(v.decisions, decisions), ...figuresOf(v) })),
        campaigns: [...t.campaigns.values()]
          .filter((g) => hasActivity(g.v))
          .sort((a, b) => byText(a.id.campaign, b.id.campaign) || byText(a.id.advertiser, b.id.advertiser) || armOrder(a.id.arm, b.id.arm))
          .map((g) => ({ ...g.id, ...figuresOf(g.v) })),
        advertisers: [...t.advertisers.values()]
          .filter((g) => hasActivity(g.v))
          .sort((a, b) => byText(a.id.advertiser, b.id.advertiser) || armOrder(a.id.arm, b.id.arm))
          .map((g) => ({ ...g.id, ...figuresOf(g.v) })),
        lift: liftOf(ai, rules),
      });
    }
    return {
      generatedAt: new Date((opts.now ?? Date.now)()).toISOString(),
      from: range.fromDay === undefined ? null : dayString(range.fromDay),
      to: range.toDay === undefined ? null : dayString(range.toDay),
      tenant: range.tenant ?? null,
      placement: range.placement ?? null,
      tenants,
    };
  }
}

/** The report in one read (the CLI, tests). Throws `bad_request` for a bad query. */
export function buildReport(reader: CounterReader, query: ReportQuery = {}, opts: ReportOptions = {}): Report {
  const range = resolveReportQuery(query);
  const b = new ReportBuilder();
  b.add(reader.rows(range).rows);
  return b.build(range, opts);
}

/** Rows read per event-loop turn by buildReportInTurns. Reading, decoding and adding a row costs about
 * 5-8 µs on this machine class (2 vCPU; the ordered-binary key decode is a third of it), so a turn takes
 * about 2 ms: a report over 60,000 rows (30 days of 1,000 campaigns on 2 arms) takes half a second of
 * main-thread time spread over 240 turns, with decisions answered between them. */
export const REPORT_CHUNK_ROWS = 250;

/**
 * The report read in chunks of `chunkRows`, yielding to the event loop between chunks: the server's main
 * thread must keep answering decisions while a month of counters is read. Each chunk sees the latest commit,
 * so a report built during traffic may mix counts from a few consecutive commits (each row is read once).
 */
export async function buildReportInTurns(reader: CounterReader, query: ReportQuery = {}, opts: ReportOptions = {}, chunkRows = REPORT_CHUNK_ROWS): Promise<Report> {
  const range = resolveReportQuery(query);
  const b = new ReportBuilder();
  let after: CounterKey | undefined;
  for (;;) {
    const chunk = reader.rows(range, chunkRows, after);
    b.add(chunk.rows);
    if (chunk.last === undefined) break;
    after = chunk.last;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return b.build(range, opts);
}
