import { ValueErrorType } from '@sinclair/typebox/errors';
import { isSupportedCurrency, USD_PER_UNIT } from '../features/currency.js';
import { CATALOG_LIMITS, OfferCheck, RECORD_KINDS, TenantCheck, literalChoices, } from './schema.js';
const NO_FIELDS = new Set();
const YEAR_MS = 365.25 * 24 * 3600 * 1000;
/**
 * Flight times must fall in [2000-01-01, now + 100 years]. The window exists to catch unit mistakes, the
 * commonest catalog bug: seconds given as ms land in 1970, microseconds land tens of thousands of years out.
 */
const MIN_TIME_MS = Date.UTC(2000, 0, 1);
const MAX_FUTURE_MS = 100 * YEAR_MS;
// Date-only means UTC midnight. A date-time must carry its offset: without one, JavaScript reads it in the
// loading machine's local zone, and a catalog must not mean different flights on different servers.
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2}))?$/;
/** ms since the epoch of an ISO-8601 date or date-time with offset; null when the text is not one. */
export function parseIsoTime(text) {
    const m = ISO_RE.exec(text);
    if (m === null)
        return null;
    const [, ys, mos, ds, hs, mis, ss, frac, zone] = m;
    const y = Number(ys);
    const mo = Number(mos);
    const d = Number(ds);
    const h = hs === undefined ? 0 : Number(hs);
    const mi = mis === undefined ? 0 : Number(mis);
    const s = ss === undefined ? 0 : Number(ss);
    const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59)
        return null;
    const utc = Date.UTC(y, mo - 1, d, h, mi, s, ms);
    // Date.UTC rolls Feb 30 over into March; a round trip through the calendar fields rejects it.
    const check = new Date(utc);
    if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d)
        return null;
    let offsetMin = 0;
    if (zone !== undefined && zone !== 'Z') {
        const sign = zone[0] === '-' ? -1 : 1;
        const digits = zone.slice(1).replace(':', '');
        const oh = Number(digits.slice(0, 2));
        const om = Number(digits.slice(2, 4));
        if (oh > 14 || om > 59)
            return null;
        offsetMin = sign * (oh * 60 + om);
    }
    return utc - offsetMin * 60_000;
}
/** JSON Pointer ("/placements/0/slots") to the dotted form people read ("placements[0].slots"). */
export function pointerToField(pointer) {
    if (pointer === '')
        return '';
    let out = '';
    for (const raw of pointer.slice(1).split('/')) {
        const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
        if (/^\d+$/.test(part))
            out += `[${part}]`;
        else
            out += out === '' ? part : `.${part}`;
    }
    return out;
}
function describe(err) {
    switch (err.type) {
        case ValueErrorType.ObjectAdditionalProperties:
            return 'unknown field';
        case ValueErrorType.ObjectRequiredProperty:
            return 'required field is missing';
        case ValueErrorType.Union: {
            const choices = literalChoices(err.schema);
            if (choices !== null)
                return `must be one of ${choices.map((c) => `"${c}"`).join(', ')}`;
            return 'must be an ISO-8601 date string or a number of milliseconds since the epoch';
        }
        case ValueErrorType.StringPattern:
            return err.path.endsWith('/currency')
                ? 'must be a 3-letter upper-case ISO 4217 code'
                : 'must not contain whitespace or control characters';
        default:
            return err.message.charAt(0).toLowerCase() + err.message.slice(1);
    }
}
/**
 * One issue per distinct field: TypeBox can report several failures at one path (length and pattern), and
 * after a required field is missing it also reports the missing value's type; the first says it all.
 * Returns the top-level fields that failed, so the record-level checks below skip them.
 */
