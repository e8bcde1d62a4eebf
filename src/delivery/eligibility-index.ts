/**
 * Which of a tenant's offers may be shown for one request, as a row bitset, without looking at a rule per
 * offer: every rule is turned into bitsets once per catalog version, and a request is a handful of word-wise
 * ANDs over ceil(n / 32) words (10,000 offers = 313 words).
 *
 * Row i is offers[i] of the tenant (the worker's view order). A row is eligible for a request when:
 *   - the offer and its campaign are `active` and neither the tenant nor the placement blocks the offer's
 *     advertiser or category (path prefix, whole segments), and the campaign targets the placement;
 *   - the campaign's targeting admits the request's channel, price tier, hour, weekday, country, basket
 *     departments (any / none) and basket total (min inclusive, max exclusive);
 *   - `now` is inside both the offer's and the campaign's flight (start <= now < end).
 * An absent targeting field does not restrict, and neither does an empty list (see `listed`). An offer whose
 * campaign is missing from the campaign list (the loader implies one for every offer, so this should not
 * happen) is treated as having an active campaign with no targeting and an unbounded flight.
 *
 * Threading: one index belongs to one inference worker (one thread) and is immutable after build except for
 * the flight cache and the scratch words, which eligible() and ruleMatches() mutate synchronously and never
 * across an await. Two tasks of the same worker therefore never interleave inside a call, so there is no
 * locking; an index must never be shared between threads (e.g. through a SharedArrayBuffer).
 */
import { PRICE_TIERS, type Campaign, type Offer, type Rule, type Targeting, type Tenant } from '../catalog/types.js';
import { TxrankError } from '../errors/codes.js';
import { CHANNELS } from '../features/spec.js';
import { DEPARTMENT_COUNT, departmentIndex } from '../features/taxonomy.js';
import type { RequestContext } from './types.js';
import { has as hasRow, orInto, setRow, wordsFor } from './bitset.js';

export { clearRows, count, has, nextSet, rowsOf, wordsFor } from './bitset.js';

const HOURS = 24;
const WEEKDAYS = 7;

/** A targeting list restricts only when present and non-empty: an empty list in a catalog row is far more
 * often "no restriction" written by a spreadsheet export than "never show", and never-show is `paused`. */
function listed<T>(list: readonly T[] | undefined): list is readonly T[] {
  return list !== undefined && list.length > 0;
}

/** Category paths compare case-insensitively, without leading/trailing slashes. */
function normPath(path: string): string {
  return path.trim().toLowerCase().replace(/^\/+|\/+$/g, '');
}

/** Whole-segment prefix: "beverages" matches "beverages" and "beverages/soda", not "beveragesx" or "bev". */
function pathHasPrefix(category: string, prefix: string): boolean {
  return category === prefix || (category.length > prefix.length && category.startsWith(prefix) && category.charCodeAt(prefix.length) === 47);
}

function matchesAnyPrefix(category: string, prefixes: readonly string[]): boolean {
  for (const p of prefixes) if (pathHasPrefix(category, p)) return true;
  return false;
}

function normPrefixes(list: readonly string[]): string[] {
  // An empty prefix would block every offer; it is a data error, not a brand-safety intent, so it is dropped.
  return list.map(normPath).filter((p) => p.length > 0);
}

/** Smallest index i with sorted[i] > x (sorted ascending), i.e. the count of values <= x. */
function upperBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sortedUnique(values: number[]): Float64Array {
  const a = Float64Array.from(values).sort();
  let k = 0;
  for (let i = 0; i < a.length; i++) if (i === 0 || a[i] !== a[k - 1]) a[k++] = a[i];
  return a.slice(0, k);
}

