/**
 * Event ingest: validate each engagement event against its decision, store it once, acknowledge it once it
 * is durable.
 *
 * Group commit. Every ingest() call joins a queue; one LMDB write transaction takes what is queued when it
 * starts (up to maxGroupEvents events, whole calls) and the acknowledgements of the group wait for that one
 * commit (and, with ackOn 'flushed', that one fsync). There is no timer: a group is whatever arrived while
 * the previous commit was busy, so an idle server commits a lone event at once and a loaded one commits
 * thousands per transaction; commits cost about the same whatever their size, so throughput comes from
 * events per commit. A capped group leaves the rest for the next transaction, which is applied while this
 * one commits: a pipeline, instead of one group that swallows everything outstanding and leaves the write
 * thread idle while the main thread applies, and the main thread idle while the write thread commits.
 *
 * Two phases, to keep work out of the write lock. Before queueing (on the caller's turn): field checks, the
 * encoded record and, when the decision's head is in the in-memory RecentDecisions (nearly always: events
 * follow their decision within minutes), the decision checks (tenant, offer shown, windows) and the event's
 * key. Inside the write transaction (an lmdb-js transaction callback, main thread): the decision checks for
 * cache misses, the per-decision bound, and one insert per event.
 *
 * Idempotency key = the event's key [decidedAt, decisionId, eventId], inserted with MDB_NOOVERWRITE: one
 * B-tree descent both checks and inserts, and false means the event is already stored (in this group too:
 * a transaction reads its own writes, and LMDB's single writer orders concurrent copies). The key lives
 * exactly as long as the event. It is scoped to the decision, which is the tenant's: a retry names the
 * same decision, and is a duplicate; another tenant's decision is unknown_decision before any key is
 * formed. "Duplicate" wins over every other answer: a retry of an accepted event is answered `duplicate`
 * even if it would now be refused (say, its decision has since reached maxEventsPerDecision).
 *
 * Why a transaction callback rather than lmdb-js's off-thread conditional puts: the answers must be known
 * before the acknowledgement (accepted or duplicate), the per-decision bound needs a count that sees every
 * earlier write, committed or not, and refusals must not be written at all. Each group runs as an lmdb-js
 * child transaction, so a failure part-way writes nothing of it, and every event of the group is answered
 * `internal` (safe to resend).
 */
import { TxrankError, type ErrorCode } from '../errors/codes.js';
import { decodeEvent, encodeEvent } from './event-codec.js';
import { FLAG, engagementFlags } from './engagement.js';
import { decodeDecisionHead, type DecisionHead } from './decision-codec.js';
import { eventKeysOf, storedEventKinds, type EventDbs, type EventKey } from './layout.js';
import { isLabelled, readLabelCursor } from './meta.js';
import type { EventCounters } from './counters.js';
import type { ResolvedEventOptions } from './options.js';
import type { CachedDecision, RecentDecisions } from './recent-decisions.js';
import { EVENT_KINDS, type AcceptedEventSink, type EngagementEvent, type EventKind, type EventOutcome, type StoredEvent } from './types.js';

/** A decision read inside the transaction (a cache miss), with its events counted and flagged once. */
interface Loaded {
  head: DecisionHead;
  events: number;
  /** FLAG bits per shown offer of the events stored so far (engagement.ts). */
  seen: Uint8Array;
}

/** One event on its way into the transaction. */
interface Prepared {
  value: Buffer;
  /** The decision, once known (from the cache before the transaction, else read inside it); null: unknown
   * or another tenant's. Its `events` count enforces maxEventsPerDecision. */
  decision: CachedDecision | Loaded | null | undefined;
  /** The event's key, once its decision is known and the tenant's. */
  key: EventKey | undefined;
  /** A refusal by the decision checks; answered only if the event is not a duplicate. */
  refusal: EventOutcome | undefined;
}

