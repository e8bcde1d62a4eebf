/**
 * Wire protocol v1: the types of every message on the WebSocket, and the schemas that validate them once at
 * the edge. docs/PROTOCOL.md is the prose form of this file; keep the two in step.
 *
 * Field names are snake_case so that clients in any language can map them without a rename table.
 */
import { Type } from '@sinclair/typebox';
export const PROTOCOL_VERSION = 1;
/** Upper bounds that keep one request's work and memory bounded. They are part of the protocol. */
export const LIMITS = {
    maxItems: 200,
    maxK: 20,
    maxIdChars: 128,
    maxStringChars: 256,
    maxDeadlineMs: 10_000,
};
/** A client correlation id: echoed exactly on the answer. A string or a non-negative safe integer. */
export const RequestId = Type.Union([
    Type.String({ minLength: 1, maxLength: LIMITS.maxIdChars }),
    Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
]);
const Id = Type.String({ minLength: 1, maxLength: LIMITS.maxIdChars });
const Text = Type.String({ maxLength: LIMITS.maxStringChars });
export const LineItem = Type.Object({
    sku: Id,
    /** Category path such as "dairy_eggs/yogurt/greek", or a department name; the first segment decides. */
    category: Type.String({ minLength: 1, maxLength: LIMITS.maxStringChars }),
    /** Unit price in the transaction currency, major units (e.g. 3.49). */
    price: Type.Number({ minimum: 0, maximum: 1e7 }),
    quantity: Type.Integer({ minimum: 1, maximum: 10_000 }),
    brand: Type.Optional(Text),
});
export const Channel = Type.Union([
    Type.Literal('web'),
    Type.Literal('app'),
    Type.Literal('in_store'),
    Type.Literal('other'),
]);
export const Transaction = Type.Object({
    id: Id,
    /** Purchase time, milliseconds since the Unix epoch (UTC). */
    ts: Type.Integer({ minimum: 0, maximum: 8.64e15 }),
    /** Minutes east of UTC of the buyer's local time; hour and weekday features use local time. Default 0. */
    utc_offset_min: Type.Optional(Type.Integer({ minimum: -14 * 60, maximum: 14 * 60 })),
    /** ISO 4217 code, e.g. "USD". */
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    channel: Channel,
    /** ISO 3166-1 alpha-2, e.g. "US". */
    country: Type.String({ pattern: '^[A-Z]{2}$' }),
    items: Type.Array(LineItem, { minItems: 1, maxItems: LIMITS.maxItems }),
    /** Basket total in the transaction currency (after discounts; may differ from the sum of lines). */
    total: Type.Number({ minimum: 0, maximum: 1e9 }),
});
export const DecideRequest = Type.Object({
    v: Type.Literal(PROTOCOL_VERSION),
    type: Type.Literal('decide'),
    id: RequestId,
    tenant: Id,
    placement: Id,
    txn: Transaction,
    /** Hashed buyer id; used for frequency caps. Never a raw identifier. */
    buyer: Type.Optional(Id),
    /** How many offers are wanted; capped by the placement's slots. */
    k: Type.Integer({ minimum: 1, maximum: LIMITS.maxK }),
    /** Give up (answer deadline_exceeded) if the request cannot start within this many ms of arrival. */
    deadline_ms: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: LIMITS.maxDeadlineMs })),
});
export const EventKind = Type.Union([
    Type.Literal('impression'),
    Type.Literal('click'),
    Type.Literal('conversion'),
    Type.Literal('dismiss'),
]);
/** The body of one engagement event, as sent on the socket (`event`) or in the HTTP batch. */
const EventFields = {
    /** Client idempotency id: a resend with the same event_id is acknowledged and never counted twice. */
    event_id: Id,
    /** The decision the offer was shown in (from the `decision` answer). */
    decision_id: Id,
    offer_id: Id,
    kind: EventKind,
    /** When it happened, ms since epoch; default: when the server received it. */
    ts: Type.Optional(Type.Integer({ minimum: 0, maximum: 8.64e15 })),
    /** Conversion value in `currency`, for ROAS. */
    value: Type.Optional(Type.Number({ minimum: 0, maximum: 1e9 })),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
};
export const EventRequest = Type.Object({
    v: Type.Literal(PROTOCOL_VERSION),
    type: Type.Literal('event'),
    id: RequestId,
    ...EventFields,
});
/** One event of the HTTP batch endpoint (POST /v1/events): the same fields without the envelope. */
export const BatchEvent = Type.Object(EventFields);
export const EventBatch = Type.Object({ events: Type.Array(BatchEvent, { minItems: 1, maxItems: 10_000 }) });
/** Every inbound message: the envelope's `type` selects the body schema. */
export const INBOUND_TYPES = ['decide', 'event'];
