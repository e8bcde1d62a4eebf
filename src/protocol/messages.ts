/**
 * Wire protocol v1: the types of every message on the WebSocket, and the schemas that validate them once at
 * the edge. docs/PROTOCOL.md is the prose form of this file; keep the two in step.
 *
 * Field names are snake_case so that clients in any language can map them without a rename table.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { ErrorCode } from '../errors/codes.js';

export const PROTOCOL_VERSION = 1;

/** Upper bounds that keep one request's work and memory bounded. They are part of the protocol. */
export const LIMITS = {
  maxItems: 200,
  maxK: 20,
  maxIdChars: 128,
  maxStringChars: 256,
  maxDeadlineMs: 10_000,
} as const;

/** A client correlation id: echoed exactly on the answer. A string or a non-negative safe integer. */
export const RequestId = Type.Union([
  Type.String({ minLength: 1, maxLength: LIMITS.maxIdChars }),
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
]);
export type RequestId = Static<typeof RequestId>;

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
export type LineItem = Static<typeof LineItem>;

export const Channel = Type.Union([
  Type.Literal('web'),
  Type.Literal('app'),
  Type.Literal('in_store'),
  Type.Literal('other'),
]);
export type Channel = Static<typeof Channel>;

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
export type Transaction = Static<typeof Transaction>;

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
export type DecideRequest = Static<typeof DecideRequest>;

export const EventKind = Type.Union([
  Type.Literal('impression'),
  Type.Literal('click'),
  Type.Literal('conversion'),
  Type.Literal('dismiss'),
]);
export type EventKind = Static<typeof EventKind>;

/** The body of one engagement event, as sent on the socket (`event`) or in the HTTP batch. */
const EventFields = {
  /** Client idempotency id, unique within its decision: a resend (same decision_id and event_id) is
   * acknowledged as a duplicate and never counted twice. */
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
export type EventRequest = Static<typeof EventRequest>;

/** One event of the HTTP batch endpoint (POST /v1/events): the same fields without the envelope. */
export const BatchEvent = Type.Object(EventFields);
export type BatchEvent = Static<typeof BatchEvent>;
export const EventBatch = Type.Object({ events: Type.Array(BatchEvent, { minItems: 1, maxItems: 10_000 }) });
export type EventBatch = Static<typeof EventBatch>;

/** Every inbound message: the envelope's `type` selects the body schema. */
export const INBOUND_TYPES = ['decide', 'event'] as const;
export type InboundType = (typeof INBOUND_TYPES)[number];
export type InboundMessage = DecideRequest | EventRequest;

/** The creative a checkout page renders; free-form JSON object defined by the advertiser's catalog record. */
export type Creative = Record<string, unknown>;

export interface RankedOffer {
  offer_id: string;
  campaign_id: string;
  advertiser_id: string;
  /** Predicted probability of engagement (a click) given an impression, in [0, 1]. */
  p: number;
  /** Expected value used for ranking: p × the offer's bid on the per-engagement scale (see docs/SCORING.md). */
  ev: number;
  /** 1-based slot on the page. */
  position: number;
  /** How the offer is billed: the event that charges (impression for cpm, click for cpc, conversion for cpa). */
  bid_type: 'cpm' | 'cpc' | 'cpa';
  /** What the advertiser pays, in the retailer's currency and the bid's unit (per 1,000 impressions for cpm,
   * per click, per conversion): set by the placement's auction (second price or first price), never above the
   * bid and never below the placement's floor. */
  price: number;
  /** Probability with which the serving policy put this offer in this slot, given the slots before it
   * (1 when the slot was filled without exploration). For off-policy evaluation. */
  propensity: number;
  creative: Creative;
}

export interface DecisionAnswer {
  v: typeof PROTOCOL_VERSION;
  type: 'decision';
  id: RequestId;
  decision_id: string;
  offers: RankedOffer[];
  /** The arm that chose the offers: `ai` (the model) or `rules` (the holdout's rules baseline). */
  policy: 'ai' | 'rules';
  model_version: string;
  catalog_version: number;
  /** Server-side time from frame arrival to answer encode, microseconds. */
  server_us: number;
}

export interface ErrorAnswer {
  v: typeof PROTOCOL_VERSION;
  type: 'error';
  /** The request id when it could be read; absent otherwise. */
  id?: RequestId;
  code: ErrorCode;
  message: string;
}

/** The answer to an `event`, sent only once the event is durably committed. */
export interface AckAnswer {
  v: typeof PROTOCOL_VERSION;
  type: 'ack';
  id: RequestId;
  event_id: string;
  /** `accepted` the first time; `duplicate` for a resend of an event_id already accepted (not counted again). */
  status: 'accepted' | 'duplicate';
}

export type OutboundMessage = DecisionAnswer | ErrorAnswer | AckAnswer;
