/**
 * GET /v1/report: who sees what, the query checks, both formats. Once through answerReport alone, once
 * through a real uWS app with the real routes (src/front/routes.ts), real API keys and real LMDB counters.
 * (The server's own wiring of the counters, TxrankServer, is the lead's; this app carries only the routes.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import uWS from 'uWebSockets.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../src/catalog/store.js';
import { attachRoutes } from '../src/front/routes.js';
import { answerReport, parseReportParams, type ReportAuth, type ReportSource } from '../src/reporting/http.js';
import { CounterReader, encodeValues, openCountersDb, parseDay, zeroValues, type CounterValues } from '../src/reporting/layout.js';
import type { Report } from '../src/reporting/report.js';

const D = parseDay('2026-11-27') as number;

let dir: string;
let storage: Storage;
let source: ReportSource;
let auth: ReportAuth;
let adminKey: string;
let freshKey: string;
let homeKey: string;

function v(over: Partial<CounterValues>): CounterValues {
  return { ...zeroValues(), ...over };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'txrank-report-http-'));
  storage = openStorage(dir);
  const db = openCountersDb(storage.root);
  if (db === null) throw new Error('no counters DB');
  await storage.root.transaction(() => {
    db.putSync([D, 'freshmart', 'checkout', 'ai', '', ''], encodeValues(v({ decisions: 90 })));
    db.putSync([D, 'freshmart', 'checkout', 'rules', '', ''], encodeValues(v({ decisions: 10 })));
    db.putSync([D, 'freshmart', 'checkout', 'ai', 'c1', 'a1'], encodeValues(v({ served: 90, impressions: 80, clicks: 8 })));
    db.putSync([D, 'hometown', 'checkout', 'ai', '', ''], encodeValues(v({ decisions: 5 })));
  });
  adminKey = await storage.keys.mint('admin', null, 'test');
  freshKey = await storage.keys.mint('tenant', 'freshmart', 'test');
  homeKey = await storage.keys.mint('tenant', 'hometown', 'test');
  source = { reader: CounterReader.of(storage.root), currencyOf: (t) => (t === 'freshmart' ? 'USD' : 'EUR') };
  auth = {
    isAdmin: (k) => storage.keys.verify(k)?.role === 'admin',
    tenantOf: (k) => {
      const rec = storage.keys.verify(k);
      return rec?.role === 'tenant' ? rec.tenant : null;
    },
  };
});

afterAll(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

function tenantsOf(body: string): string[] {
  return (JSON.parse(body) as Report).tenants.map((t) => t.tenant);
}

describe('answerReport', () => {
  it('an admin key sees every tenant, or the one it names', async () => {
    const all = await answerReport(auth, source, adminKey, '');
    expect(all.status).toBe(200);
    if (all.status !== 200) return;
    expect(all.contentType).toBe('application/json');
    expect(tenantsOf(all.body)).toEqual(['freshmart', 'hometown']);
    const one = await answerReport(auth, source, adminKey, 'tenant=hometown&from=2026-11-27&to=2026-11-27');
    expect(one.status === 200 && tenantsOf(one.body)).toEqual(['hometown']);
  });

  it('a tenant key sees only its own tenant; naming another is forbidden', async () => {
    const own = await answerReport(auth, source, freshKey, '');
    expect(own.status === 200 && tenantsOf(own.body)).toEqual(['freshmart']);
    const named = await answerReport(auth, source, freshKey, 'tenant=freshmart');
    expect(named.status === 200 && tenantsOf(named.body)).toEqual(['freshmart']);
    expect(await answerReport(auth, source, homeKey, 'tenant=freshmart')).toMatchObject({ status: 403, code: 'forbidden' });
    expect(await answerReport(auth, source, homeKey, 'tenant=nosuchtenant')).toMatchObject({ status: 403, code: 'forbidden' });
  });

  it('no key or a wrong key is unauthorized, before anything else is looked at', async () => {
    expect(await answerReport(auth, source, '', '')).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await answerReport(auth, source, 'txr_wrong', 'from=bad')).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('a bad query is a 400 bad_request naming the parameter', async () => {
    for (const [q, msg] of [
      ['from=2026-11-31', /from must be a date/],
      ['from=2026-11-28&to=2026-11-27', /after/],
      ['format=csv', /format must be json or text/],
      ['tenat=freshmart', /unknown parameter "tenat"/],
      ['from=2026-11-27&from=2026-11-28', /more than once/],
    ] as const) {
      const a = await answerReport(auth, source, adminKey, q);
      expect(a).toMatchObject({ status: 400, code: 'bad_request' });
      expect(a.status !== 200 && a.message).toMatch(msg);
    }
  });

  it('format=text answers the table; no counters on this server is 503 not_ready', async () => {
    const text = await answerReport(auth, source, freshKey, 'format=text');
    expect(text.status).toBe(200);
    if (text.status !== 200) return;
    expect(text.contentType).toBe('text/plain; charset=utf-8');
    expect(text.body).toContain('holdout: rules served 10.0% of 100 decisions (ai 90, rules 10)');
    expect(await answerReport(auth, undefined, freshKey, '')).toMatchObject({ status: 503, code: 'not_ready' });
  });

  it('parses the query string', () => {
    expect(parseReportParams('tenant=a%20b&from=2026-01-01&format=text')).toEqual({ query: { tenant: 'a b', from: '2026-01-01' }, format: 'text' });
    expect(parseReportParams('')).toEqual({ query: {}, format: 'json' });
  });
});

describe('GET /v1/report on a real uWS app with the real routes', () => {
  let app: uWS.TemplatedApp;
  let token: uWS.us_listen_socket;
  let base: string;

  beforeAll(async () => {
    app = uWS.App();
    attachRoutes(app, {
      health: () => ({ ok: true }),
      readiness: () => ({ ready: true, reason: '' }),
      info: () => ({}),
      metrics: async () => ({ contentType: 'text/plain', body: '' }),
      isAdmin: auth.isAdmin,
      loadCatalog: async () => ({ ok: false, errors: [] }),
      listCatalogs: () => [],
      tenantOf: auth.tenantOf,
      report: source,
    });
    const port = await new Promise<number>((resolve, reject) =>
      app.listen('127.0.0.1', 0, (t) => {
        if (!t) return reject(new Error('cannot listen'));
        token = t;
        resolve(uWS.us_socket_local_port(t as unknown as uWS.us_socket));
      }),
    );
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(() => {
    uWS.us_listen_socket_close(token);
  });

  it('answers JSON and text with the key in Authorization or X-Api-Key', async () => {
    const json = await fetch(`${base}/v1/report?from=2026-11-27`, { headers: { authorization: `Bearer ${adminKey}` } });
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(tenantsOf(await json.text())).toEqual(['freshmart', 'hometown']);
    const text = await fetch(`${base}/v1/report?format=text`, { headers: { 'x-api-key': freshKey } });
    expect(text.status).toBe(200);
    expect(await text.text()).toContain('== freshmart (money in USD) ==');
  });

  it('answers errors with the typed body of the other routes', async () => {
    const none = await fetch(`${base}/v1/report`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ code: 'unauthorized', message: 'an admin or tenant API key is required' });
    const other = await fetch(`${base}/v1/report?tenant=hometown`, { headers: { 'x-api-key': freshKey } });
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ code: 'forbidden' });
    const bad = await fetch(`${base}/v1/report?to=yesterday`, { headers: { 'x-api-key': freshKey } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/^to must be a date/) });
  });
});
