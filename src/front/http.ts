/**
 * Small helpers for uWS HTTP handlers. uWS's request object lives only during the synchronous handler and
 * its response must be corked when written after an await; these helpers make both rules hard to break.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { ErrorCode } from '../errors/codes.js';

const STATUS: Record<number, string> = {
  200: '200 OK',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  413: '413 Payload Too Large',
  422: '422 Unprocessable Entity',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

/** A response that knows whether the client went away, so late writes are skipped instead of crashing. */
export interface Reply {
  res: HttpResponse;
  aborted: boolean;
}

export function reply(res: HttpResponse): Reply {
  const r: Reply = { res, aborted: false };
  res.onAborted(() => {
    r.aborted = true;
  });
  return r;
}

export function sendJson(r: Reply, status: number, body: unknown): void {
  send(r, status, 'application/json', JSON.stringify(body));
}

export function sendError(r: Reply, status: number, code: ErrorCode, message: string, extra: Record<string, unknown> = {}): void {
  sendJson(r, status, { code, message, ...extra });
}

export function send(r: Reply, status: number, contentType: string, body: string): void {
  if (r.aborted) return;
  r.res.cork(() => {
    r.res.writeStatus(STATUS[status] ?? `${status} Status`).writeHeader('content-type', contentType).end(body);
  });
}

/** Reads the whole body, refusing more than `limit` bytes. Must be called synchronously in the handler. */
export function readBody(r: Reply, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    r.res.onData((chunk, isLast) => {
      size += chunk.byteLength;
      if (size > limit) {
        reject(new Error(`body exceeds ${limit} bytes`));
        return;
      }
      // The chunk's memory is reused by uWS after this callback: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk.slice(0))));
      if (isLast) resolve(Buffer.concat(chunks));
    });
  });
}

/** The API key of a request: `Authorization: Bearer <key>` or `X-Api-Key: <key>`. */
export function apiKeyOf(req: HttpRequest): string {
  const auth = req.getHeader('authorization');
  if (auth.startsWith('Bearer ')) return auth.slice(7).trim();
  return req.getHeader('x-api-key').trim();
}
