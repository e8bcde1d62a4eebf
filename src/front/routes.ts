/**
 * Plain HTTP on the decision port: liveness, readiness, info, Prometheus metrics, and the admin endpoints.
 * Admin endpoints take an admin API key; the others are meant for the operator's network and carry no
 * tenant data beyond counts.
 */
import type { TemplatedApp } from 'uWebSockets.js';
import { toWireError } from '../errors/codes.js';
import { apiKeyOf, readBody, reply, send, sendError, sendJson } from './http.js';

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

  app.any('/*', (res, req) => {
    sendError(reply(res), 404, 'bad_request', `no route ${req.getMethod().toUpperCase()} ${req.getUrl()}`);
  });
}
