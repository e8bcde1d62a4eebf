/**
 * Plain HTTP on the decision port: liveness, readiness, info, Prometheus metrics, and the admin endpoints.
 * Admin endpoints take an admin API key; the others are meant for the operator's network and carry no
 * tenant data beyond counts.
 */
import type { TemplatedApp } from 'uWebSockets.js';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { TxrankError, toWireError } from '../errors/codes.js';
import { EventBatch } from '../protocol/messages.js';
import { receivedEvent, type EngagementSink } from './decision-socket.js';
import { apiKeyOf, readBody, reply, send, sendError, sendJson } from './http.js';
import { answerReport, type ReportSource } from '../reporting/http.js';

const checkBatch = TypeCompiler.Compile(EventBatch);

/** Largest event batch body (10,000 events of well under 1 KiB). */
export const MAX_EVENT_BODY_BYTES = 16 * 1024 * 1024;

/** Largest catalog an admin upload may carry. */
export const MAX_ADMIN_BODY_BYTES = 512 * 1024 * 1024;

export interface Readiness {
  ready: boolean;
  reason: string;
}

export interface RouteDeps {
  health: () => unknown;
  readiness: () => Readiness & Record<string, unknown>;
  info: () => unknown;
  metrics: () => Promise<{ contentType: string; body: string }>;
  isAdmin: (key: string) => boolean;
  loadCatalog: (text: string) => Promise<{ ok: true; version: number } | { ok: false; errors: unknown[] }>;
  listCatalogs: () => unknown;
  /** The tenant a (tenant) API key authenticates, or null. */
  tenantOf: (key: string) => string | null;
  engagement?: EngagementSink;
  /** The model registry's operator actions, when the learning loop runs. */
  models?: ModelAdmin;
  /** The online trainer's status (GET /admin/learning), when the learning loop runs. */
  learning?: { status(): Promise<unknown> };
  /** The delivery report's counters (src/reporting); absent: GET /v1/report answers 503. */
  report?: ReportSource;
}

/** Operator actions on the model registry (the model manager thread performs them). */
export interface ModelAdmin {
  list(): Promise<unknown>;
  pin(version?: string): Promise<unknown>;
  unpin(): Promise<unknown>;
  rollback(pin: boolean): Promise<unknown>;
}

