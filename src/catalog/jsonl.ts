/**
 * The catalog loader's edge: JSONL text in, typed tenants, offers, campaigns and rules out, or a report
 * naming every invalid record by line and field. Nothing behind this function re-validates a catalog.
 *
 * A report lists every problem rather than the first, because catalogs are produced by batch exports: a
 * retailer fixing a feed wants the whole list in one round trip, not one error per attempt.
 *
 * Records may come in any order, so everything that relates two records (an offer's tenant, campaign and
 * default bid, a campaign's placements) is resolved after the last line.
 */
import type { ValueError } from '@sinclair/typebox/errors';
import { ValueErrorType } from '@sinclair/typebox/errors';
import type { Bid, Campaign, FrequencyCap, Offer, Rule, Targeting, Tenant } from './types.js';
import { isSupportedCurrency, USD_PER_UNIT } from '../features/currency.js';
import {
  CAMPAIGN_DEFAULT_PACING,
  CATALOG_LIMITS,
  COUNTRY_PATTERN,
  CURRENCY_PATTERN,
  CampaignCheck,
  OfferCheck,
  RECORD_KINDS,
  RuleCheck,
  TenantCheck,
  WINDOW_PATTERN,
  impliedCampaign,
  literalChoices,
  resolveTenant,
  type CampaignRecord,
  type OfferRecord,
  type RuleRecord,
  type TargetingRecord,
  type TenantRecord,
} from './schema.js';

export interface CatalogIssue {
  /** 1-based physical line in the file; 0 for issues about the file as a whole. */
  line: number;
  /** Path of the bad field, e.g. "bid.amount" or "placements[1].slots"; "" for the whole record or file. */
  field: string;
  message: string;
}

export type ParseResult =
  | { ok: true; tenants: Tenant[]; offers: Offer[]; campaigns: Campaign[]; rules: Rule[] }
  | { ok: false; errors: CatalogIssue[] };

const NO_FIELDS: ReadonlySet<string> = new Set();

const YEAR_MS = 365.25 * 24 * 3600 * 1000;
/**
 * Flight times must fall in [2000-01-01, now + 100 years]. The window exists to catch unit mistakes, the
 * commonest catalog bug: seconds given as ms land in 1970, microseconds land tens of thousands of years out.
 */
const MIN_TIME_MS = Date.UTC(2000, 0, 1);
const MAX_FUTURE_MS = 100 * YEAR_MS;

// Date-only means UTC midnight. A date-time must carry its offset: without one, JavaScript reads it in the
// loading machine's local zone, and a catalog must not mean different flights on different servers.
const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/** ms since the epoch of an ISO-8601 date or date-time with offset; null when the text is not one. */
export function parseIsoTime(text: string): number | null {
  const m = ISO_RE.exec(text);
  if (m === null) return null;
  const [, ys, mos, ds, hs, mis, ss, frac, zone] = m;
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  const h = hs === undefined ? 0 : Number(hs);
  const mi = mis === undefined ? 0 : Number(mis);
  const s = ss === undefined ? 0 : Number(ss);
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const utc = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  // Date.UTC rolls Feb 30 over into March; a round trip through the calendar fields rejects it.
  const check = new Date(utc);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null;
  let offsetMin = 0;
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2, 4));
    if (oh > 14 || om > 59) return null;
    offsetMin = sign * (oh * 60 + om);
  }
  return utc - offsetMin * 60_000;
}

