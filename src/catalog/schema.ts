/**
 * The shape of one catalog JSONL record, as TypeBox schemas compiled once, and the defaults a record's
 * optional fields resolve to. jsonl.ts runs these at the edge and adds the checks a schema cannot express
 * (supported currency, dates, creative size, cross-record rules). docs/CATALOG.md is the prose form of this
 * file and of CATALOG_LIMITS; keep the three in step.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { CHANNELS } from '../features/spec.js';
import { DEPARTMENTS } from '../features/taxonomy.js';
import { PRICE_TIERS, type Campaign, type Placement, type Tenant } from './types.js';

/** Hard bounds on one catalog. They keep a load's memory and a worker's per-version work bounded. */
export const CATALOG_LIMITS = {
  maxOffers: 1_000_000,
  maxTenants: 1_000,
  maxPlacementsPerTenant: 50,
  minSlots: 1,
  maxSlots: 20,
  maxIdChars: 128,
  maxNameChars: 256,
  maxTitleChars: 256,
  maxCategoryChars: 256,
  maxCreativeBytes: 4096,
  /** Campaign records in one file (implied campaigns are bounded by maxOffers). */
  maxCampaigns: 1_000_000,
  /** Rules per tenant: the rules policy walks a tenant's rules on every holdout decision. */
  maxRulesPerTenant: 1_000,
  /** Entries of one blocked-advertisers or blocked-categories list. */
  maxBlockedEntries: 1_000,
  /** Frequency caps of one campaign: every cap is checked against a buyer's history on every decision. */
  maxFrequencyCaps: 20,
  /** Frequency-cap windows, ms: 1 minute .. 30 days (the cap history a server keeps per buyer is bounded by it). */
  minCapWindowMs: 60_000,
  maxCapWindowMs: 30 * 86_400_000,
  maxCapCount: 1_000,
  /** Ids in targeting.placements, entries of targeting.countries, and of a rule's offer_categories. */
  maxTargetingPlacements: 50,
  maxTargetingCountries: 250,
  maxRuleCategories: 100,
  /** A line longer than this is refused before JSON.parse, so one bad line cannot allocate without bound. */
  maxLineChars: 65_536,
  /** V8 cannot hold a string much past 512 MiB; refuse earlier with a clear message. */
  maxFileBytes: 512 * 1024 * 1024,
  /** Issues listed in one report; further ones are counted in a final summary issue. */
  maxIssues: 10_000,
} as const;

/** What an optional placement field is when the file omits it (the blocked lists default to []). */
export const PLACEMENT_DEFAULTS = {
  floorCpm: 0,
  minRelevance: 0,
  pricing: 'gsp',
  exploration: { epsilon: 0, pool: 10 },
  categoryExclusivity: false,
  holdout: 0,
} as const satisfies Partial<Placement>;

/** The default pacing of a campaign record; an implied campaign paces 'asap' (it has no budget to pace). */
export const CAMPAIGN_DEFAULT_PACING = 'even' as const;

/**
 * A placement with every optional field resolved. Fresh arrays and objects each call, so a caller may own
 * and mutate the result. Used by the loader, by the store for versions written before these fields existed,
 * and by code that builds catalogs directly (tests, benchmarks).
 */
export function resolvePlacement(p: Pick<Placement, 'id' | 'name' | 'slots'> & Partial<Placement>): Placement {
  const d = PLACEMENT_DEFAULTS;
  return {
    id: p.id,
    name: p.name,
    slots: p.slots,
    floorCpm: p.floorCpm ?? d.floorCpm,
    minRelevance: p.minRelevance ?? d.minRelevance,
    pricing: p.pricing ?? d.pricing,
    exploration: { epsilon: p.exploration?.epsilon ?? d.exploration.epsilon, pool: p.exploration?.pool ?? d.exploration.pool },
    categoryExclusivity: p.categoryExclusivity ?? d.categoryExclusivity,
    holdout: p.holdout ?? d.holdout,
    blockedAdvertisers: [...(p.blockedAdvertisers ?? [])],
    blockedCategories: [...(p.blockedCategories ?? [])],
  };
}

/** A tenant with every optional field (its own and its placements') resolved; see resolvePlacement. */
export function resolveTenant(
  t: Pick<Tenant, 'id' | 'name' | 'currency'> &
    Partial<Omit<Tenant, 'placements'>> & { placements: (Pick<Placement, 'id' | 'name' | 'slots'> & Partial<Placement>)[] },
): Tenant {
  return {
    id: t.id,
    name: t.name,
    currency: t.currency,
    placements: t.placements.map(resolvePlacement),
    blockedAdvertisers: [...(t.blockedAdvertisers ?? [])],
    blockedCategories: [...(t.blockedCategories ?? [])],
  };
}