export function attachRoutes(app: TemplatedApp, deps: RouteDeps): void {
  app.get('/healthz', (res) => sendJson(reply(res), 200, deps.health()));

  app.get('/readyz', (res) => {
    const r = deps.readiness();
    sendJson(reply(res), r.ready ? 200 : 503, r);
  });

  app.get('/v1/info', (res) => sendJson(reply(res), 200, deps.info()));

  app.get('/metrics', (res) => {
    const r = reply(res);
    deps.metrics().then(
      (m) => send(r, 200, m.contentType, m.body),
      (err: unknown) => sendError(r, 500, 'internal', toWireError(err).message),
    );
  });

  app.get('/admin/catalog', (res, req) => {
    const r = reply(res);
    if (!deps.isAdmin(apiKeyOf(req))) return sendError(r, 401, 'unauthorized', 'an admin API key is required');
    sendJson(r, 200, { versions: deps.listCatalogs() });
  });

  // Body: the catalog as JSONL (docs/CATALOG.md). Atomic: all of it becomes the new version, or nothing.
  app.post('/admin/catalog', (res, req) => {
    const r = reply(res);
    const admin = deps.isAdmin(apiKeyOf(req));
    if (!admin) return sendError(r, 401, 'unauthorized', 'an admin API key is required');
    readBody(r, MAX_ADMIN_BODY_BYTES)
      .then((body) => deps.loadCatalog(body.toString('utf8')))
      .then(
        (result) => {
          if (result.ok) sendJson(r, 200, { version: result.version });
          else sendError(r, 422, 'invalid_catalog', `${result.errors.length} invalid record(s); nothing was loaded`, { errors: result.errors });
        },
        (err: unknown) => sendError(r, 500, 'internal', toWireError(err).message),
      );
  });

  // Server-to-server engagement, e.g. conversions that arrive hours later: {"events": [...]}, each event as
  // on the socket without the envelope. Answers once every accepted event is durably committed, with one
  // result per event in order.
  app.post('/v1/events', (res, req) => {
    const r = reply(res);
    const tenant = deps.tenantOf(apiKeyOf(req));
    if (!tenant) return sendError(r, 401, 'unauthorized', 'a tenant API key is required');
    const sink = deps.engagement;
    if (!sink) return sendError(r, 503, 'internal', 'this server does not take engagement events');
    readBody(r, MAX_EVENT_BODY_BYTES)
      .then(async (body) => {
        let value: unknown;
        try {
          value = JSON.parse(body.toString('utf8'));
        } catch {
          return sendError(r, 400, 'malformed', 'the body is not JSON');
        }
        if (!checkBatch.Check(value)) {
          const first = checkBatch.Errors(value).First();
          return sendError(r, 400, 'bad_request', `${first?.path || '/'}: ${first?.message ?? 'invalid'}`);
        }
        const now = Date.now();
        const outcomes = await sink.ingest(value.events.map((e) => receivedEvent(tenant, e, now)));
        sendJson(r, 200, {
          results: outcomes.map((o) => ('status' in o ? { event_id: o.eventId, status: o.status } : { event_id: o.eventId, code: o.code, message: o.message })),
        });
      })
      .catch((err: unknown) => sendError(r, 500, 'internal', toWireError(err).message));
  });

  // Model registry: history with metrics, pin (optionally to a version), unpin, rollback. Bodies are JSON:
  // pin {"version"?: string}, rollback {"pin"?: boolean}.
  const modelAction = (path: string, act: (models: ModelAdmin, body: Record<string, unknown>) => Promise<unknown>) => {
    app.post(path, (res, req) => {
      const r = reply(res);
      if (!deps.isAdmin(apiKeyOf(req))) return sendError(r, 401, 'unauthorized', 'an admin API key is required');
      const models = deps.models;
      if (!models) return sendError(r, 503, 'not_ready', 'the learning loop is off (--learning false)');
      readBody(r, 64 * 1024)
        .then((body) => {
          const text = body.toString('utf8').trim();
          const parsed: unknown = text ? JSON.parse(text) : {};
          if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TxrankError('bad_request', 'the body must be a JSON object');
          return act(models, parsed as Record<string, unknown>);
        })
        .then(
          (summary) => sendJson(r, 200, summary),
          (err: unknown) => {
            const e = err instanceof SyntaxError ? { code: 'malformed' as const, message: 'the body is not JSON' } : toWireError(err);
            sendError(r, e.code === 'internal' ? 500 : 400, e.code, e.message);
          },
        );
    });
  };
  app.get('/admin/models', (res, req) => {
    const r = reply(res);
    if (!deps.isAdmin(apiKeyOf(req))) return sendError(r, 401, 'unauthorized', 'an admin API key is required');
    if (!deps.models) return sendError(r, 503, 'not_ready', 'the learning loop is off (--learning false)');
    deps.models.list().then(
      (summary) => sendJson(r, 200, summary),
      (err: unknown) => sendError(r, 500, 'internal', toWireError(err).message),
    );
  });
  // The trainer: state, examples trained and held out, exports, progressive metrics per version, its heap.
  app.get('/admin/learning', (res, req) => {
    const r = reply(res);
    if (!deps.isAdmin(apiKeyOf(req))) return sendError(r, 401, 'unauthorized', 'an admin API key is required');
    if (!deps.learning) return sendError(r, 503, 'not_ready', 'the learning loop is off (--learning false)');
    deps.learning.status().then(
      (status) => sendJson(r, 200, status),
      (err: unknown) => {
        const e = toWireError(err);
        sendError(r, e.code === 'not_ready' ? 503 : 500, e.code, e.message);
      },
    );
  });
  modelAction('/admin/models/pin', (m, b) => {
    if (b.version !== undefined && typeof b.version !== 'string') throw new TxrankError('bad_request', '/version: expected a string');
    return m.pin(b.version);
  });
  modelAction('/admin/models/unpin', (m) => m.unpin());
  modelAction('/admin/models/rollback', (m, b) => m.rollback(b.pin === true));

  // The delivery report (docs/REPORTS.md): admin key for any tenant, tenant key for its own.
  app.get('/v1/report', (res, req) => {
    const r = reply(res);
    // Read the request now: it is invalid after this handler returns.
    void answerReport(deps, deps.report, apiKeyOf(req), req.getQuery() ?? '').then((a) =>
      a.status === 200 ? send(r, 200, a.contentType, a.body) : sendError(r, a.status, a.code, a.message),
    );
  });

  app.any('/*', (res, req) => {
    sendError(reply(res), 404, 'bad_request', `no route ${req.getMethod().toUpperCase()} ${req.getUrl()}`);
  });
}