/** JSON Pointer ("/placements/0/slots") to the dotted form people read ("placements[0].slots"). */
export function pointerToField(pointer: string): string {
  if (pointer === '') return '';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

const KIND_LIST = RECORD_KINDS.map((k) => `"${k}"`).join(', ');

const PATTERN_MESSAGES: Readonly<Record<string, string>> = {
  [CURRENCY_PATTERN]: 'must be a 3-letter upper-case ISO 4217 code',
  [COUNTRY_PATTERN]: 'must be a 2-letter upper-case ISO 3166-1 alpha-2 code',
  [WINDOW_PATTERN]: 'must be a whole number of minutes, hours or days, such as "30m", "12h" or "7d"',
};

function describe(err: ValueError): string {
  switch (err.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return 'unknown field';
    case ValueErrorType.ObjectRequiredProperty:
      return 'required field is missing';
    case ValueErrorType.Union: {
      const choices = literalChoices(err.schema);
      if (choices !== null) return `must be one of ${choices.map((c) => `"${c}"`).join(', ')}`;
      return 'must be an ISO-8601 date string or a number of milliseconds since the epoch';
    }
    case ValueErrorType.StringPattern: {
      const pattern: unknown = err.schema.pattern;
      return (typeof pattern === 'string' ? PATTERN_MESSAGES[pattern] : undefined) ?? 'must not contain whitespace or control characters';
    }
    case ValueErrorType.ArrayMinItems:
      // An empty targeting list would mean "nobody"; absent means "everybody". Say which one the file wants.
      if (err.path.startsWith('/targeting/')) return 'must not be empty; omit the field to not restrict';
      break;
    case ValueErrorType.ArrayUniqueItems:
      return 'must not list a value twice';
    default:
      break;
  }
  return err.message.charAt(0).toLowerCase() + err.message.slice(1);
}

/**
 * One issue per distinct field: TypeBox can report several failures at one path (length and pattern), and
 * after a required field is missing it also reports the missing value's type; the first says it all.
 * Returns every failed field path and all of its prefixes ("targeting", "targeting.hours",
 * "targeting.hours[2]"), so the record-level checks below skip exactly what the schema already blamed.
 */
function schemaIssues(line: number, errors: Iterable<ValueError>, out: CatalogIssue[]): Set<string> {
  const bad = new Set<string>();
  for (const err of errors) {
    const field = pointerToField(err.path);
    if (bad.has(field)) continue;
    const re = /[.[]/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(field)) !== null) bad.add(field.slice(0, m.index));
    bad.add(field);
    out.push({ line, field, message: describe(err) });
  }
  return bad;
}

function timeValue(value: unknown, field: string, line: number, now: number, issues: CatalogIssue[]): number | null {
  let ms: number | null;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) {
      issues.push({ line, field, message: 'must be a whole number of milliseconds since the epoch' });
      return null;
    }
    ms = value;
  } else if (typeof value === 'string') {
    ms = parseIsoTime(value);
    if (ms === null) {
      issues.push({
        line,
        field,
        message: 'must be an ISO-8601 date ("2025-03-01") or date-time with offset ("2025-03-01T08:00:00Z")',
      });
      return null;
    }
  } else return null;
  if (ms < MIN_TIME_MS || ms > now + MAX_FUTURE_MS) {
    issues.push({
      line,
      field,
      message: `must be between 2000-01-01 and 100 years from now (got ${new Date(ms).toISOString().slice(0, 10)}; seconds instead of milliseconds?)`,
    });
    return null;
  }
  return ms;
}


/**
 * The checks a schema cannot express. They run even when the schema already failed, on every field the
 * schema did not reject, so one pass over a broken feed reports all of its problems.
 */
function tenantChecks(rec: Record<string, unknown>, bad: ReadonlySet<string>, line: number, issues: CatalogIssue[]): boolean {
  let ok = true;
  if (!bad.has('currency') && typeof rec.currency === 'string' && !isSupportedCurrency(rec.currency)) {
    issues.push({
      line,
      field: 'currency',
      message: `unsupported currency; supported: ${Object.keys(USD_PER_UNIT).join(', ')}`,
    });
    ok = false;
  }
  if (Array.isArray(rec.placements)) {
    const seen = new Map<string, number>();
    rec.placements.forEach((p: unknown, i) => {
      const id = stringField(p, 'id');
      if (id === undefined) return;
      const first = seen.get(id);
      if (first !== undefined) {
        issues.push({ line, field: `placements[${i}].id`, message: `duplicate placement id (also placements[${first}])` });
        ok = false;
      } else seen.set(id, i);
    });
  }
  return ok;
}

function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = (value as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : undefined;
}

