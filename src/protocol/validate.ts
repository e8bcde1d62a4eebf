/**
 * The edge: turns one WebSocket frame into a typed, validated request, or into the typed error to answer
 * with. Nothing behind this function touches `unknown` or re-checks a field.
 *
 * Order matters for the quality of the answer: the request id is read as early as possible so that even a
 * request with a bad body is answered with its id and can be correlated by the client.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { ErrorCode } from '../errors/codes.js';
import { isSupportedCurrency } from '../features/currency.js';
import { decodeFrame } from './codec.js';
import { DecideRequest, EventRequest, INBOUND_TYPES, PROTOCOL_VERSION, RequestId, type InboundMessage } from './messages.js';

const checkId = TypeCompiler.Compile(RequestId);
const checkDecide = TypeCompiler.Compile(DecideRequest);
const checkEvent = TypeCompiler.Compile(EventRequest);

export type EdgeResult =
  | { ok: true; msg: InboundMessage }
  | { ok: false; id?: RequestId; code: ErrorCode; message: string };

function fail(code: ErrorCode, message: string, id?: RequestId): EdgeResult {
  return id === undefined ? { ok: false, code, message } : { ok: false, id, code, message };
}

export function parseInbound(frame: Uint8Array, maxFrameBytes: number): EdgeResult {
  if (frame.byteLength > maxFrameBytes) {
    return fail('frame_too_large', `frame of ${frame.byteLength} bytes exceeds the ${maxFrameBytes}-byte limit`);
  }
  let value: unknown;
  try {
    value = decodeFrame(frame);
  } catch (err) {
    return fail('malformed', `not valid MessagePack: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail('malformed', 'the top level of a message must be a map');
  }
  const env = value as Record<string, unknown>;
  const id = checkId.Check(env.id) ? env.id : undefined;
  // A map with no envelope at all is not a txrank message (msgpackr also decodes the reserved byte 0xc1 to
  // a marker object, which lands here).
  if (!('v' in env) && !('type' in env)) {
    return fail('malformed', 'not a txrank message: the top-level map has neither "v" nor "type"', id);
  }
  if (env.v !== PROTOCOL_VERSION) {
    return fail('unsupported_version', `protocol version ${JSON.stringify(env.v ?? null)} is not supported; this server speaks v=${PROTOCOL_VERSION}`, id);
  }
  if (typeof env.type !== 'string' || !(INBOUND_TYPES as readonly string[]).includes(env.type)) {
    return fail('unknown_type', `unknown message type ${JSON.stringify(env.type ?? null)}; expected one of ${INBOUND_TYPES.join(', ')}`, id);
  }
  if (id === undefined) {
    return fail('bad_request', '/id: expected a string of 1-128 characters or a non-negative integer');
  }
  if (env.type === 'event') {
    if (!checkEvent.Check(value)) return schemaFailure(checkEvent.Errors(value).First(), id);
    return { ok: true, msg: value };
  }
  if (!checkDecide.Check(value)) return schemaFailure(checkDecide.Errors(value).First(), id);
  if (!isSupportedCurrency(value.txn.currency)) {
    return fail('bad_request', `/txn/currency: ${value.txn.currency} is not a supported currency`, id);
  }
  return { ok: true, msg: value };
}

function schemaFailure(first: { path: string; message: string } | undefined, id: RequestId): EdgeResult {
  return fail('bad_request', `${first?.path || '/'}: ${first?.message ?? 'invalid'}`, id);
}
