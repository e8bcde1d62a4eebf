/**
 * Event ingest: validate each engagement event against its decision, store it once, acknowledge it once it
 * is durable.
 *
 * Group commit. Every ingest() call joins a queue; one LMDB write transaction takes everything queued by the
 * time it starts (many calls, many events) and the acknowledgements of the whole group wait for that one
 * commit (and, with ackOn 'flushed', that one fsync). A socket sending one event per frame thus still gets
 * hundreds of events per transaction under load, and an idle server commits a lone event at once: there is
 * no timer, the group is whatever arrived while the previous commit was busy.
 *
 * Why a transaction callback on the main thread rather than lmdb-js's off-thread conditional puts: the
 * checks need reads that see every earlier write, committed or not (a decision logged a moment ago, the first
 * copy of an event resent in the same group), and the engagement flags are read-modify-write. Inside the
 * write transaction all of that is exact and needs no lock: LMDB has one writer at a time, so two concurrent
 * copies of one event are checked one after the other and the second is a duplicate. The group runs as an
 * lmdb-js child transaction, so a failure part-way writes nothing of it and every event of the group is
 * answered `internal` (safe to resend).
 *
 * Idempotency key = the event's own key [tenant, eventId] in ev_events, so it lives exactly as long as the
 * event: retention deletes both together, with their decision.
 */
import { TxrankError, type ErrorCode } from '../errors/codes.js';
import { decodeEvent, encodeEvent } from './event-codec.js';
import { decodeDecisionHead, Engagement, FLAG, type DecisionHead } from './decision-codec.js';
import { EMPTY, type DecisionTimeKey, type EventDbs, type EventKey } from './layout.js';
import { isLabelled, readLabelCursor } from './meta.js';
import type { EventCounters } from './counters.js';
import type { ResolvedEventOptions } from './options.js';
import { EVENT_KINDS, type EngagementEvent, type EventKind, type EventOutcome, type StoredEvent } from './types.js';

/** A decision some event of the group names: its head (read-only) and its engagement (patched). */
interface Target {
  head: DecisionHead;
  timeKey: DecisionTimeKey;
  engagement: Engagement;
}

interface QueuedCall {
  events: readonly EngagementEvent[];
  outcomes: (EventOutcome | undefined)[];
  now: number;
  resolve: (outcomes: EventOutcome[]) => void;
}

const KINDS = new Set<string>(EVENT_KINDS);
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f]/;
const CURRENCY = /^[A-Z]{3}$/;

function rejected(eventId: string, code: ErrorCode, message: string): EventOutcome {
  return { eventId, code, message };
}

function idOk(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= 128;
}

/**
 * The store's own invariants on an event, checked before it is queued (no I/O). The edge has validated the
 * wire shape; these guard what the store keys on: event ids go into LMDB keys, where a control character
 * would break the key order (lmdb-js's ordered-binary uses byte 0 as the array delimiter).
 */
export function checkEvent(e: EngagementEvent): EventOutcome | undefined {
  const id = typeof e.eventId === 'string' ? e.eventId : String(e.eventId);
  if (!idOk(e.eventId)) return rejected(id, 'bad_request', 'event_id must be a string of 1-128 characters');
  if (CONTROL.test(e.eventId)) return rejected(id, 'bad_request', 'event_id must not contain control characters');
  if (!idOk(e.tenant)) return rejected(id, 'bad_request', 'tenant must be a string of 1-128 characters');
  if (!idOk(e.decisionId)) return rejected(id, 'bad_request', 'decision_id must be a string of 1-128 characters');
  if (!idOk(e.offerId)) return rejected(id, 'bad_request', 'offer_id must be a string of 1-128 characters');
  if (!KINDS.has(e.kind)) return rejected(id, 'bad_request', `kind must be one of ${EVENT_KINDS.join(', ')}`);
  if (!(typeof e.ts === 'number' && Number.isFinite(e.ts) && e.ts >= 0)) return rejected(id, 'bad_request', 'ts must be a time in ms since the epoch');
  if (e.value !== undefined && !(typeof e.value === 'number' && Number.isFinite(e.value) && e.value >= 0 && e.value <= 1e9)) {
    return rejected(id, 'bad_request', 'value must be a number in 0..1e9');
  }
  if (e.currency !== undefined && !(typeof e.currency === 'string' && CURRENCY.test(e.currency))) {
    return rejected(id, 'bad_request', 'currency must be an ISO 4217 code (three upper-case letters)');
  }
  return undefined;
}