/** A top-level string field the schema did not reject, else undefined. */
function goodString(rec: Record<string, unknown>, bad: ReadonlySet<string>, key: string): string | undefined {
  const v = rec[key];
  return !bad.has(key) && typeof v === 'string' ? v : undefined;
}

interface Flight {
  start: number;
  end: number;
}

function flightChecks(rec: Record<string, unknown>, bad: ReadonlySet<string>, line: number, now: number, issues: CatalogIssue[]): Flight | null {
  const start = bad.has('start') ? null : timeValue(rec.start, 'start', line, now, issues);
  const end = bad.has('end') ? null : timeValue(rec.end, 'end', line, now, issues);
  if (start === null || end === null) return null;
  if (end <= start) {
    issues.push({ line, field: 'end', message: 'must be after start' });
    return null;
  }
  return { start, end };
}

function creativeChecks(rec: Record<string, unknown>, bad: ReadonlySet<string>, line: number, issues: CatalogIssue[]): boolean {
  if (bad.has('creative')) return true;
  const creativeBytes = Buffer.byteLength(JSON.stringify(rec.creative), 'utf8');
  if (creativeBytes <= CATALOG_LIMITS.maxCreativeBytes) return true;
  issues.push({ line, field: 'creative', message: `is ${creativeBytes} bytes as JSON; at most ${CATALOG_LIMITS.maxCreativeBytes}` });
  return false;
}

const WINDOW_UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

