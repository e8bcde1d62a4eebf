/**
 * The WebSocket route: authentication at the upgrade, then one pipelined stream of decide requests per
 * connection. Each frame is validated once here (src/protocol/validate.ts) and handed to the pool as typed
 * values; answers go back as soon as each is ready, in whatever order, matched by the request's id.
 *
 * Nothing a client sends can close its connection except a frame over uWS's hard payload limit (16x
 * maxFrameBytes, closed with 1009) or refusing to read answers (closed once maxBackpressureBytes are
 * buffered): every other bad input is answered with a typed `error` and the connection stays open.
 */
import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import type { ErrorCode } from '../errors/codes.js';
import { transactionFeatures } from '../features/transaction.js';
import { TXN_DIM } from '../features/spec.js';
import type { Options } from '../config/options.js';
import type { InferencePool } from '../pool/inference-pool.js';
import type { JobResult } from '../pool/messages.js';
import type { DecisionRecord, EngagementEvent, EventOutcome } from '../events/types.js';
import { encodeMessage } from '../protocol/codec.js';
import { PROTOCOL_VERSION, type DecideRequest, type EventKind, type EventRequest, type RequestId } from '../protocol/messages.js';
import { parseInbound } from '../protocol/validate.js';
import { nowMs } from '../observability/clock.js';
import type { Metrics } from '../observability/metrics.js';
import type { Placement, Tenant } from '../catalog/types.js';
import type { Arm, RequestContext, ServedEntry } from '../delivery/types.js';
import { apiKeyOf } from './http.js';

export interface Connection {
  tenant: string;
  inFlight: number;
  closed: boolean;
}

/** A decision as the log needs it, with the arm that chose it as its policy. */
export type ServedDecision = DecisionRecord;

/** One engagement event, validated, with the tenant of the connection that sent it. */
export type ReceivedEvent = EngagementEvent;

export type { EventOutcome };

/** Where decisions are logged and events are ingested (src/events). */
export interface EngagementSink {
  /** Fire-and-forget; must cost microseconds (it runs once per decision on the main thread). */
  logDecision(d: ServedDecision): void;
  /** Resolves once accepted events are durably committed. */
  ingest(events: ReceivedEvent[]): Promise<EventOutcome[]>;
}

/** A tenant of the serving catalog, as the edge checks it. */
export interface ServingTenant {
  tenant: Tenant;
  placements: ReadonlyMap<string, Placement>;
}

/** The delivery state the edge consults once per request (src/delivery/delivery.ts). */
export interface DeliveryFront {
  /** The arm (holdout split), the eligibility context and the buyer's served history: microseconds. */
  prepare(req: DecideRequest, tenant: Tenant, placement: Placement, now: number): { arm: Arm; ctx: RequestContext; history: readonly ServedEntry[] | null };
  /** After the answer: frequency history and report counters. Fire-and-forget. */
  served(rec: DecisionRecord): void;
}

export interface DecisionSocketDeps {
  options: Options;
  pool: InferencePool;
  metrics: Metrics;
  /** The tenant an API key authenticates, or null. */
  authenticate: (key: string) => string | null;
  /** A tenant of the current catalog with its placements, or undefined for an unknown tenant. */
  tenant: (tenant: string) => ServingTenant | undefined;
  delivery: DeliveryFront;
  /** True once shutdown has begun: new requests are refused with shutting_down. */
  draining: () => boolean;
  /** Decision log and event ingest; absent, events are refused with `internal`. */
  engagement?: EngagementSink;
}

export const DECIDE_PATH = '/v1/ws';

export class DecisionSocket {
  readonly sockets = new Set<WebSocket<Connection>>();
  /**
   * Answers produced outside a uWS callback (they come back from a worker) wait here until the end of the
   * current job, then go out corked, one cork per socket: a batch of 16 answers to one gateway becomes one
   * write syscall instead of 16, which on this class of VM is most of the cost of sending.
   */
  private readonly outbox = new Map<WebSocket<Connection>, Uint8Array[]>();
  private flushQueued = false;

  constructor(private readonly deps: DecisionSocketDeps) {}