export class EventLog {
  readonly #dbs: EventDbs;
  readonly #opt: ResolvedEventOptions;
  readonly #counters: EventCounters;
  readonly #window: Readonly<Record<EventKind, number>>;
  #queue: QueuedCall[] = [];
  #groupQueued = false;
  /** Events queued or in a transaction and not yet answered (the maxPendingEvents bound). */
  #pending = 0;
  /** Commits in flight, for close(). */
  readonly #inFlight = new Set<Promise<void>>();

  constructor(dbs: EventDbs, opt: ResolvedEventOptions, counters: EventCounters) {
    this.#dbs = dbs;
    this.#opt = opt;
    this.#counters = counters;
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
   * ackOn). Throws (rejects) only for a call over maxEventsPerIngest; storage failures are answered per
   * event with `internal`.
   */
  ingest(events: readonly EngagementEvent[], now: number): Promise<EventOutcome[]> {
    const n = events.length;
    if (n > this.#opt.maxEventsPerIngest) {
      return Promise.reject(new TxrankError('bad_request', `at most ${this.#opt.maxEventsPerIngest} events per batch; got ${n}`));
    }
    const outcomes: (EventOutcome | undefined)[] = new Array(n);
    if (this.#pending + n > this.#opt.maxPendingEvents) {
      for (let i = 0; i < n; i++) {
        outcomes[i] = rejected(String(events[i].eventId), 'overloaded', `${this.#pending} events are waiting to be stored (limit ${this.#opt.maxPendingEvents}); retry with backoff`);
      }
      return Promise.resolve(this.#settle(outcomes));
    }
    let live = 0;
    for (let i = 0; i < n; i++) {
      outcomes[i] = checkEvent(events[i]);
      if (outcomes[i] === undefined) live++;
    }
    if (live === 0) return Promise.resolve(this.#settle(outcomes));
    this.#pending += n;
    return new Promise((resolve) => {
      this.#queue.push({ events, outcomes, now, resolve });
      if (!this.#groupQueued) {
        this.#groupQueued = true;
        this.#commitGroup();
      }
    });
  }

  /** Resolves when every ingest() made so far has been answered. */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  /** An accepted event, or null. */
  get(tenant: string, eventId: string): StoredEvent | null {
    const b = this.#dbs.events.getBinaryFast([tenant, eventId]);
    return b === undefined ? null : decodeEvent(tenant, eventId, b, b.length);
  }

  /** The accepted events of one of the tenant's decisions, in event-id order. */
  ofDecision(tenant: string, decisionId: string): StoredEvent[] {
    const b = this.#dbs.decisions.getBinaryFast(decisionId);
    if (b === undefined) return [];
    const { decidedAt } = decodeDecisionHead(b, b.length);
    const out: StoredEvent[] = [];
    for (const key of this.#dbs.eventRefs.getKeys({ start: [decidedAt, decisionId, tenant] })) {
      if (key[0] !== decidedAt || key[1] !== decisionId || key[2] !== tenant) break;
      const e = this.get(tenant, key[3]);
      if (e !== null) out.push(e);
    }
    return out;
  }

  #commitGroup(): void {
    let group: QueuedCall[] | null = null;
    let afterLabel = 0;
    // The callback runs when lmdb-js's write thread reaches it, and takes everything queued by then; calls
    // made after it started queue a new group (and a new transaction) behind it.
    const txn = this.#dbs.root.childTransaction(() => {
      group = this.#queue;
      this.#queue = [];
      this.#groupQueued = false;
      afterLabel = this.#apply(group);
    });
    const done = txn
      .then(() => (this.#opt.ackOn === 'flushed' ? this.#dbs.root.flushed : undefined))
      .then(
        () => {
          this.#counters.eventsAfterLabel += afterLabel;
          this.#finish(group ?? [], null);
        },
        (err: unknown) => {
          // The group never ran (the transaction failed before it), or it threw and its child transaction
          // was aborted: either way nothing of it is stored.
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

  /** Runs inside the write transaction; returns how many accepted events came after their labels. */
  #apply(group: QueuedCall[]): number {
    const dbs = this.#dbs;
    const targets = new Map<string, Target | null>();
    let cursor: ReturnType<typeof readLabelCursor> | undefined;
    let afterLabel = 0;
    for (const call of group) {
      const { events, outcomes, now } = call;
      for (let i = 0; i < events.length; i++) {
        if (outcomes[i] !== undefined) continue;
        const e = events[i];
        const key: EventKey = [e.tenant, e.eventId];
        // Reads here see this transaction's own writes: a second copy in the same group is a duplicate too.
        if (dbs.events.getBinaryFast(key) !== undefined) {
          outcomes[i] = { eventId: e.eventId, status: 'duplicate' };
          continue;
        }
        let target = targets.get(e.decisionId);
        if (target === undefined) {
          target = this.#target(e.decisionId);
          targets.set(e.decisionId, target);
        }
        // Another tenant's decision gets the very same answer as a missing one: never reveal it exists.
        if (target === null || target.head.tenant !== e.tenant) {
          outcomes[i] = rejected(e.eventId, 'unknown_decision', `unknown decision ${e.decisionId}`);
          continue;
        }
        const { head, engagement } = target;
        const index = head.offerIds.indexOf(e.offerId);
        if (index < 0) {
          outcomes[i] = rejected(e.eventId, 'bad_request', `offer ${e.offerId} was not shown in decision ${e.decisionId}`);
          continue;
        }
        const outside = this.#outsideWindow(e, head.decidedAt, now);
        if (outside !== null) {
          outcomes[i] = rejected(e.eventId, 'out_of_window', outside);
          continue;
        }
        if (engagement.eventCount >= this.#opt.maxEventsPerDecision) {
          outcomes[i] = rejected(e.eventId, 'bad_request', `decision ${e.decisionId} already has ${engagement.eventCount} events (the most one decision takes)`);
          continue;
        }
        dbs.events.putSync(key, encodeEvent(e, now));
        dbs.eventRefs.putSync([head.decidedAt, e.decisionId, e.tenant, e.eventId], EMPTY);
        engagement.record(index, FLAG[e.kind]);
        cursor ??= readLabelCursor(dbs);
        if (isLabelled(cursor, head.decidedAt, e.decisionId)) afterLabel++;
        outcomes[i] = { eventId: e.eventId, status: 'accepted' };
      }
    }
    // One write per decision per group, however many of its events the group holds.
    for (const target of targets.values()) {
      if (target !== null && target.engagement.dirty) dbs.decisionTimes.putSync(target.timeKey, target.engagement.bytes);
    }
    return afterLabel;
  }

  /** The decision an event names, as this transaction sees it, or null when it is not (or no longer) stored. */
  #target(decisionId: string): Target | null {
    const b = this.#dbs.decisions.getBinaryFast(decisionId);
    if (b === undefined) return null;
    const head = decodeDecisionHead(b, b.length);
    const timeKey: DecisionTimeKey = [head.decidedAt, decisionId];
    // getBinary copies: the engagement is patched and written back at the end of the group.
    const e = this.#dbs.decisionTimes.getBinary(timeKey);
    return e === undefined ? null : { head, timeKey, engagement: new Engagement(e) };
  }

  #outsideWindow(e: EngagementEvent, decidedAt: number, now: number): string | null {
    const skew = this.#opt.clockSkewMs;
    if (e.ts < decidedAt - skew) return `event time ${e.ts} is before its decision (${decidedAt}) by more than ${skew} ms`;
    const window = this.#window[e.kind];
    if (e.ts > decidedAt + window) return `event time ${e.ts} is past the ${e.kind} window of ${window} ms after the decision (${decidedAt})`;
    if (e.ts > now + skew) return `event time ${e.ts} is in the future (server time ${now})`;
    return null;
  }

  #finish(group: QueuedCall[], failure: string | null): void {
    for (const call of group) {
      this.#pending -= call.events.length;
      if (failure !== null) {
        for (let i = 0; i < call.outcomes.length; i++) {
          const o = call.outcomes[i];
          if (o === undefined || 'status' in o) call.outcomes[i] = rejected(call.events[i].eventId, 'internal', `the event was not stored: ${failure}`);
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
