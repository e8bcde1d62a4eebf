/**
 * The values the event log keeps and answers with. Everything here is already validated by the edge
 * (src/protocol) or produced by the server itself; the store only checks what needs its own data (the
 * decision an event names, its windows, its idempotency key).
 */
import type { ErrorCode } from '../errors/codes.js';
import type { Billing } from '../delivery/types.js';

/** One offer of a decision, as it was shown. */
export interface ShownOffer {
  offerId: string;
  /** 1-based slot on the page. */
  position: number;
  /** Predicted click probability given an impression, as served. */
  p: number;
  /** Probability with which the serving policy put this offer in this slot, given the offers of the slots
   * before it (1 for a slot the policy filled deterministically). Exact, for off-policy evaluation. */
  propensity: number;
  /** How the offer is billed (campaign, advertiser, bid type, price). Absent in records older than delivery. */
  billing?: Billing;
}

/**
 * What a decision's events need of it, decoded from the stored record without its features: see
 * decision-codec.ts decodeDecisionHead.
 */
export interface DecisionHead {
  tenant: string;
  placement: string;
  decidedAt: number;
  /** 'ai' or 'rules' (src/delivery/types.ts Arm). */
  policy: string;
  offerIds: string[];
  /** Parallel to offerIds; null for records logged before delivery existed. */
  billing: (Billing | null)[];
}

/**
 * Told of every accepted event inside the event log's write transaction, so that what depends on an event
 * (spend, report counters) commits atomically with it and exactly once (a duplicate is never passed).
 * Implementations: src/delivery (spend ledger), src/reporting (report counters).
 */
export interface AcceptedEventSink {
  /**
   * Inside the write transaction, once per accepted event. `shown` is the index of e.offerId in
   * head.offerIds. `first` is true for the first accepted event of its kind on that shown offer: billing and
   * report counters count only those (a second click under another event id bills nothing). A group that
   * fails after marking an event as seen leaves it marked, so a retry is then not `first`: errs towards not
   * billing, never towards billing twice. putSync on any DB of the same environment joins the transaction. Throwing aborts the whole
   * group (every event of it is answered `internal`, safe to resend): throw only for storage failures.
   */
  accepted(e: EngagementEvent, head: DecisionHead, shown: number, first: boolean): void;
  /**
   * The group committed (and was flushed, with ackOn 'flushed'); called before its acks are sent. Groups are
   * pipelined (event-log.ts): the next group's accepted() calls may come before this group's committed(), so
   * in-memory effects pushed here must be safe to show early (spend only ever errs towards "spent").
   */
  committed(): void;
  /** The group's transaction failed: forget the in-memory effects of accepted() since the last call of
   * committed() or aborted(). */
  aborted(): void;
}

/** A decision as the log keeps it: what was asked (as features), by which model, and what was shown. */
export interface DecisionRecord {
  decisionId: string;
  tenant: string;
  placement: string;
  /** Decision time, ms since the epoch (the server's clock). Attribution windows count from it. */
  decidedAt: number;
  buyer?: string;
  /** TXN_DIM transaction features exactly as served (src/features/spec.ts). */
  txnFeatures: Float32Array;
  modelVersion: string;
  catalogVersion: number;
  /** The arm that chose the offers: 'ai' (the model) or 'rules' (the holdout baseline). */
  policy: string;
  /** At most 255 offers (a placement has at most 20 slots). */
  shown: ShownOffer[];
}

export const EVENT_KINDS = ['impression', 'click', 'conversion', 'dismiss'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** One engagement event, with the tenant of the connection (or HTTP key) that sent it. */
export interface EngagementEvent {
  tenant: string;
  /** The client's idempotency id, 1-128 characters, unique within its decision (the idempotency key is the pair). */
  eventId: string;
  decisionId: string;
  offerId: string;
  kind: EventKind;
  /** Event time, ms since the epoch. */
  ts: number;
  /** Conversion value, in `currency`. */
  value?: number;
  currency?: string;
}

/** The answer for one event, in the order the events were given. */
export type EventOutcome =
  | { eventId: string; status: 'accepted' | 'duplicate' }
  | { eventId: string; code: ErrorCode; message: string };

/** An accepted event as stored (for reports). */
export interface StoredEvent extends EngagementEvent {
  /** When the server accepted it, ms since the epoch. */
  receivedAt: number;
}

/** What is known about one shown offer of a decision, for reports and tests. */
export interface OfferEngagement {
  offerId: string;
  position: number;
  impression: boolean;
  click: boolean;
  conversion: boolean;
  dismiss: boolean;
}
