/**
 * The shape of one catalog JSONL record, as TypeBox schemas compiled once. jsonl.ts runs these at the edge and
 * adds the checks a schema cannot express (supported currency, dates, creative size, cross-record rules).
 * docs/CATALOG.md is the prose form of this file and of CATALOG_LIMITS; keep the three in step.
 */
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
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
    /** A line longer than this is refused before JSON.parse, so one bad line cannot allocate without bound. */
    maxLineChars: 65_536,
    /** V8 cannot hold a string much past 512 MiB; refuse earlier with a clear message. */
    maxFileBytes: 512 * 1024 * 1024,
    /** Issues listed in one report; further ones are counted in a final summary issue. */
    maxIssues: 10_000,
};
/**
 * Ids are opaque but printable: no whitespace or control characters, so they survive logs, CSV exports and
 * LMDB keys (which cannot contain NUL) unchanged.
 */
const ID_PATTERN = '^[^\\s\\u0000-\\u001f\\u007f]+$';
const Id = Type.String({ minLength: 1, maxLength: CATALOG_LIMITS.maxIdChars, pattern: ID_PATTERN });
const Name = Type.String({ minLength: 1, maxLength: CATALOG_LIMITS.maxNameChars });
/** A timestamp as the file may spell it; jsonl.ts turns it into ms since the epoch. */
export const TimeInput = Type.Union([Type.String({ minLength: 1, maxLength: 40 }), Type.Number()]);
export const PlacementRecord = Type.Object({
    id: Id,
    name: Name,
    slots: Type.Integer({ minimum: CATALOG_LIMITS.minSlots, maximum: CATALOG_LIMITS.maxSlots }),
}, { additionalProperties: false });
export const TenantRecord = Type.Object({
    kind: Type.Literal('tenant'),
    id: Id,
    name: Name,
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    placements: Type.Array(PlacementRecord, { minItems: 1, maxItems: CATALOG_LIMITS.maxPlacementsPerTenant }),
}, { additionalProperties: false });
export const BidRecord = Type.Object({
    type: Type.Union([Type.Literal('cpm'), Type.Literal('cpc'), Type.Literal('cpa')]),
    // The upper bound only catches unit mistakes (cents for dollars, micros for units); no real bid is near it.
    amount: Type.Number({ exclusiveMinimum: 0, maximum: 1e6 }),
}, { additionalProperties: false });
export const OfferRecord = Type.Object({
    kind: Type.Literal('offer'),
    id: Id,
    tenant: Id,
    advertiser: Id,
    campaign: Id,
    category: Type.String({ minLength: 1, maxLength: CATALOG_LIMITS.maxCategoryChars }),
    title: Type.String({ minLength: 1, maxLength: CATALOG_LIMITS.maxTitleChars }),
    creative: Type.Record(Type.String(), Type.Unknown()),
    bid: BidRecord,
    price: Type.Optional(Type.Number({ minimum: 0, maximum: 1e9 })),
    status: Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('archived')]),
    start: TimeInput,
    end: TimeInput,
}, { additionalProperties: false });
export const RECORD_KINDS = ['tenant', 'offer'];
export const TenantCheck = TypeCompiler.Compile(TenantRecord);
export const OfferCheck = TypeCompiler.Compile(OfferRecord);
/** True when a schema is a union of literals, so an error can list the allowed values instead of "union". */
export function literalChoices(schema) {
    const anyOf = schema.anyOf;
    if (!Array.isArray(anyOf))
        return null;
    const out = [];
    for (const s of anyOf) {
        if (typeof s !== 'object' || s === null || !('const' in s))
            return null;
        out.push(String(s.const));
    }
    return out;
}