/**
 * The campaign an offer's `campaign` id stands for when the file has no record of it: active, flying over
 * its offers' flights, unlimited, unpaced, uncapped, untargeted. It keeps catalogs written before campaign
 * records existed loading, and serving, exactly as before.
 */
export function impliedCampaign(id: string, tenant: string, advertiser: string, start: number, end: number): Campaign {
  return {
    id,
    tenant,
    advertiser,
    name: id,
    status: 'active',
    start,
    end,
    budget: {},
    pacing: 'asap',
    frequencyCaps: [],
    targeting: {},
  };
}

/**
 * Ids are opaque but printable: no whitespace or control characters, so they survive logs, CSV exports and
 * LMDB keys (which cannot contain NUL) unchanged.
 */
export const ID_PATTERN = '^[^\\s\\u0000-\\u001f\\u007f]+$';
export const CURRENCY_PATTERN = '^[A-Z]{3}$';
export const COUNTRY_PATTERN = '^[A-Z]{2}$';
/** A cap window: a positive whole number of minutes, hours or days ("30m", "12h", "7d"). */
export const WINDOW_PATTERN = '^[1-9][0-9]{0,6}[mhd]$';

const Id = Type.String({ minLength: 1, maxLength: CATALOG_LIMITS.maxIdChars, pattern: ID_PATTERN });
const Name = Type.String({ minLength: 1, maxLength: CATALOG_LIMITS.maxNameChars });
/** A category path or path prefix ("beverages/coffee/ground", "alcohol"). */
const CategoryPath = Type.String({ minLength: 1, maxLength: CATALOG_LIMITS.maxCategoryChars });
const Status = Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('archived')]);

function literals<T extends string>(values: readonly T[]) {
  return Type.Union(values.map((v) => Type.Literal(v)));
}
const Department = literals(DEPARTMENTS);

const BlockedAdvertisers = Type.Array(Id, { maxItems: CATALOG_LIMITS.maxBlockedEntries });
const BlockedCategories = Type.Array(CategoryPath, { maxItems: CATALOG_LIMITS.maxBlockedEntries });

/** A timestamp as the file may spell it; jsonl.ts turns it into ms since the epoch. */
export const TimeInput = Type.Union([Type.String({ minLength: 1, maxLength: 40 }), Type.Number()]);

export const PlacementRecord = Type.Object(
  {
    id: Id,
    name: Name,
    slots: Type.Integer({ minimum: CATALOG_LIMITS.minSlots, maximum: CATALOG_LIMITS.maxSlots }),
    // Bounded like bids: anything near the bound is a unit mistake.
    floor_cpm: Type.Optional(Type.Number({ minimum: 0, maximum: 1e6 })),
    min_relevance: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    pricing: Type.Optional(Type.Union([Type.Literal('gsp'), Type.Literal('first')])),
    exploration: Type.Optional(
      Type.Object(
        {
          epsilon: Type.Number({ minimum: 0, maximum: 0.5 }),
          pool: Type.Optional(Type.Integer({ minimum: 2, maximum: 50 })),
        },
        { additionalProperties: false },
      ),
    ),
    category_exclusivity: Type.Optional(Type.Boolean()),
    holdout: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    blocked_advertisers: Type.Optional(BlockedAdvertisers),
    blocked_categories: Type.Optional(BlockedCategories),
  },
  { additionalProperties: false },
);
export type PlacementRecord = Static<typeof PlacementRecord>;

export const TenantRecord = Type.Object(
  {
    kind: Type.Literal('tenant'),
    id: Id,
    name: Name,
    currency: Type.String({ pattern: CURRENCY_PATTERN }),
    placements: Type.Array(PlacementRecord, { minItems: 1, maxItems: CATALOG_LIMITS.maxPlacementsPerTenant }),
    blocked_advertisers: Type.Optional(BlockedAdvertisers),
    blocked_categories: Type.Optional(BlockedCategories),
  },
  { additionalProperties: false },
);
export type TenantRecord = Static<typeof TenantRecord>;

export const BidRecord = Type.Object(
  {
    type: Type.Union([Type.Literal('cpm'), Type.Literal('cpc'), Type.Literal('cpa')]),
    // The upper bound only catches unit mistakes (cents for dollars, micros for units); no real bid is near it.
    amount: Type.Number({ exclusiveMinimum: 0, maximum: 1e6 }),
  },
  { additionalProperties: false },
);

