/**
 * GET /v1/report?tenant=&from=&to=&placement=&format=json|text, as one function the route calls
 * (src/front/routes.ts), so the route stays a few lines and everything here is testable without a server.
 *
 * Who sees what: an admin key sees any tenant (all of them when `tenant` is absent); a tenant key sees only
 * its own tenant (the default), and naming another tenant is `forbidden` (403). No key or a wrong one is
 * `unauthorized` (401). A malformed query is `bad_request` (400) naming the parameter.
 */
import { TxrankError, toWireError, type ErrorCode } from '../errors/codes.js';
import type { CounterReader } from './layout.js';
import { renderJson, renderText } from './render.js';
import { buildReportInTurns, type ReportOptions, type ReportQuery } from './report.js';

/** What the server gives the route: where the counters are, and the tenants' currencies for labels. */
export interface ReportSource {
  reader: CounterReader;
  currencyOf?: (tenant: string) => string | undefined;
}

export interface ReportAuth {
  isAdmin: (key: string) => boolean;
  /** The tenant a tenant API key authenticates, or null. */
  tenantOf: (key: string) => string | null;
}

export type ReportAnswer =
  | { status: 200; contentType: string; body: string }
  | { status: 400 | 401 | 403 | 500 | 503; code: ErrorCode; message: string };

const PARAMS = new Set(['tenant', 'from', 'to', 'placement', 'format']);

/** The query string (without '?') as a ReportQuery and a format. Throws `bad_request`. */
export function parseReportParams(query: string): { query: ReportQuery; format: 'json' | 'text' } {
  const params = new URLSearchParams(query);
  const seen = new Set<string>();
  for (const name of params.keys()) {
    if (!PARAMS.has(name)) throw new TxrankError('bad_request', `unknown parameter "${name}"; expected tenant, from, to, placement, format`);
    if (seen.has(name)) throw new TxrankError('bad_request', `parameter "${name}" is given more than once`);
    seen.add(name);
  }
  const format = params.get('format') ?? 'json';
  if (format !== 'json' && format !== 'text') throw new TxrankError('bad_request', `format must be json or text; got "${format}"`);
  const q: ReportQuery = {};
  for (const name of ['tenant', 'from', 'to', 'placement'] as const) {
    const v = params.get(name);
    if (v !== null) q[name] = v;
  }
  return { query: q, format };
}

/** Answers one report request. Never rejects: failures are answered with their code. */
export async function answerReport(auth: ReportAuth, source: ReportSource | undefined, apiKey: string, queryString: string): Promise<ReportAnswer> {
  const admin = apiKey !== '' && auth.isAdmin(apiKey);
  const own = admin || apiKey === '' ? null : auth.tenantOf(apiKey);
  if (!admin && own === null) return { status: 401, code: 'unauthorized', message: 'an admin or tenant API key is required' };
  let parsed: ReturnType<typeof parseReportParams>;
  try {
    parsed = parseReportParams(queryString);
  } catch (err) {
    return { status: 400, ...toWireError(err) };
  }
  const { query, format } = parsed;
  if (own !== null) {
    // Another tenant's name gets the same answer whether or not that tenant exists.
    if (query.tenant !== undefined && query.tenant !== own) return { status: 403, code: 'forbidden', message: 'a tenant key sees only its own tenant\'s report' };
    query.tenant = own;
  }
  if (source === undefined) return { status: 503, code: 'not_ready', message: 'this server keeps no report counters' };
  try {
    const opts: ReportOptions = source.currencyOf ? { currencyOf: source.currencyOf } : {};
    const report = await buildReportInTurns(source.reader, query, opts);
    return format === 'text'
      ? { status: 200, contentType: 'text/plain; charset=utf-8', body: renderText(report) }
      : { status: 200, contentType: 'application/json', body: renderJson(report) };
  } catch (err) {
    const e = toWireError(err);
    return { status: e.code === 'bad_request' ? 400 : 500, ...e };
  }
}