interface QueuedCall {
  events: readonly EngagementEvent[];
  /** Final answers from the field checks; the transaction fills in the rest. */
  outcomes: (EventOutcome | undefined)[];
  prepared: (Prepared | undefined)[];
  now: number;
  resolve: (outcomes: EventOutcome[]) => void;
}

const KINDS = new Set<string>(EVENT_KINDS);
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f]/;
const CURRENCY = /^[A-Z]{3}$/;

function refused(eventId: string, code: ErrorCode, message: string): EventOutcome {
  return { eventId, code, message };
}

function idOk(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= 128;
}

/**
 * The store's own invariants on an event (no I/O). The edge has validated the wire shape; these guard what
 * the store keys on: event ids go into LMDB keys, where a control character would break the key order
 * (lmdb-js's ordered-binary uses byte 0 as the array delimiter and escapes bytes 1-4).
 */
export function checkEvent(e: EngagementEvent): EventOutcome | undefined {
  const id = typeof e.eventId === 'string' ? e.eventId : String(e.eventId);
  if (!idOk(e.eventId)) return refused(id, 'bad_request', 'event_id must be a string of 1-128 characters');
  if (CONTROL.test(e.eventId)) return refused(id, 'bad_request', 'event_id must not contain control characters');
  if (!idOk(e.tenant)) return refused(id, 'bad_request', 'tenant must be a string of 1-128 characters');
  if (!idOk(e.decisionId)) return refused(id, 'bad_request', 'decision_id must be a string of 1-128 characters');
  if (!idOk(e.offerId)) return refused(id, 'bad_request', 'offer_id must be a string of 1-128 characters');
  if (!KINDS.has(e.kind)) return refused(id, 'bad_request', `kind must be one of ${EVENT_KINDS.join(', ')}`);
  if (!(typeof e.ts === 'number' && Number.isFinite(e.ts) && e.ts >= 0)) return refused(id, 'bad_request', 'ts must be a time in ms since the epoch');
  if (e.value !== undefined && !(typeof e.value === 'number' && Number.isFinite(e.value) && e.value >= 0 && e.value <= 1e9)) {
    return refused(id, 'bad_request', 'value must be a number in 0..1e9');
  }
  if (e.currency !== undefined && !(typeof e.currency === 'string' && CURRENCY.test(e.currency))) {
    return refused(id, 'bad_request', 'currency must be an ISO 4217 code (three upper-case letters)');
  }
  return undefined;
}

export class EventLog {
  readonly #dbs: EventDbs;
  readonly #opt: ResolvedEventOptions;
  readonly #counters: EventCounters;
  readonly #recent: RecentDecisions;
  readonly #window: Readonly<Record<EventKind, number>>;
  #queue: QueuedCall[] = [];
  #groupQueued = false;
  /** Events queued or in a transaction and not yet answered (the maxPendingEvents bound). */
  #pending = 0;
  /** Commits in flight, for drain(). */
  readonly #inFlight = new Set<Promise<void>>();

  /** Told of every accepted event inside its transaction (spend, report counters): see AcceptedEventSink. */
  readonly #sinks: readonly AcceptedEventSink[];