export class EligibilityIndex {
  /** Rows (offers) of the tenant. */
  readonly n: number;
  /** Words of every bitset of this index (wordsFor(n)). */
  readonly words: number;
  /** The tenant's campaigns; campaignOf[i] indexes this array. */
  readonly campaigns: Campaign[];
  /** Dense advertiser ids; advertiserOf[i] indexes this array. */
  readonly advertisers: string[];
  /** Per row: index into campaigns, or -1 when the offer's campaign is not in the list. */
  readonly campaignOf: Int32Array;
  /** Per row: index into advertisers (the offer's advertiser). */
  readonly advertiserOf: Int32Array;
  /** Per row: taxonomy department of the offer's category. */
  readonly departmentOf: Uint8Array;

  private readonly campaignIds: Map<string, number>;
  private readonly advertiserIds: Map<string, number>;
  private readonly campaignRows: Int32Array[];
  private readonly advertiserRows: Int32Array[];

  private readonly placementSets: Map<string, Uint32Array>;
  /** Index = CHANNELS index; the extra last entry holds the untargeted rows (for an out-of-range value). */
  private readonly channelSets: Uint32Array[];
  private readonly tierSets: Uint32Array[];
  private readonly hourSets: Uint32Array[];
  private readonly weekdaySets: Uint32Array[];
  private readonly countrySets: Map<string, Uint32Array>;
  private readonly countryUntargeted: Uint32Array;
  /** Rows whose campaign includes department d in basketDepartmentsAny; null when none does (skipped). */
  private readonly anySets: (Uint32Array | null)[];
  /** Rows whose campaign has no basketDepartmentsAny list (shown whatever the basket holds). */
  private readonly noAnyList: Uint32Array;
  /** Rows whose campaign excludes department d; null when no campaign excludes d (skipped per request). */
  private readonly noneSets: (Uint32Array | null)[];
  /** Sorted distinct basketMin/basketMax values; interval j = [breaks[j-1], breaks[j]). */
  private readonly basketBreaks: Float64Array;
  private readonly basketSets: Uint32Array[];

  /** Per row: the intersection of the offer's and the campaign's flights. */
  private readonly flightStart: Float64Array;
  private readonly flightEnd: Float64Array;
  /** Sorted distinct flight boundaries: the rows' membership can change only when now crosses one. */
  private readonly flightBreaks: Float64Array;
  private readonly flight: Uint32Array;
  /** The flight bitset is right for validFrom <= now < validUntil (the boundaries around its computation). */
  private flightValidFrom = Infinity;
  private flightValidUntil = -Infinity;
  private flightRecomputes = 0;

  private readonly ruleList: Rule[];
  private readonly ruleSets: Uint32Array[];
  /** Per department: the rules whose whenDepartments contain it. */
  private readonly rulesByDepartment: Int32Array[];
  /** Per rule: the ruleMatches() call that last ORed it, so a rule fired by two departments is ORed once. */
  private readonly ruleStamp: Uint32Array;
  private ruleEpoch = 0;

  private readonly scratchAny: Uint32Array;
  private readonly scratchNone: Uint32Array;

  private constructor(tenant: Tenant, offers: Offer[], campaigns: Campaign[], rules: Rule[]) {
    const n = offers.length;
    const W = wordsFor(n);
    this.n = n;
    this.words = W;
    const empty = (): Uint32Array => new Uint32Array(W);

    // --- dense ids ------------------------------------------------------------------------------------------
    this.campaigns = campaigns.filter((c) => c.tenant === tenant.id);
    this.campaignIds = new Map(this.campaigns.map((c, i) => [c.id, i]));
    this.advertisers = [];
    this.advertiserIds = new Map();
    const advertiserId = (a: string): number => {
      let id = this.advertiserIds.get(a);
      if (id === undefined) {
        id = this.advertisers.length;
        this.advertisers.push(a);
        this.advertiserIds.set(a, id);
      }
      return id;
    };
    this.campaignOf = new Int32Array(n);
    this.advertiserOf = new Int32Array(n);
    this.departmentOf = new Uint8Array(n);
    const categories: string[] = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const o = offers[i];
      this.campaignOf[i] = this.campaignIds.get(o.campaign) ?? -1;
      this.advertiserOf[i] = advertiserId(o.advertiser);
      this.departmentOf[i] = departmentIndex(o.category);
      categories[i] = normPath(o.category);
    }
    // Campaigns without offers still get an advertiser id: budgets and caps may be keyed by them.
    for (const c of this.campaigns) advertiserId(c.advertiser);
    this.campaignRows = groupRows(this.campaignOf, this.campaigns.length);
    this.advertiserRows = groupRows(this.advertiserOf, this.advertisers.length);