function schemaIssues(line, errors, out) {
    const seen = new Set();
    const bad = new Set();
    for (const err of errors) {
        const field = pointerToField(err.path);
        bad.add(field.split(/[.[]/, 1)[0]);
        if (seen.has(field))
            continue;
        seen.add(field);
        out.push({ line, field, message: describe(err) });
    }
    return bad;
}
function timeValue(value, field, line, now, issues) {
    let ms;
    if (typeof value === 'number') {
        if (!Number.isInteger(value)) {
            issues.push({ line, field, message: 'must be a whole number of milliseconds since the epoch' });
            return null;
        }
        ms = value;
    }
    else if (typeof value === 'string') {
        ms = parseIsoTime(value);
        if (ms === null) {
            issues.push({
                line,
                field,
                message: 'must be an ISO-8601 date ("2025-03-01") or date-time with offset ("2025-03-01T08:00:00Z")',
            });
            return null;
        }
    }
    else
        return null;
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
function tenantChecks(rec, bad, line, issues) {
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
        const seen = new Map();
        rec.placements.forEach((p, i) => {
            const id = typeof p === 'object' && p !== null ? p.id : undefined;
            if (typeof id !== 'string')
                return;
            const first = seen.get(id);
            if (first !== undefined) {
                issues.push({ line, field: `placements[${i}].id`, message: `duplicate placement id (also placements[${first}])` });
                ok = false;
            }
            else
                seen.set(id, i);
        });
    }
    return ok;
}
function offerChecks(rec, bad, line, now, issues) {
    let ok = true;
    if (!bad.has('creative')) {
        const creativeBytes = Buffer.byteLength(JSON.stringify(rec.creative), 'utf8');
        if (creativeBytes > CATALOG_LIMITS.maxCreativeBytes) {
            issues.push({
                line,
                field: 'creative',
                message: `is ${creativeBytes} bytes as JSON; at most ${CATALOG_LIMITS.maxCreativeBytes}`,
            });
            ok = false;
        }
    }
    const start = bad.has('start') ? null : timeValue(rec.start, 'start', line, now, issues);
    const end = bad.has('end') ? null : timeValue(rec.end, 'end', line, now, issues);
    if (start === null || end === null)
        return null;
    if (end <= start) {
        issues.push({ line, field: 'end', message: 'must be after start' });
        return null;
    }
    return ok ? { start, end } : null;
}
function toTenant(rec) {
    const placements = rec.placements.map((p) => ({ id: p.id, name: p.name, slots: p.slots }));
    return { id: rec.id, name: rec.name, currency: rec.currency, placements };
}
function toOffer(rec, start, end) {
    // Built field by field so no unknown key and no `kind` rides along into LMDB, and `price` is absent rather
    // than undefined when the file omits it.
    const offer = {
        id: rec.id,
        tenant: rec.tenant,
        advertiser: rec.advertiser,
        campaign: rec.campaign,
        category: rec.category,
        title: rec.title,
        creative: rec.creative,
        bid: { type: rec.bid.type, amount: rec.bid.amount },
        status: rec.status,
        start,
        end,
    };
    if (rec.price !== undefined)
        offer.price = rec.price;
    return offer;
}
function compareIds(a, b) {
    // Code-unit order, not localeCompare: the order must be the same on every machine and every Node build.
    return a < b ? -1 : a > b ? 1 : 0;
}
/** Offers ordered by (tenant, id): each tenant's offers form one contiguous block. */
export function compareOffers(a, b) {
    return compareIds(a.tenant, b.tenant) || compareIds(a.id, b.id);
}
/**
 * Parses and validates a whole catalog. `now` (ms) anchors the sanity window for flight times.
 * On success offers are sorted by (tenant, id) and tenants by id.
 */
export function parseCatalogJsonl(text, now = Date.now()) {
    const issues = [];
    const tenants = [];
    const offers = [];
    const tenantLine = new Map();
    const offerLine = new Map();
    // Offers may precede their tenant in the file, so tenant references are resolved after the last line.
    const tenantRefs = [];
    let offerRecords = 0;
    let tenantRecords = 0;
    let tooManyOffers = false;
    const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    const lines = body.split('\n');
    for (let i = 0; i < lines.length; i++) {
        const line = i + 1;
        let raw = lines[i];
        if (raw.endsWith('\r'))
            raw = raw.slice(0, -1);
        const trimmed = raw.trim();
        if (trimmed === '' || trimmed.startsWith('#'))
            continue;
        if (raw.length > CATALOG_LIMITS.maxLineChars) {
            issues.push({ line, field: '', message: `line is longer than ${CATALOG_LIMITS.maxLineChars} characters` });
            continue;
        }
        let value;
        try {
            value = JSON.parse(trimmed);
        }
        catch (err) {
            issues.push({ line, field: '', message: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` });
            continue;
        }
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
            issues.push({ line, field: '', message: 'record must be a JSON object' });
            continue;
        }
        const rec = value;
        const kind = rec.kind;
        if (kind === 'tenant') {
            tenantRecords++;
            const valid = TenantCheck.Check(rec);
            const bad = valid ? NO_FIELDS : schemaIssues(line, TenantCheck.Errors(rec), issues);
            let ok = valid;
            if (!bad.has('id') && typeof rec.id === 'string') {
                const first = tenantLine.get(rec.id);
                if (first !== undefined) {
                    issues.push({ line, field: 'id', message: `duplicate tenant id (first defined on line ${first})` });
                    ok = false;
                }
                else
                    tenantLine.set(rec.id, line);
            }
            if (!tenantChecks(rec, bad, line, issues))
                ok = false;
            if (valid && ok)
                tenants.push(toTenant(rec));
        }
        else if (kind === 'offer') {
            offerRecords++;
            if (offerRecords > CATALOG_LIMITS.maxOffers) {
                tooManyOffers = true;
                continue;
            }
            const valid = OfferCheck.Check(rec);
            const bad = valid ? NO_FIELDS : schemaIssues(line, OfferCheck.Errors(rec), issues);
            let ok = valid;
            if (!bad.has('id') && typeof rec.id === 'string') {
                const first = offerLine.get(rec.id);
                if (first !== undefined) {
                    issues.push({ line, field: 'id', message: `duplicate offer id (first defined on line ${first})` });
                    ok = false;
                }
                else
                    offerLine.set(rec.id, line);
            }
            if (!bad.has('tenant') && typeof rec.tenant === 'string')
                tenantRefs.push({ line, tenant: rec.tenant });
            const flight = offerChecks(rec, bad, line, now, issues);
            if (flight === null)
                ok = false;
            if (valid && ok && flight !== null)
                offers.push(toOffer(rec, flight.start, flight.end));
        }
        else {
            issues.push({
                line,
                field: 'kind',
                message: kind === undefined
                    ? 'required field is missing; must be one of "tenant", "offer"'
                    : `unknown kind; must be one of ${RECORD_KINDS.map((k) => `"${k}"`).join(', ')}`,
            });
        }
    }
    // A tenant whose own record is invalid is still "defined" (tenantLine has it), so its offers are not also
    // blamed for it: the report points at the one line that needs fixing.
    for (const ref of tenantRefs) {
        if (!tenantLine.has(ref.tenant)) {
            issues.push({ line: ref.line, field: 'tenant', message: `tenant "${ref.tenant}" is not defined in this file` });
        }
    }
    if (tooManyOffers) {
        issues.push({ line: 0, field: '', message: `${offerRecords} offers; at most ${CATALOG_LIMITS.maxOffers}` });
    }
    if (tenantRecords > CATALOG_LIMITS.maxTenants) {
        issues.push({ line: 0, field: '', message: `${tenantRecords} tenants; at most ${CATALOG_LIMITS.maxTenants}` });
    }
    if (tenantRecords === 0) {
        issues.push({ line: 0, field: '', message: 'the catalog defines no tenant' });
    }
    if (issues.length > 0) {
        // Tenant references are checked after the loop, so order by line for a report that reads top to bottom.
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
    return { ok: true, tenants, offers };
}