  constructor(dbs: EventDbs, opt: ResolvedEventOptions, counters: EventCounters, recent: RecentDecisions, sinks: readonly AcceptedEventSink[] = []) {
    this.#dbs = dbs;
    this.#sinks = sinks;
    this.#opt = opt;
    this.#counters = counters;
    this.#recent = recent;
    this.#window = {
      impression: opt.impressionWindowMs,
      click: opt.clickWindowMs,
      conversion: opt.conversionWindowMs,
      dismiss: opt.dismissWindowMs,
    };
  }

  get pending(): number {
    return this.#pending;
  }

  /**
   * One outcome per event, in order. Resolves once every accepted event of the call is durable (see
   * ackOn). Rejects only for a call over maxEventsPerIngest; storage failures are answered per event with
   * `internal`.
   */
  ingest(events: readonly EngagementEvent[], now: number): Promise<EventOutcome[]> {
    const n = events.length;
    if (n > this.#opt.maxEventsPerIngest) {
      return Promise.reject(new TxrankError('bad_request', `at most ${this.#opt.maxEventsPerIngest} events per batch; got ${n}`));
    }
    const outcomes: (EventOutcome | undefined)[] = new Array(n);
    if (this.#pending + n > this.#opt.maxPendingEvents) {
      for (let i = 0; i < n; i++) {
        outcomes[i] = refused(String(events[i].eventId), 'overloaded', `${this.#pending} events are waiting to be stored (limit ${this.#opt.maxPendingEvents}); retry with backoff`);
      }
      return Promise.resolve(this.#settle(outcomes));
    }
    const prepared: (Prepared | undefined)[] = new Array(n);
    let live = 0;
    for (let i = 0; i < n; i++) {
      const e = events[i];
      const bad = checkEvent(e);
      if (bad !== undefined) {
        outcomes[i] = bad;
        continue;
      }
      const p: Prepared = { value: encodeEvent(e, now), decision: undefined, key: undefined, refusal: undefined };
      const cached = this.#recent.get(e.decisionId);
      if (cached !== undefined) this.#resolve(p, e, cached, cached, now);
      prepared[i] = p;
      live++;
    }
    if (live === 0) return Promise.resolve(this.#settle(outcomes));
    this.#pending += n;
    return new Promise((resolve) => {
      this.#queue.push({ events, outcomes, prepared, now, resolve });
      if (!this.#groupQueued) {
        this.#groupQueued = true;
        this.#commitGroup();
      }
    });
  }

  /** Resolves when every ingest() made so far has been answered. */
  async drain(): Promise<void> {
    // The queue check covers calls left for a next group whose transaction is queued on the next turn.
    while (this.#inFlight.size > 0 || this.#queue.length > 0) {
      await Promise.all([...this.#inFlight, new Promise((r) => setImmediate(r))]);
    }
  }

  /** An accepted event of the tenant's decision, or null. */
  get(tenant: string, decisionId: string, eventId: string): StoredEvent | null {
    const head = this.#head(tenant, decisionId);
    if (head === null) return null;
    const b = this.#dbs.events.getBinaryFast([head.decidedAt, decisionId, eventId]);
    return b === undefined ? null : decodeEvent(tenant, decisionId, eventId, b, b.length);
  }

  /** The accepted events of the tenant's decision, in event-id order (conversions too, for reports). */
  ofDecision(tenant: string, decisionId: string): StoredEvent[] {
    const head = this.#head(tenant, decisionId);
    if (head === null) return [];
    const out: StoredEvent[] = [];
    for (const key of eventKeysOf(this.#dbs, head.decidedAt, decisionId)) {
      const b = this.#dbs.events.getBinaryFast(key);
      if (b !== undefined) out.push(decodeEvent(tenant, decisionId, key[2], b, b.length));
    }
    return out;
  }

  #head(tenant: string, decisionId: string): DecisionHead | null {
    const b = this.#dbs.decisions.getBinaryFast(decisionId);
    if (b === undefined) return null;
    const head = decodeDecisionHead(b, b.length);
    return head.tenant === tenant ? head : null;
  }

  #commitGroup(): void {
    let group: QueuedCall[] | null = null;
    let afterLabel = 0;
    // The callback runs when lmdb-js's write thread reaches it and takes what is queued by then (up to
    // maxGroupEvents); calls made after it started wait for a next group and transaction.
    const txn = this.#dbs.root.childTransaction(() => {
      group = this.#take();
      afterLabel = this.#apply(group);
    });
    const done = txn
      .then(() => (this.#opt.ackOn === 'flushed' ? this.#dbs.root.flushed : undefined))
      .then(
        () => {
          this.#counters.eventsAfterLabel += afterLabel;
          for (const sink of this.#sinks) sink.committed();
          this.#finish(group ?? [], null);
        },
        (err: unknown) => {
          // The group never ran (the transaction failed before it), or it threw and its child transaction
          // was aborted: either way nothing of it is stored.
          for (const sink of this.#sinks) sink.aborted();
          if (group === null) {
            group = this.#queue;
            this.#queue = [];
            this.#groupQueued = false;
          }
          this.#finish(group, err instanceof Error ? err.message : String(err));
        },
      )
      .finally(() => this.#inFlight.delete(done));
    this.#inFlight.add(done);
  }

  /**
   * The next group: whole calls, in order, up to maxGroupEvents events (at least one call). What is left is
   * given a transaction of its own, queued after this one, so this group commits (and is acknowledged) while
   * the next one is applied: a pipeline instead of one ever-growing group that leaves the write thread idle
   * while the main thread applies and the main thread idle while the write thread commits.
   */
  #take(): QueuedCall[] {
    const queue = this.#queue;
    let end = 0;
    let events = 0;
    while (end < queue.length && (end === 0 || events + queue[end].events.length <= this.#opt.maxGroupEvents)) {
      events += queue[end].events.length;
      end++;
    }
    const group = queue.slice(0, end);
    this.#queue = queue.slice(end);
    this.#groupQueued = this.#queue.length > 0;
    // Queued from a fresh task: queued from inside this callback it would join this very transaction.
    if (this.#groupQueued) setImmediate(() => this.#commitGroup());
    return group;
  }

  /** Runs inside the write transaction; returns how many accepted events came after their labels. */
  #apply(group: QueuedCall[]): number {
    const dbs = this.#dbs;
    const loaded = new Map<string, Loaded | null>();
    let cursor: ReturnType<typeof readLabelCursor> | undefined;
    let afterLabel = 0;
    for (const call of group) {
      const { events, outcomes, prepared, now } = call;
      for (let i = 0; i < events.length; i++) {
        const p = prepared[i];
        if (p === undefined) continue;
        const e = events[i];
        if (p.decision === undefined) {
          // Not in the cache when it was queued: read the decision, once per group.
          let l = loaded.get(e.decisionId);
          if (l === undefined) {
            l = this.#load(e.decisionId);
            loaded.set(e.decisionId, l);
          }
          if (l === null) p.refusal = unknownDecision(e);
          else this.#resolve(p, e, l.head, l, now);
        }
        const counter = p.decision;
        const key = p.key;
        if (p.refusal !== undefined || counter == null || key === undefined) {
          outcomes[i] = this.#refuseUnlessDuplicate(p, e, p.refusal ?? unknownDecision(e));
          continue;
        }
        if (counter.events >= this.#opt.maxEventsPerDecision) {
          outcomes[i] = this.#refuseUnlessDuplicate(p, e, refused(e.eventId, 'bad_request', `decision ${e.decisionId} already has ${counter.events} events (the most one decision takes)`));
          continue;
        }
        // Checks and inserts in one descent; false when the key exists (this group included). lmdb-js's
        // putSync returns that boolean; its .d.ts says void.
        if (!(dbs.events.putSync(key, p.value, { noOverwrite: true }) as unknown as boolean)) {
          outcomes[i] = { eventId: e.eventId, status: 'duplicate' };
          continue;
        }
        counter.events++;
        const head = 'head' in counter ? counter.head : counter;
        const shown = head.offerIds.indexOf(e.offerId);
        // First of its kind for this shown offer: what billing and report counters count (a second click
        // with another event id is stored, but bills and counts nothing).
        const bit = FLAG[e.kind];
        const first = (counter.seen[shown] & bit) === 0;
        counter.seen[shown] |= bit;
        for (const sink of this.#sinks) sink.accepted(e, head, shown, first);
        cursor ??= readLabelCursor(dbs);
        if (isLabelled(cursor, key[0], e.decisionId)) afterLabel++;
        outcomes[i] = { eventId: e.eventId, status: 'accepted' };
      }
    }
    return afterLabel;
  }

  /** A decision that is not in the cache, as this transaction sees it, with its events counted. */
  #load(decisionId: string): Loaded | null {
    const b = this.#dbs.decisions.getBinaryFast(decisionId);
    if (b === undefined) return null;
    const head = decodeDecisionHead(b, b.length);
    const stored = [...storedEventKinds(this.#dbs, head.decidedAt, decisionId, this.#opt.maxEventsPerDecision)];
    const events = stored.length;
    const seen = engagementFlags(head.offerIds, stored);
    return { head, events, seen };
  }

  /** Records what the decision says of the event: its key (when it is the tenant's) and any refusal. */
  #resolve(p: Prepared, e: EngagementEvent, head: DecisionHead, counter: CachedDecision | Loaded, now: number): void {
    if (head.tenant !== e.tenant) {
      p.decision = null;
      p.refusal = unknownDecision(e);
      return;
    }
    p.decision = counter;
    p.key = [head.decidedAt, e.decisionId, e.eventId];
    p.refusal = this.#check(e, head, now);
  }

  /** The decision checks that need only the decision's head: tenant, offer shown, windows. */
  #check(e: EngagementEvent, head: DecisionHead, now: number): EventOutcome | undefined {
    // Another tenant's decision gets the very same answer as a missing one: never reveal it exists.
    if (head.tenant !== e.tenant) return unknownDecision(e);
    if (head.offerIds.indexOf(e.offerId) < 0) return refused(e.eventId, 'bad_request', `offer ${e.offerId} was not shown in decision ${e.decisionId}`);
    const skew = this.#opt.clockSkewMs;
    const at = head.decidedAt;
    if (e.ts < at - skew) return refused(e.eventId, 'out_of_window', `event time ${e.ts} is before its decision (${at}) by more than ${skew} ms`);
    const window = this.#window[e.kind];
    if (e.ts > at + window) return refused(e.eventId, 'out_of_window', `event time ${e.ts} is past the ${e.kind} window of ${window} ms after the decision (${at})`);
    if (e.ts > now + skew) return refused(e.eventId, 'out_of_window', `event time ${e.ts} is in the future (server time ${now})`);
    return undefined;
  }

  /** A refused event that is a retry of an accepted one is a duplicate (only a known decision has keys). */
  #refuseUnlessDuplicate(p: Prepared, e: EngagementEvent, refusal: EventOutcome): EventOutcome {
    if (p.key === undefined) return refusal;
    return this.#dbs.events.getBinaryFast(p.key) !== undefined ? { eventId: e.eventId, status: 'duplicate' } : refusal;
  }

  #finish(group: QueuedCall[], failure: string | null): void {
    for (const call of group) {
      this.#pending -= call.events.length;
      if (failure !== null) {
        for (let i = 0; i < call.outcomes.length; i++) {
          const o = call.outcomes[i];
          if (call.prepared[i] !== undefined || o === undefined) {
            call.outcomes[i] = refused(call.events[i].eventId, 'internal', `the event was not stored: ${failure}`);
          }
        }
      }
      call.resolve(this.#settle(call.outcomes));
    }
  }

  /** Counts the final outcomes (only now: an accepted event counts once it is durable). */
  #settle(outcomes: (EventOutcome | undefined)[]): EventOutcome[] {
    const c = this.#counters;
    for (const o of outcomes as EventOutcome[]) {
      if ('status' in o) {
        if (o.status === 'accepted') c.eventsAccepted++;
        else c.eventsDuplicate++;
      } else {
        c.eventsRejected[o.code]++;
      }
    }
    return outcomes as EventOutcome[];
  }
}

function unknownDecision(e: EngagementEvent): EventOutcome {
  return refused(e.eventId, 'unknown_decision', `unknown decision ${e.decisionId}`);
}