  attach(app: TemplatedApp): void {
    const { options } = this.deps;
    app.ws<Connection>(DECIDE_PATH, {
      // uWS closes the connection on a frame over this; we set it well above maxFrameBytes so that ordinary
      // oversized frames get a typed frame_too_large answer instead of a dropped connection.
      maxPayloadLength: Math.min(options.maxFrameBytes * 16, 64 * 1024 * 1024),
      maxBackpressure: options.maxBackpressureBytes,
      closeOnBackpressureLimit: 1,
      idleTimeout: options.idleTimeoutSeconds,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        // req is valid only in this synchronous handler: read everything now.
        const key = apiKeyOf(req);
        const secKey = req.getHeader('sec-websocket-key');
        const secProtocol = req.getHeader('sec-websocket-protocol');
        const secExtensions = req.getHeader('sec-websocket-extensions');
        const tenant = key ? this.deps.authenticate(key) : null;
        if (!tenant) {
          const body = JSON.stringify({
            code: 'unauthorized',
            message: key ? 'the API key is not valid for decisions' : 'missing API key: send "Authorization: Bearer <key>"',
          });
          res.writeStatus('401 Unauthorized').writeHeader('content-type', 'application/json').end(body);
          this.deps.metrics.answers.inc({ code: 'unauthorized' });
          return;
        }
        if (this.deps.draining()) {
          res.writeStatus('503 Service Unavailable').writeHeader('content-type', 'application/json')
            .end(JSON.stringify({ code: 'shutting_down', message: 'the server is shutting down' }));
          return;
        }
        const conn: Connection = { tenant, inFlight: 0, closed: false };
        res.upgrade(conn, secKey, secProtocol, secExtensions, context);
      },
      open: (ws) => {
        this.sockets.add(ws);
      },
      message: (ws, message, isBinary) => this.onMessage(ws, message, isBinary),
      close: (ws) => {
        ws.getUserData().closed = true;
        this.sockets.delete(ws);
      },
    });
  }

  private onMessage(ws: WebSocket<Connection>, message: ArrayBuffer, isBinary: boolean): void {
    const receivedAt = nowMs();
    const conn = ws.getUserData();
    if (!isBinary) {
      this.sendError(ws, undefined, 'malformed', 'expected a binary frame holding MessagePack; got a text frame', receivedAt);
      return;
    }
    // The ArrayBuffer is valid only during this callback; parseInbound decodes synchronously and copies
    // every string it keeps, so nothing below aliases it.
    const parsed = parseInbound(new Uint8Array(message), this.deps.options.maxFrameBytes);
    if (!parsed.ok) {
      this.sendError(ws, parsed.id, parsed.code, parsed.message, receivedAt);
      return;
    }
    const msg = parsed.msg;
    if (this.deps.draining()) {
      this.sendError(ws, msg.id, 'shutting_down', 'the server is shutting down', receivedAt);
      return;
    }
    switch (msg.type) {
      case 'decide':
        this.onDecide(ws, conn, msg, receivedAt);
        break;
      case 'event':
        this.onEvent(ws, conn, msg, receivedAt);
        break;
      default: {
        const never: never = msg;
        throw new Error(`unhandled message ${JSON.stringify(never)}`);
      }
    }
  }

  private onDecide(ws: WebSocket<Connection>, conn: Connection, req: DecideRequest, receivedAt: number): void {
    // A tenant sees only its own placements and offers; naming another tenant is refused without saying
    // whether it exists.
    if (req.tenant !== conn.tenant) {
      this.sendError(ws, req.id, 'forbidden', `this connection is authenticated as tenant ${conn.tenant}`, receivedAt);
      return;
    }
    const serving = this.deps.tenant(req.tenant);
    if (!serving) {
      this.sendError(ws, req.id, 'unknown_tenant', `tenant ${req.tenant} is not in the serving catalog`, receivedAt);
      return;
    }
    const placement = serving.placements.get(req.placement);
    if (!placement) {
      this.sendError(ws, req.id, 'unknown_placement', `tenant ${req.tenant} has no placement ${req.placement}`, receivedAt);
      return;
    }
    if (conn.inFlight >= this.deps.options.maxInFlightPerConnection) {
      this.sendError(ws, req.id, 'overloaded', `this connection has ${conn.inFlight} requests in flight (limit ${this.deps.options.maxInFlightPerConnection})`, receivedAt);
      return;
    }
    const features = new Float32Array(TXN_DIM);
    transactionFeatures(req.txn, features);
    const { arm, ctx, history } = this.deps.delivery.prepare(req, serving.tenant, placement, Date.now());
    const accepted = this.deps.pool.submit({
      job: {
        requestId: req.id,
        tenant: req.tenant,
        placement: req.placement,
        k: Math.min(req.k, placement.slots),
        arm,
        ctx,
        history,
        receivedAt,
        deadline: receivedAt + (req.deadline_ms ?? this.deps.options.defaultDeadlineMs),
      },
      features,
      abandoned: () => conn.closed,
      done: (result) => {
        this.onResult(ws, conn, req.id, result, receivedAt);
        if (result.ok) {
          const rec: DecisionRecord = {
            decisionId: result.decisionId,
            tenant: req.tenant,
            placement: req.placement,
            buyer: req.buyer,
            // The decision time the worker used for flights, pacing and caps: attribution windows count from it.
            decidedAt: ctx.now,
            txnFeatures: features,
            modelVersion: result.modelVersion,
            catalogVersion: result.catalogVersion,
            policy: result.arm,
            shown: result.shown,
          };
          this.deps.engagement?.logDecision(rec);
          this.deps.delivery.served(rec);
        }
      },
    });
    if (!accepted) {
      this.sendError(ws, req.id, 'overloaded', 'the server is at its in-flight limit; retry with backoff', receivedAt);
      return;
    }
    conn.inFlight++;
  }

  private onEvent(ws: WebSocket<Connection>, conn: Connection, req: EventRequest, receivedAt: number): void {
    const sink = this.deps.engagement;
    if (!sink) {
      this.sendError(ws, req.id, 'internal', 'this server does not take engagement events', receivedAt);
      return;
    }
    if (conn.inFlight >= this.deps.options.maxInFlightPerConnection) {
      this.sendError(ws, req.id, 'overloaded', `this connection has ${conn.inFlight} requests in flight (limit ${this.deps.options.maxInFlightPerConnection})`, receivedAt);
      return;
    }
    conn.inFlight++;
    const event = receivedEvent(conn.tenant, req, Date.now());
    sink.ingest([event]).then(
      ([outcome]) => {
        conn.inFlight--;
        if ('status' in outcome) {
          this.deps.metrics.answers.inc({ code: 'ok' });
          if (conn.closed) return;
          this.enqueue(ws, encodeMessage({ v: PROTOCOL_VERSION, type: 'ack', id: req.id, event_id: req.event_id, status: outcome.status }));
        } else {
          this.sendError(ws, req.id, outcome.code, outcome.message, receivedAt, conn);
        }
      },
      (err: unknown) => {
        conn.inFlight--;
        this.sendError(ws, req.id, 'internal', `the event was not stored: ${err instanceof Error ? err.message : String(err)}`, receivedAt, conn);
      },
    );
  }

  private onResult(ws: WebSocket<Connection>, conn: Connection, id: RequestId, result: JobResult, receivedAt: number): void {
    conn.inFlight--;
    if (result.ok) {
      this.deps.metrics.answers.inc({ code: 'ok' });
      this.deps.metrics.decisionSeconds.observe({ outcome: 'ok' }, (nowMs() - receivedAt) / 1000);
      if (!conn.closed) this.enqueue(ws, result.frame);
    } else {
      this.sendError(ws, id, result.error.code, result.error.message, receivedAt, conn);
    }
  }

  private sendError(ws: WebSocket<Connection>, id: RequestId | undefined, code: ErrorCode, message: string, receivedAt: number, conn = ws.getUserData()): void {
    this.deps.metrics.answers.inc({ code });
    this.deps.metrics.decisionSeconds.observe({ outcome: 'error' }, (nowMs() - receivedAt) / 1000);
    if (conn.closed) return;
    const frame = encodeMessage(id === undefined ? { v: PROTOCOL_VERSION, type: 'error', code, message } : { v: PROTOCOL_VERSION, type: 'error', id, code, message });
    this.enqueue(ws, frame);
  }

  private enqueue(ws: WebSocket<Connection>, frame: Uint8Array): void {
    const frames = this.outbox.get(ws);
    if (frames) frames.push(frame);
    else this.outbox.set(ws, [frame]);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushQueued = false;
    for (const [ws, frames] of this.outbox) {
      if (ws.getUserData().closed) continue;
      ws.cork(() => {
        for (const f of frames) ws.send(f, true);
      });
    }
    this.outbox.clear();
  }

  /** Closes every connection with 1001 (going away). */
  closeAll(): void {
    for (const ws of [...this.sockets]) {
      if (!ws.getUserData().closed) ws.end(1001, 'server shutting down');
    }
  }
}

/** The typed event the sink takes, from a validated wire event of a connection's tenant. */
export function receivedEvent(
  tenant: string,
  e: { event_id: string; decision_id: string; offer_id: string; kind: EventKind; ts?: number; value?: number; currency?: string },
  now: number,
): ReceivedEvent {
  const out: ReceivedEvent = { tenant, eventId: e.event_id, decisionId: e.decision_id, offerId: e.offer_id, kind: e.kind, ts: e.ts ?? now };
  if (e.value !== undefined) out.value = e.value;
  if (e.currency !== undefined) out.currency = e.currency;
  return out;
}