    const targetingOf = (i: number): Targeting | undefined => {
      const ci = this.campaignOf[i];
      return ci < 0 ? undefined : this.campaigns[ci].targeting;
    };

    // --- static per placement ---------------------------------------------------------------------------------
    const tenantBlockedAdv = new Set(tenant.blockedAdvertisers);
    const tenantBlockedCat = normPrefixes(tenant.blockedCategories);
    const base = empty();
    for (let i = 0; i < n; i++) {
      const o = offers[i];
      const ci = this.campaignOf[i];
      if (o.status !== 'active' || (ci >= 0 && this.campaigns[ci].status !== 'active')) continue;
      if (tenantBlockedAdv.has(o.advertiser) || matchesAnyPrefix(categories[i], tenantBlockedCat)) continue;
      setRow(base, i);
    }
    this.placementSets = new Map();
    for (const p of tenant.placements) {
      const blockedAdv = new Set(p.blockedAdvertisers);
      const blockedCat = normPrefixes(p.blockedCategories);
      const set = empty();
      for (let i = 0; i < n; i++) {
        if (!hasRow(base, i)) continue;
        if (blockedAdv.has(offers[i].advertiser) || matchesAnyPrefix(categories[i], blockedCat)) continue;
        const places = targetingOf(i)?.placements;
        if (listed(places) && !places.includes(p.id)) continue;
        setRow(set, i);
      }
      this.placementSets.set(p.id, set);
    }

    // --- small enumerated dimensions ---------------------------------------------------------------------
    // For each dimension, sets[v] = rows untargeted on it | rows whose list contains v; sets[size] = untargeted.
    const enumSets = (size: number, valuesOf: (t: Targeting) => readonly number[] | undefined): Uint32Array[] => {
      const sets = Array.from({ length: size + 1 }, empty);
      for (let i = 0; i < n; i++) {
        const t = targetingOf(i);
        const values = t === undefined ? undefined : valuesOf(t);
        if (!listed(values)) {
          for (let v = 0; v <= size; v++) setRow(sets[v], i);
        } else {
          for (const v of values) if (Number.isInteger(v) && v >= 0 && v < size) setRow(sets[v], i);
        }
      }
      return sets;
    };
    const channelIndex = (c: string): number => (CHANNELS as readonly string[]).indexOf(c);
    const tierIndex = (t: string): number => (PRICE_TIERS as readonly string[]).indexOf(t);
    this.channelSets = enumSets(CHANNELS.length, (t) => t.channels?.map(channelIndex));
    this.tierSets = enumSets(PRICE_TIERS.length, (t) => t.priceTiers?.map(tierIndex));
    this.hourSets = enumSets(HOURS, (t) => t.hours);
    this.weekdaySets = enumSets(WEEKDAYS, (t) => t.weekdays);