export const OfferRecord = Type.Object(
  {
    kind: Type.Literal('offer'),
    id: Id,
    tenant: Id,
    advertiser: Id,
    campaign: Id,
    category: CategoryPath,
    title: Type.String({ minLength: 1, maxLength: CATALOG_LIMITS.maxTitleChars }),
    creative: Type.Record(Type.String(), Type.Unknown()),
    /** Optional only when the offer's campaign record has a bid; jsonl.ts checks that across records. */
    bid: Type.Optional(BidRecord),
    price: Type.Optional(Type.Number({ minimum: 0, maximum: 1e9 })),
    status: Status,
    start: TimeInput,
    end: TimeInput,
  },
  { additionalProperties: false },
);
export type OfferRecord = Static<typeof OfferRecord>;

/** A targeting list: absent = no restriction, so an empty one is refused rather than meaning "nobody". */
function targetList<T extends TSchema>(item: T, maxItems?: number) {
  return Type.Optional(Type.Array(item, { minItems: 1, uniqueItems: true, ...(maxItems === undefined ? {} : { maxItems }) }));
}

export const TargetingRecord = Type.Object(
  {
    placements: targetList(Id, CATALOG_LIMITS.maxTargetingPlacements),
    channels: targetList(literals(CHANNELS)),
    countries: targetList(Type.String({ pattern: COUNTRY_PATTERN }), CATALOG_LIMITS.maxTargetingCountries),
    basket_departments_any: targetList(Department),
    basket_departments_none: targetList(Department),
    basket_min: Type.Optional(Type.Number({ minimum: 0, maximum: 1e9 })),
    basket_max: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e9 })),
    price_tiers: targetList(literals(PRICE_TIERS)),
    hours: targetList(Type.Integer({ minimum: 0, maximum: 23 })),
    weekdays: targetList(Type.Integer({ minimum: 0, maximum: 6 })),
  },
  { additionalProperties: false },
);
export type TargetingRecord = Static<typeof TargetingRecord>;

export const FrequencyCapRecord = Type.Object(
  {
    scope: Type.Union([Type.Literal('offer'), Type.Literal('campaign'), Type.Literal('advertiser')]),
    max: Type.Integer({ minimum: 1, maximum: CATALOG_LIMITS.maxCapCount }),
    // Exactly one of the two; jsonl.ts checks that and the window's bounds.
    window: Type.Optional(Type.String({ pattern: WINDOW_PATTERN })),
    window_ms: Type.Optional(Type.Integer({ minimum: CATALOG_LIMITS.minCapWindowMs, maximum: CATALOG_LIMITS.maxCapWindowMs })),
  },
  { additionalProperties: false },
);
export type FrequencyCapRecord = Static<typeof FrequencyCapRecord>;

export const CampaignRecord = Type.Object(
  {
    kind: Type.Literal('campaign'),
    id: Id,
    tenant: Id,
    advertiser: Id,
    name: Name,
    status: Status,
    start: TimeInput,
    end: TimeInput,
    budget: Type.Object(
      {
        total: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e12 })),
        daily: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e12 })),
      },
      { additionalProperties: false },
    ),
    bid: Type.Optional(BidRecord),
    pacing: Type.Optional(Type.Union([Type.Literal('even'), Type.Literal('asap')])),
    frequency_caps: Type.Optional(Type.Array(FrequencyCapRecord, { maxItems: CATALOG_LIMITS.maxFrequencyCaps })),
    targeting: Type.Optional(TargetingRecord),
  },
  { additionalProperties: false },
);
export type CampaignRecord = Static<typeof CampaignRecord>;

export const RuleRecord = Type.Object(
  {
    kind: Type.Literal('rule'),
    id: Id,
    tenant: Id,
    when_departments: Type.Array(Department, { minItems: 1, uniqueItems: true }),
    offer_categories: Type.Array(CategoryPath, { minItems: 1, maxItems: CATALOG_LIMITS.maxRuleCategories, uniqueItems: true }),
  },
  { additionalProperties: false },
);
export type RuleRecord = Static<typeof RuleRecord>;

export const RECORD_KINDS = ['tenant', 'offer', 'campaign', 'rule'] as const;

export const TenantCheck = TypeCompiler.Compile(TenantRecord);
export const OfferCheck = TypeCompiler.Compile(OfferRecord);
export const CampaignCheck = TypeCompiler.Compile(CampaignRecord);
export const RuleCheck = TypeCompiler.Compile(RuleRecord);

/** True when a schema is a union of literals, so an error can list the allowed values instead of "union". */
export function literalChoices(schema: TSchema): string[] | null {
  const anyOf: unknown = schema.anyOf;
  if (!Array.isArray(anyOf)) return null;
  const out: string[] = [];
  for (const s of anyOf) {
    if (typeof s !== 'object' || s === null || !('const' in s)) return null;
    out.push(String((s as { const: unknown }).const));
  }
  return out;
}
