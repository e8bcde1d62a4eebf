/**
 * The one catalogue of error codes txrank answers with. Every `error` answer on the wire, every HTTP error
 * body and every error that crosses a thread carries one of these codes. docs/PROTOCOL.md documents each one;
 * test/errors.test.ts checks that the two lists agree.
 */
export const ERROR_CODES = {
  bad_request: 'The message decoded but a field is missing, mistyped or out of range (the message names it).',
  malformed: 'The frame is not valid MessagePack, or not a map at the top level.',
  unsupported_version: 'The envelope names a protocol version this server does not speak.',
  unknown_type: 'The envelope names a message type this server does not know.',
  frame_too_large: 'The frame is larger than the configured maximum frame size.',
  unknown_tenant: 'The request names a tenant that does not exist in the serving catalog.',
  forbidden: 'The request names a tenant other than the one this connection authenticated as.',
  unknown_placement: 'The tenant has no placement with that id.',
  unauthorized: 'Missing or wrong API key (HTTP 401 at the WebSocket upgrade or an admin endpoint).',
  overloaded: 'The server is at its in-flight bound; the request was not queued. Retry with backoff.',
  deadline_exceeded: 'The request could not be started before its deadline; it was not computed.',
  cancelled: 'The request\'s connection closed before a worker started it, so it was not computed (seen only in metrics: no one is left to answer).',
  not_ready: 'No model or catalog is loaded yet.',
  shutting_down: 'The server is draining for shutdown and takes no new requests.',
  unknown_decision: 'The event names a decision this server does not hold for your tenant (never made, another tenant\'s, or past retention).',
  out_of_window: 'The event time falls outside the attribution window of its kind, counted from the decision (docs/EVENTS.md).',
  invalid_catalog: 'A catalog load was refused; the report lists every invalid record by line and field.',
  internal: 'An unexpected server-side failure; the request may be retried.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[];

/** An error that carries a stable code. Crosses threads as a plain `{code, message}` (see toWireError). */
export class TxrankError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'TxrankError';
    this.code = code;
  }
}

/** The shape an error takes when it crosses a thread or the wire: Error objects lose their fields when posted. */
export interface WireError {
  code: ErrorCode;
  message: string;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}

export function toWireError(err: unknown): WireError {
  if (err instanceof TxrankError) return { code: err.code, message: err.message };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}