    // --- countries ---------------------------------------------------------------------------------------------
    this.countryUntargeted = empty();
    const countryRows = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const list = targetingOf(i)?.countries;
      if (!listed(list)) {
        setRow(this.countryUntargeted, i);
        continue;
      }
      for (const raw of list) {
        const c = raw.toUpperCase();
        let rows = countryRows.get(c);
        if (rows === undefined) countryRows.set(c, (rows = []));
        rows.push(i);
      }
    }
    this.countrySets = new Map();
    for (const [c, rows] of countryRows) {
      const set = this.countryUntargeted.slice();
      for (const r of rows) setRow(set, r);
      this.countrySets.set(c, set);
    }

    // --- basket departments ------------------------------------------------------------------------------------
    const anyDept = Array.from({ length: DEPARTMENT_COUNT }, empty);
    const anyUsed = new Array<boolean>(DEPARTMENT_COUNT).fill(false);
    this.noAnyList = empty();
    const none = Array.from({ length: DEPARTMENT_COUNT }, empty);
    const noneUsed = new Array<boolean>(DEPARTMENT_COUNT).fill(false);
    for (let i = 0; i < n; i++) {
      const t = targetingOf(i);
      const anyList = t?.basketDepartmentsAny;
      if (!listed(anyList)) setRow(this.noAnyList, i);
      else {
        for (const d of anyList) {
          const di = departmentIndex(d);
          setRow(anyDept[di], i);
          anyUsed[di] = true;
        }
      }
      const noneList = t?.basketDepartmentsNone;
      if (listed(noneList)) {
        for (const d of noneList) {
          const di = departmentIndex(d);
          setRow(none[di], i);
          noneUsed[di] = true;
        }
      }
    }
    // Departments nobody lists cost nothing per request (most catalogs target few departments).
    this.anySets = anyDept.map((s, d) => (anyUsed[d] ? s : null));
    this.noneSets = none.map((s, d) => (noneUsed[d] ? s : null));

    // --- basket total: one set per interval between distinct breakpoints ---------------------------------------
    const breaks: number[] = [];
    for (const c of this.campaigns) {
      if (c.targeting.basketMin !== undefined) breaks.push(c.targeting.basketMin);
      if (c.targeting.basketMax !== undefined) breaks.push(c.targeting.basketMax);
    }
    this.basketBreaks = sortedUnique(breaks);
    const intervals = this.basketBreaks.length + 1;
    const unbounded = empty();
    const boundedRows: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = targetingOf(i);
      if (t === undefined || (t.basketMin === undefined && t.basketMax === undefined)) setRow(unbounded, i);
      else boundedRows.push(i);
    }
    this.basketSets = Array.from({ length: intervals }, () => unbounded.slice());
    for (const i of boundedRows) {
      const t = targetingOf(i) as Targeting;
      // Both ends are breakpoints, so a row covers whole intervals: interval j = [breaks[j-1], breaks[j]) lies in
      // [min, max) iff min <= breaks[j-1] and breaks[j] <= max; j from upperBound(min) to upperBound(max) - 1.
      const first = t.basketMin === undefined ? 0 : upperBound(this.basketBreaks, t.basketMin);
      const last = t.basketMax === undefined ? intervals : upperBound(this.basketBreaks, t.basketMax);
      for (let j = first; j < last; j++) setRow(this.basketSets[j], i);
    }

    // --- flight ------------------------------------------------------------------------------------------------
    this.flightStart = new Float64Array(n);
    this.flightEnd = new Float64Array(n);
    const flightBreaks: number[] = [];
    for (let i = 0; i < n; i++) {
      const o = offers[i];
      const ci = this.campaignOf[i];
      const s = ci < 0 ? o.start : Math.max(o.start, this.campaigns[ci].start);
      const e = ci < 0 ? o.end : Math.min(o.end, this.campaigns[ci].end);
      this.flightStart[i] = s;
      this.flightEnd[i] = e;
      flightBreaks.push(s, e);
    }
    this.flightBreaks = sortedUnique(flightBreaks);
    this.flight = empty();

    // --- rules policy --------------------------------------------------------------------------------------------
    this.ruleList = rules.filter((r) => r.tenant === tenant.id);
    this.ruleSets = this.ruleList.map((r) => {
      const prefixes = normPrefixes(r.offerCategories);
      const set = empty();
      for (let i = 0; i < n; i++) if (matchesAnyPrefix(categories[i], prefixes)) setRow(set, i);
      return set;
    });
    const byDept: number[][] = Array.from({ length: DEPARTMENT_COUNT }, () => []);
    this.ruleList.forEach((r, ri) => {
      for (const d of new Set(r.whenDepartments.map(departmentIndex))) byDept[d].push(ri);
    });
    this.rulesByDepartment = byDept.map((l) => Int32Array.from(l));
    this.ruleStamp = new Uint32Array(this.ruleList.length);

    this.scratchAny = empty();
    this.scratchNone = empty();
  }

  /**
   * Builds the index of one tenant for one catalog version: O(n x targeting values) time, once per version.
   * `offers` are the tenant's offers in row order; `campaigns` and `rules` may be the whole catalog's (other
   * tenants' entries are ignored). Rules are optional: only the holdout arm's rules policy needs them.
   */
  static build(tenant: Tenant, offers: Offer[], campaigns: Campaign[], rules: Rule[] = []): EligibilityIndex {
    return new EligibilityIndex(tenant, offers, campaigns, rules);
  }

  /**
   * Writes the eligible rows of one request into `out` (at least `words` long). Allocates nothing; O(words x
   * (8 + 2 x basket departments)), plus an O(n) flight recompute when ctx.now has crossed a flight boundary.
   * An unknown placement has no eligible rows.
   */
  eligible(ctx: RequestContext, out: Uint32Array): void {
    const W = this.words;
    if (out.length < W) throw new TxrankError('internal', `eligibility output has ${out.length} words, needs ${W}`);
    const placement = this.placementSets.get(ctx.placement);
    if (placement === undefined) {
      out.fill(0, 0, W);
      return;
    }
    const flight = this.flightAt(ctx.now);
    const channel = this.channelSets[enumSlot(ctx.channel, CHANNELS.length)];
    const tier = this.tierSets[enumSlot(ctx.priceTier, PRICE_TIERS.length)];
    const hour = this.hourSets[enumSlot(ctx.hour, HOURS)];
    const weekday = this.weekdaySets[enumSlot(ctx.weekday, WEEKDAYS)];
    const country = this.countrySets.get(ctx.country) ?? this.countryUntargeted;
    const basket = this.basketSets[upperBound(this.basketBreaks, ctx.basketTotal)];

    // Departments: (noAnyList | OR any[d]) & ~(OR none[d]) over the basket's departments d.
    const any = this.scratchAny;
    const none = this.scratchNone;
    any.set(this.noAnyList);
    let excluding = false;
    let mask = ctx.basketDepartments >>> 0;
    while (mask !== 0) {
      const d = 31 - Math.clz32(mask & -mask);
      mask &= mask - 1;
      if (d >= DEPARTMENT_COUNT) continue;
      const as = this.anySets[d];
      if (as !== null) orInto(any, as);
      const ns = this.noneSets[d];
      if (ns !== null) {
        if (!excluding) none.set(ns);
        else orInto(none, ns);
        excluding = true;
      }
    }
    if (excluding) {
      for (let w = 0; w < W; w++) {
        out[w] = placement[w] & flight[w] & channel[w] & tier[w] & hour[w] & weekday[w] & country[w] & basket[w] & any[w] & ~none[w];
      }
    } else {
      for (let w = 0; w < W; w++) {
        out[w] = placement[w] & flight[w] & channel[w] & tier[w] & hour[w] & weekday[w] & country[w] & basket[w] & any[w];
      }
    }
  }

  /**
   * The rules policy's candidates for a basket: ORs into `out` (cleared first) the rows matched by every rule
   * whose whenDepartments meet the basket. Returns false when no rule fires (then the caller uses all eligible
   * rows); true even when the fired rules match no offer. AND the result with eligible() before use.
   */
  ruleMatches(basketDepartments: number, out: Uint32Array): boolean {
    const W = this.words;
    if (out.length < W) throw new TxrankError('internal', `rules output has ${out.length} words, needs ${W}`);
    out.fill(0, 0, W);
    if (this.ruleList.length === 0) return false;
    this.ruleEpoch = (this.ruleEpoch + 1) >>> 0;
    if (this.ruleEpoch === 0) {
      // Wrapped after 2^32 calls: stamps that old must not look current.
      this.ruleStamp.fill(0);
      this.ruleEpoch = 1;
    }
    const e = this.ruleEpoch;
    let fired = false;
    let mask = basketDepartments >>> 0;
    while (mask !== 0) {
      const d = 31 - Math.clz32(mask & -mask);
      mask &= mask - 1;
      if (d >= DEPARTMENT_COUNT) continue;
      const rules = this.rulesByDepartment[d];
      for (let k = 0; k < rules.length; k++) {
        const r = rules[k];
        if (this.ruleStamp[r] === e) continue;
        this.ruleStamp[r] = e;
        fired = true;
        const set = this.ruleSets[r];
        for (let w = 0; w < W; w++) out[w] |= set[w];
      }
    }
    return fired;
  }

  /** The rows of campaign ci (ascending). */
  offersOfCampaign(ci: number): Int32Array {
    return this.campaignRows[ci];
  }

  /** The rows of advertiser ai (ascending). */
  offersOfAdvertiser(ai: number): Int32Array {
    return this.advertiserRows[ai];
  }

  /** Dense index of a campaign id, or -1. */
  campaignIndex(id: string): number {
    return this.campaignIds.get(id) ?? -1;
  }

  /** Dense index of an advertiser id, or -1. */
  advertiserIndex(id: string): number {
    return this.advertiserIds.get(id) ?? -1;
  }

  /** This tenant's rules, in the order they were given. */
  get rules(): readonly Rule[] {
    return this.ruleList;
  }

  /** How often the flight set was recomputed (diagnostics and tests). */
  get flightRecomputeCount(): number {
    return this.flightRecomputes;
  }

  /**
   * The rows inside their flight at `now`. Cached between flight boundaries: the set can only change when now
   * crosses some row's start or end, so it is recomputed (O(n)) only then, or when a request's clock goes
   * back past the boundary below the cached window (requests of a batch may carry slightly different nows).
   */
  private flightAt(now: number): Uint32Array {
    if (now >= this.flightValidFrom && now < this.flightValidUntil) return this.flight;
    const f = this.flight;
    f.fill(0);
    const s = this.flightStart;
    const e = this.flightEnd;
    for (let i = 0; i < this.n; i++) if (s[i] <= now && now < e[i]) f[i >>> 5] |= 1 << (i & 31);
    const j = upperBound(this.flightBreaks, now);
    this.flightValidFrom = j === 0 ? -Infinity : this.flightBreaks[j - 1];
    this.flightValidUntil = j === this.flightBreaks.length ? Infinity : this.flightBreaks[j];
    // NaN fails every comparison: leave the window empty so the next call recomputes.
    if (Number.isNaN(now)) this.flightValidUntil = -Infinity;
    this.flightRecomputes++;
    return f;
  }
}

/** An enumerated request value's set index: out-of-range values get the untargeted rows (slot `size`). */
function enumSlot(v: number, size: number): number {
  return v >= 0 && v < size && (v | 0) === v ? v : size;
}

/** Rows grouped by a dense key (ascending within each group). */
function groupRows(keyOf: Int32Array, groups: number): Int32Array[] {
  const counts = new Int32Array(groups);
  for (let i = 0; i < keyOf.length; i++) if (keyOf[i] >= 0) counts[keyOf[i]]++;
  const out = Array.from(counts, (c) => new Int32Array(c));
  counts.fill(0);
  for (let i = 0; i < keyOf.length; i++) {
    const k = keyOf[i];
    if (k >= 0) out[k][counts[k]++] = i;
  }
  return out;
}