function windowText(ms: number): string {
  const [n, unit] = ms % 86_400_000 === 0 ? [ms / 86_400_000, 'day'] : ms % 3_600_000 === 0 ? [ms / 3_600_000, 'hour'] : [ms / 60_000, 'minute'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** The caps with their windows in ms, or null when one is invalid (each problem reported). */
function capChecks(rec: Record<string, unknown>, bad: ReadonlySet<string>, line: number, issues: CatalogIssue[]): FrequencyCap[] | null {
  const caps = rec.frequency_caps;
  if (caps === undefined) return [];
  if (!Array.isArray(caps)) return null;
  const out: FrequencyCap[] = [];
  let ok = !bad.has('frequency_caps');
  caps.forEach((cap: unknown, i) => {
    const field = `frequency_caps[${i}]`;
    if (typeof cap !== 'object' || cap === null) return;
    const c = cap as Record<string, unknown>;
    const hasWindow = c.window !== undefined;
    const hasMs = c.window_ms !== undefined;
    let windowMs: number | null = null;
    if (hasWindow && hasMs) {
      issues.push({ line, field: `${field}.window_ms`, message: 'give either window or window_ms, not both' });
      ok = false;
    } else if (!hasWindow && !hasMs) {
      issues.push({ line, field: `${field}.window`, message: 'required field is missing (or give window_ms)' });
      ok = false;
    } else if (hasWindow && !bad.has(`${field}.window`) && typeof c.window === 'string') {
      const n = Number(c.window.slice(0, -1));
      windowMs = n * WINDOW_UNIT_MS[c.window.slice(-1)];
      if (windowMs < CATALOG_LIMITS.minCapWindowMs || windowMs > CATALOG_LIMITS.maxCapWindowMs) {
        issues.push({
          line,
          field: `${field}.window`,
          message: `must be between ${windowText(CATALOG_LIMITS.minCapWindowMs)} and ${windowText(CATALOG_LIMITS.maxCapWindowMs)}`,
        });
        ok = false;
        windowMs = null;
      }
    } else if (hasMs && !bad.has(`${field}.window_ms`) && typeof c.window_ms === 'number') {
      windowMs = c.window_ms;
    }
    if (windowMs === null || bad.has(field)) {
      ok = false;
      return;
    }
    out.push({ scope: c.scope as FrequencyCap['scope'], max: c.max as number, windowMs });
  });
  return ok ? out : null;
}

function budgetChecks(rec: Record<string, unknown>, bad: ReadonlySet<string>, line: number, issues: CatalogIssue[]): boolean {
  if (bad.has('budget') || typeof rec.budget !== 'object' || rec.budget === null) return true;
  const { total, daily } = rec.budget as { total?: unknown; daily?: unknown };
  if (typeof total === 'number' && typeof daily === 'number' && daily > total) {
    issues.push({ line, field: 'budget.daily', message: `must be at most budget.total (${total})` });
    return false;
  }
  return true;
}

interface PlacementRef {
  line: number;
  tenant: string;
  field: string;
  placement: string;
}

/** Record-level targeting checks; the placements it names are checked against the tenant after the file. */
function targetingChecks(
  rec: Record<string, unknown>,
  bad: ReadonlySet<string>,
  line: number,
  issues: CatalogIssue[],
  placementRefs: PlacementRef[],
): boolean {
  const t = rec.targeting;
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return true;
  const tg = t as Record<string, unknown>;
  let ok = true;
  if (
    typeof tg.basket_min === 'number' &&
    typeof tg.basket_max === 'number' &&
    !bad.has('targeting.basket_min') &&
    !bad.has('targeting.basket_max') &&
    tg.basket_min >= tg.basket_max
  ) {
    issues.push({ line, field: 'targeting.basket_max', message: `must be greater than targeting.basket_min (${tg.basket_min})` });
    ok = false;
  }
  const tenant = goodString(rec, bad, 'tenant');
  if (tenant !== undefined && Array.isArray(tg.placements)) {
    tg.placements.forEach((p: unknown, i) => {
      const field = `targeting.placements[${i}]`;
      if (typeof p === 'string' && !bad.has(field)) placementRefs.push({ line, tenant, field, placement: p });
    });
  }
  return ok;
}

function toTenant(rec: TenantRecord): Tenant {
  return resolveTenant({
    id: rec.id,
    name: rec.name,
    currency: rec.currency,
    blockedAdvertisers: rec.blocked_advertisers,
    blockedCategories: rec.blocked_categories,
    placements: rec.placements.map((p) => ({
      id: p.id,
      name: p.name,
      slots: p.slots,
      floorCpm: p.floor_cpm,
      minRelevance: p.min_relevance,
      pricing: p.pricing,
      exploration: p.exploration === undefined ? undefined : { epsilon: p.exploration.epsilon, pool: p.exploration.pool ?? 10 },
      categoryExclusivity: p.category_exclusivity,
      holdout: p.holdout,
      blockedAdvertisers: p.blocked_advertisers,
      blockedCategories: p.blocked_categories,
    })),
  });
}

function toOffer(rec: OfferRecord, bid: Bid, flight: Flight): Offer {
  // Built field by field so no unknown key and no `kind` rides along into LMDB, and `price` is absent rather
  // than undefined when the file omits it.
  const offer: Offer = {
    id: rec.id,
    tenant: rec.tenant,
    advertiser: rec.advertiser,
    campaign: rec.campaign,
    category: rec.category,
    title: rec.title,
    creative: rec.creative,
    bid: { type: bid.type, amount: bid.amount },
    status: rec.status,
    start: flight.start,
    end: flight.end,
  };
  if (rec.price !== undefined) offer.price = rec.price;
  return offer;
}

/** Only the fields the file gives: an absent field means "no restriction" all the way to the serving code. */
function toTargeting(t: TargetingRecord | undefined): Targeting {
  const out: Targeting = {};
  if (t === undefined) return out;
  if (t.placements !== undefined) out.placements = [...t.placements];
  if (t.channels !== undefined) out.channels = [...t.channels];
  if (t.countries !== undefined) out.countries = [...t.countries];
  if (t.basket_departments_any !== undefined) out.basketDepartmentsAny = [...t.basket_departments_any];
  if (t.basket_departments_none !== undefined) out.basketDepartmentsNone = [...t.basket_departments_none];
  if (t.basket_min !== undefined) out.basketMin = t.basket_min;
  if (t.basket_max !== undefined) out.basketMax = t.basket_max;
  if (t.price_tiers !== undefined) out.priceTiers = [...t.price_tiers];
  if (t.hours !== undefined) out.hours = [...t.hours];
  if (t.weekdays !== undefined) out.weekdays = [...t.weekdays];
  return out;
}

function toCampaign(rec: CampaignRecord, flight: Flight, caps: FrequencyCap[]): Campaign {
  const budget: Campaign['budget'] = {};
  if (rec.budget.total !== undefined) budget.total = rec.budget.total;
  if (rec.budget.daily !== undefined) budget.daily = rec.budget.daily;
  const campaign: Campaign = {
    id: rec.id,
    tenant: rec.tenant,
    advertiser: rec.advertiser,
    name: rec.name,
    status: rec.status,
    start: flight.start,
    end: flight.end,
    budget,
    pacing: rec.pacing ?? CAMPAIGN_DEFAULT_PACING,
    frequencyCaps: caps,
    targeting: toTargeting(rec.targeting),
  };
  if (rec.bid !== undefined) campaign.bid = { type: rec.bid.type, amount: rec.bid.amount };
  return campaign;
}

function toRule(rec: RuleRecord): Rule {
  return { id: rec.id, tenant: rec.tenant, whenDepartments: [...rec.when_departments], offerCategories: [...rec.offer_categories] };
}

function compareIds(a: string, b: string): number {
  // Code-unit order, not localeCompare: the order must be the same on every machine and every Node build.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Offers ordered by (tenant, id): each tenant's offers form one contiguous block. */
export function compareOffers(a: Offer, b: Offer): number {
  return compareIds(a.tenant, b.tenant) || compareIds(a.id, b.id);
}

/** Campaigns and rules ordered by (tenant, id), as a snapshot stores them. */
export function compareByTenantId(a: { tenant: string; id: string }, b: { tenant: string; id: string }): number {
  return compareIds(a.tenant, b.tenant) || compareIds(a.id, b.id);
}

/**
 * The implied campaigns of offers built without a file (tests, benchmarks, versions stored before campaign
 * records existed): one per (tenant, campaign id), its advertiser the first offer's, its flight spanning its
 * offers'. Sorted by (tenant, id). The parser applies the same rule but refuses offers of one implied
 * campaign that disagree on the advertiser.
 */
export function impliedCampaigns(offers: readonly Offer[]): Campaign[] {
  const byKey = new Map<string, Campaign>();
  for (const o of offers) {
    const key = `${o.tenant}\u0000${o.campaign}`;
    const c = byKey.get(key);
    if (c === undefined) byKey.set(key, impliedCampaign(o.campaign, o.tenant, o.advertiser, o.start, o.end));
    else {
      if (o.start < c.start) c.start = o.start;
      if (o.end > c.end) c.end = o.end;
    }
  }
  return [...byKey.values()].sort(compareByTenantId);
}

/** What the cross-record checks need of a campaign record, taken from its valid fields only. */
interface CampaignInfo {
  line: number;
  tenant: string | undefined;
  advertiser: string | undefined;
  /** The record gives a bid (valid or not: an invalid one is blamed on the campaign's line, not its offers'). */
  hasBid: boolean;
  bid: Bid | undefined;
}

/** One offer line, kept until every campaign record has been read. */
interface OfferEntry {
  line: number;
  rec: Record<string, unknown>;
  bad: ReadonlySet<string>;
  /** null when the record is invalid on its own. */
  flight: Flight | null;
}

/** An implied campaign being gathered from its offers. */
interface Implied {
  id: string;
  line: number;
  tenant: string;
  advertiser: string | undefined;
  start: number;
  end: number;
}

/**
 * Parses and validates a whole catalog. `now` (ms) anchors the sanity window for flight times.
 * On success tenants are sorted by id, and offers, campaigns and rules by (tenant, id).
 */
export function parseCatalogJsonl(text: string, now: number = Date.now()): ParseResult {
  const issues: CatalogIssue[] = [];
  const tenants: Tenant[] = [];
  const campaigns: Campaign[] = [];
  const rules: Rule[] = [];
  const tenantLine = new Map<string, number>();
  /** Placement ids of each tenant as its (first) record lists them, valid or not, for targeting checks. */
  const tenantPlacements = new Map<string, Set<string>>();
  const campaignInfo = new Map<string, CampaignInfo>();
  const offerLine = new Map<string, number>();
  const ruleLine = new Map<string, number>();
  const rulesPerTenant = new Map<string, number>();
  const offerEntries: OfferEntry[] = [];
  // Records may precede their tenant in the file, so tenant references are resolved after the last line.
  const tenantRefs: { line: number; tenant: string }[] = [];
  const placementRefs: PlacementRef[] = [];
  let offerRecords = 0;
  let tenantRecords = 0;
  let campaignRecords = 0;
  let tooManyOffers = false;
  let tooManyCampaigns = false;

  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    let raw = lines[i];
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (raw.length > CATALOG_LIMITS.maxLineChars) {
      issues.push({ line, field: '', message: `line is longer than ${CATALOG_LIMITS.maxLineChars} characters` });
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (err) {
      issues.push({ line, field: '', message: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push({ line, field: '', message: 'record must be a JSON object' });
      continue;
    }
    const rec = value as Record<string, unknown>;
    const kind = rec.kind;
    if (kind === 'tenant') {
      tenantRecords++;
      const valid = TenantCheck.Check(rec);
      const bad = valid ? NO_FIELDS : schemaIssues(line, TenantCheck.Errors(rec), issues);
      let ok = valid;
      const id = goodString(rec, bad, 'id');
      if (id !== undefined) {
        const first = tenantLine.get(id);
        if (first !== undefined) {
          issues.push({ line, field: 'id', message: `duplicate tenant id (first defined on line ${first})` });
          ok = false;
        } else {
          tenantLine.set(id, line);
          if (Array.isArray(rec.placements)) {
            const ids = new Set<string>();
            for (const p of rec.placements as unknown[]) {
              const pid = stringField(p, 'id');
              if (pid !== undefined) ids.add(pid);
            }
            tenantPlacements.set(id, ids);
          }
        }
      }
      if (!tenantChecks(rec, bad, line, issues)) ok = false;
      if (valid && ok) tenants.push(toTenant(rec));
    } else if (kind === 'offer') {
      offerRecords++;
      if (offerRecords > CATALOG_LIMITS.maxOffers) {
        tooManyOffers = true;
        continue;
      }
      const valid = OfferCheck.Check(rec);
      const bad = valid ? NO_FIELDS : schemaIssues(line, OfferCheck.Errors(rec), issues);
      let ok = valid;
      const id = goodString(rec, bad, 'id');
      if (id !== undefined) {
        const first = offerLine.get(id);
        if (first !== undefined) {
          issues.push({ line, field: 'id', message: `duplicate offer id (first defined on line ${first})` });
          ok = false;
        } else offerLine.set(id, line);
      }
      const tenant = goodString(rec, bad, 'tenant');
      if (tenant !== undefined) tenantRefs.push({ line, tenant });
      if (!creativeChecks(rec, bad, line, issues)) ok = false;
      const flight = flightChecks(rec, bad, line, now, issues);
      offerEntries.push({ line, rec, bad, flight: valid && ok ? flight : null });
    } else if (kind === 'campaign') {
      campaignRecords++;
      if (campaignRecords > CATALOG_LIMITS.maxCampaigns) {
        tooManyCampaigns = true;
        continue;
      }
      const valid = CampaignCheck.Check(rec);
      const bad = valid ? NO_FIELDS : schemaIssues(line, CampaignCheck.Errors(rec), issues);
      let ok = valid;
      const id = goodString(rec, bad, 'id');
      if (id !== undefined) {
        const first = campaignInfo.get(id);
        if (first !== undefined) {
          issues.push({ line, field: 'id', message: `duplicate campaign id (first defined on line ${first.line})` });
          ok = false;
        } else {
          campaignInfo.set(id, {
            line,
            tenant: goodString(rec, bad, 'tenant'),
            advertiser: goodString(rec, bad, 'advertiser'),
            hasBid: rec.bid !== undefined,
            bid: valid && rec.bid !== undefined ? (rec as CampaignRecord).bid : undefined,
          });
        }
      }
      const tenant = goodString(rec, bad, 'tenant');
      if (tenant !== undefined) tenantRefs.push({ line, tenant });
      const flight = flightChecks(rec, bad, line, now, issues);
      if (!budgetChecks(rec, bad, line, issues)) ok = false;
      const caps = capChecks(rec, bad, line, issues);
      if (!targetingChecks(rec, bad, line, issues, placementRefs)) ok = false;
      if (valid && ok && flight !== null && caps !== null) campaigns.push(toCampaign(rec as CampaignRecord, flight, caps));
    } else if (kind === 'rule') {
      const valid = RuleCheck.Check(rec);
      const bad = valid ? NO_FIELDS : schemaIssues(line, RuleCheck.Errors(rec), issues);
      let ok = valid;
      const id = goodString(rec, bad, 'id');
      const tenant = goodString(rec, bad, 'tenant');
      if (tenant !== undefined) {
        tenantRefs.push({ line, tenant });
        rulesPerTenant.set(tenant, (rulesPerTenant.get(tenant) ?? 0) + 1);
      }
      if (id !== undefined && tenant !== undefined) {
        const key = `${tenant}\u0000${id}`;
        const first = ruleLine.get(key);
        if (first !== undefined) {
          issues.push({ line, field: 'id', message: `duplicate rule id for tenant "${tenant}" (first defined on line ${first})` });
          ok = false;
        } else ruleLine.set(key, line);
      }
      if (valid && ok) rules.push(toRule(rec as RuleRecord));
    } else {
      issues.push({
        line,
        field: 'kind',
        message: kind === undefined ? `required field is missing; must be one of ${KIND_LIST}` : `unknown kind; must be one of ${KIND_LIST}`,
      });
    }
  }

  // A tenant whose own record is invalid is still "defined" (tenantLine has it), so its records are not also
  // blamed for it: the report points at the one line that needs fixing.
  for (const ref of tenantRefs) {
    if (!tenantLine.has(ref.tenant)) {
      issues.push({ line: ref.line, field: 'tenant', message: `tenant "${ref.tenant}" is not defined in this file` });
    }
  }
  for (const ref of placementRefs) {
    const placements = tenantPlacements.get(ref.tenant);
    if (placements !== undefined && !placements.has(ref.placement)) {
      issues.push({ line: ref.line, field: ref.field, message: `placement "${ref.placement}" is not defined for tenant "${ref.tenant}"` });
    }
  }
  const offers = resolveOffers(offerEntries, campaignInfo, campaigns, issues);
  for (const [tenant, n] of rulesPerTenant) {
    if (n > CATALOG_LIMITS.maxRulesPerTenant) {
      issues.push({ line: 0, field: '', message: `tenant "${tenant}" has ${n} rules; at most ${CATALOG_LIMITS.maxRulesPerTenant}` });
    }
  }
  if (tooManyOffers) {
    issues.push({ line: 0, field: '', message: `${offerRecords} offers; at most ${CATALOG_LIMITS.maxOffers}` });
  }
  if (tooManyCampaigns) {
    issues.push({ line: 0, field: '', message: `${campaignRecords} campaigns; at most ${CATALOG_LIMITS.maxCampaigns}` });
  }
  if (tenantRecords > CATALOG_LIMITS.maxTenants) {
    issues.push({ line: 0, field: '', message: `${tenantRecords} tenants; at most ${CATALOG_LIMITS.maxTenants}` });
  }
  if (tenantRecords === 0) {
    issues.push({ line: 0, field: '', message: 'the catalog defines no tenant' });
  }

  if (issues.length > 0) {
    // Cross-record checks run after the loop, so order by line for a report that reads top to bottom.
    issues.sort((a, b) => a.line - b.line);
    if (issues.length > CATALOG_LIMITS.maxIssues) {
      const more = issues.length - CATALOG_LIMITS.maxIssues;
      issues.length = CATALOG_LIMITS.maxIssues;
      issues.push({ line: 0, field: '', message: `${more} more issues not listed` });
    }
    return { ok: false, errors: issues };
  }
  tenants.sort((a, b) => compareIds(a.id, b.id));
  offers.sort(compareOffers);
  campaigns.sort(compareByTenantId);
  rules.sort(compareByTenantId);
  return { ok: true, tenants, offers, campaigns, rules };
}

/**
 * Relates each offer to its campaign: the record's tenant, advertiser and default bid, or else an implied
 * campaign per (tenant, id) gathered from the offers that name it (appended to `campaigns`). Returns the valid
 * offers with their bids resolved.
 */
function resolveOffers(
  entries: readonly OfferEntry[],
  campaignInfo: ReadonlyMap<string, CampaignInfo>,
  campaigns: Campaign[],
  issues: CatalogIssue[],
): Offer[] {
  const offers: Offer[] = [];
  const implied = new Map<string, Implied>();
  for (const e of entries) {
    const { line, rec, bad } = e;
    const campaign = goodString(rec, bad, 'campaign');
    const tenant = goodString(rec, bad, 'tenant');
    const advertiser = goodString(rec, bad, 'advertiser');
    let ok = e.flight !== null;
    let bid: Bid | undefined = bad.has('bid') ? undefined : (rec.bid as Bid | undefined);
    if (campaign === undefined) continue;
    const info = campaignInfo.get(campaign);
    if (info !== undefined) {
      const where = `campaign "${campaign}" (line ${info.line})`;
      if (tenant !== undefined && info.tenant !== undefined && tenant !== info.tenant) {
        issues.push({ line, field: 'tenant', message: `tenant "${tenant}" differs from tenant "${info.tenant}" of ${where}` });
        ok = false;
      }
      if (advertiser !== undefined && info.advertiser !== undefined && advertiser !== info.advertiser) {
        issues.push({ line, field: 'advertiser', message: `advertiser "${advertiser}" differs from advertiser "${info.advertiser}" of ${where}` });
        ok = false;
      }
      if (rec.bid === undefined) {
        if (!info.hasBid) {
          issues.push({ line, field: 'bid', message: `required field is missing: ${where} defines no default bid` });
          ok = false;
        }
        bid = info.bid;
      }
    } else {
      // No record: the offers that name this id imply the campaign, one per tenant (the serving code keys
      // campaigns by tenant and id), so within a tenant they must agree on its advertiser.
      if (rec.bid === undefined) {
        issues.push({ line, field: 'bid', message: `required field is missing: campaign "${campaign}" has no campaign record to give a default bid` });
        ok = false;
      }
      if (tenant !== undefined) {
        const key = `${tenant}\u0000${campaign}`;
        let imp = implied.get(key);
        if (imp === undefined) {
          imp = { id: campaign, tenant, line, advertiser, start: Infinity, end: -Infinity };
          implied.set(key, imp);
        }
        if (advertiser !== undefined) {
          if (imp.advertiser === undefined) imp.advertiser = advertiser;
          else if (advertiser !== imp.advertiser) {
            issues.push({
              line,
              field: 'advertiser',
              message:
                `advertiser "${advertiser}" differs from advertiser "${imp.advertiser}" of campaign "${campaign}" ` +
                `(implied, first named on line ${imp.line}); a campaign belongs to one advertiser`,
            });
            ok = false;
          }
        }
        if (e.flight !== null) {
          if (e.flight.start < imp.start) imp.start = e.flight.start;
          if (e.flight.end > imp.end) imp.end = e.flight.end;
        }
      }
    }
    if (ok && e.flight !== null && bid !== undefined) offers.push(toOffer(rec as OfferRecord, bid, e.flight));
  }
  for (const imp of implied.values()) {
    // An unknown advertiser or an empty flight means every offer of it was invalid: the file is refused anyway.
    if (imp.advertiser !== undefined && imp.start < imp.end) {
      campaigns.push(impliedCampaign(imp.id, imp.tenant, imp.advertiser, imp.start, imp.end));
    }
  }
  return offers;
}
