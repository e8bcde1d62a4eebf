/**
 * Event ingest: validate each engagement event against its decision, store it once, acknowledge it once it
 * is durable.
 *
 * Group commit. Every ingest() call joins a queue; one LMDB write transaction takes everything queued by the
 * time it starts (many calls, many events) and the acknowledgements of the whole group wait for that one
 * commit (and, with ackOn 'flushed', that one fsync). There is no timer: the group is whatever arrived while
 * the previous commit was busy, so an idle server commits a lone event at once and a loaded one commits
 * thousands per transaction. This matters because a commit costs about as much as the fsync of its dirty
 * pages (tens of ms on this VM, see docs/EVENTS.md): throughput comes from events per commit, not from
 * commits per second.
 *
 * Two phases, to keep work out of the write lock. Before queueing (on the caller's turn): field checks, the
 * event's key and encoded record, and, when the decision's head is in the in-memory RecentDecisions, the
 * decision checks (tenant, offer shown, windows). These run while the write thread is busy committing the
 * previous group. Inside the write transaction (a main-thread lmdb-js transaction callback): the decision
 * checks for cache misses, the per-decision event bound, and the writes.
 *
 * Why a transaction callback rather than lmdb-js's off-thread conditional puts: the checks need reads that
 * see every earlier write, committed or not (a decision logged a moment ago, the first copy of an event
 * resent in the same group), and the engagement flags are read-modify-write. Inside the write transaction
 * all of that is exact and needs no lock: LMDB has one writer at a time, so two concurrent copies of one
 * event are handled one after the other and the second is a duplicate. Each group runs as an lmdb-js child
 * transaction: a failure part-way writes nothing of it, and every event of the group is answered `internal`
 * (safe to resend).
 *
 * Idempotency key = the event's own key [tenant, eventId] in ev_events, written with MDB_NOOVERWRITE: one
 * B-tree descent both checks and inserts, and the key lives exactly as long as the event (retention deletes
 * both, with their decision). "Duplicate" wins over every other answer: a resent event that was accepted
 * before is answered `duplicate` even if it would now be refused (say, its decision has since reached
 * maxEventsPerDecision).
 */
import { TxrankError, type ErrorCode } from '../errors/codes.js';
import { decodeEvent, encodeEvent } from './event-codec.js';
import { decodeDecisionHead, type DecisionHead } from './decision-codec.js';
import { Engagement, FLAG } from './engagement-codec.js';
import type { DecisionTimeKey, EventDbs, EventKey } from './layout.js';
import { isLabelled, readLabelCursor } from './meta.js';
import type { EventCounters } from './counters.js';
import type { ResolvedEventOptions } from './options.js';
import type { RecentDecisions } from './recent-decisions.js';
import { EVENT_KINDS, type EngagementEvent, type EventKind, type EventOutcome, type StoredEvent } from './types.js';

/** One event on its way into the transaction. */
interface Prepared {
  key: EventKey;
  /** The encoded record, once the decision is known (it carries the decision time). */
  value: Buffer | undefined;
  /** The decision's head when it was known before the transaction (then `index` and `refusal` are set). */
  head: DecisionHead | undefined;
  index: number;
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

/** A decision some event of the group names: its engagement entry, read once and written back once. */
interface Target {
  timeKey: DecisionTimeKey;
  engagement: Engagement;
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

  constructor(dbs: EventDbs, opt: ResolvedEventOptions, counters: EventCounters, recent: RecentDecisions) {
    this.#dbs = dbs;
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
      const p: Prepared = { key: [e.tenant, e.eventId], value: undefined, head: undefined, index: -1, refusal: undefined };
      const head = this.#recent.get(e.decisionId);
      if (head !== undefined) {
        p.head = head;
        p.refusal = this.#check(e, head, now);
        if (p.refusal === undefined) {
          p.index = head.offerIds.indexOf(e.offerId);
          p.value = encodeEvent(e, head.decidedAt, now);
        }
      }
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
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  /** An accepted event, or null. */
  get(tenant: string, eventId: string): StoredEvent | null {
    const b = this.#dbs.events.getBinaryFast([tenant, eventId]);
    return b === undefined ? null : decodeEvent(tenant, eventId, b, b.length);
  }

  #commitGroup(): void {
    let group: QueuedCall[] | null = null;
    let afterLabel = 0;
    // The callback runs when lmdb-js's write thread reaches it and takes everything queued by then; calls
    // made after it started queue a new group (and a new transaction) behind it.
    const txn = this.#dbs.root.childTransaction(() => {
      group = this.#take();
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
    const targets = new Map<string, Target | null>();
    const heads = new Map<string, DecisionHead | null>();
    let cursor: ReturnType<typeof readLabelCursor> | undefined;
    let afterLabel = 0;
    for (const call of group) {
      const { events, outcomes, prepared, now } = call;
      for (let i = 0; i < events.length; i++) {
        const p = prepared[i];
        if (p === undefined) continue;
        const e = events[i];
        let head = p.head;
        if (head === undefined) {
          // Not in the cache: read the record (once per decision per group).
          let h = heads.get(e.decisionId);
          if (h === undefined) {
            const b = dbs.decisions.getBinaryFast(e.decisionId);
            h = b === undefined ? null : decodeDecisionHead(b, b.length);
            heads.set(e.decisionId, h);
          }
          if (h === null) {
            outcomes[i] = this.#refuseUnlessDuplicate(p, unknownDecision(e));
            continue;
          }
          head = h;
          p.refusal = this.#check(e, head, now);
          if (p.refusal === undefined) {
            p.index = head.offerIds.indexOf(e.offerId);
            p.value = encodeEvent(e, head.decidedAt, now);
          }
        }
        if (p.refusal !== undefined) {
          outcomes[i] = this.#refuseUnlessDuplicate(p, p.refusal);
          continue;
        }
        let target = targets.get(e.decisionId);
        if (target === undefined) {
          // The authoritative existence check: the engagement entry is written with the decision and deleted
          // with it, so a cached head of a lost or swept decision is caught here. getBinary copies: the
          // entry is patched and written back once at the end of the group.
          const timeKey: DecisionTimeKey = [head.decidedAt, e.decisionId];
          const bytes = dbs.decisionTimes.getBinary(timeKey);
          target = bytes === undefined ? null : { timeKey, engagement: new Engagement(bytes) };
          targets.set(e.decisionId, target);
        }
        if (target === null) {
          outcomes[i] = this.#refuseUnlessDuplicate(p, unknownDecision(e));
          continue;
        }
        const { engagement } = target;
        if (engagement.eventCount >= this.#opt.maxEventsPerDecision) {
          outcomes[i] = this.#refuseUnlessDuplicate(
            p,
            refused(e.eventId, 'bad_request', `decision ${e.decisionId} already has ${engagement.eventCount} events (the most one decision takes)`),
          );
          continue;
        }
        // Checks and inserts in one descent; false when the key exists (this group included). lmdb-js's
        // putSync returns that boolean; its .d.ts says void.
        if (!(dbs.events.putSync(p.key, p.value as Buffer, { noOverwrite: true }) as unknown as boolean)) {
          outcomes[i] = { eventId: e.eventId, status: 'duplicate' };
          continue;
        }
        engagement.record(p.index, FLAG[e.kind]);
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

  #refuseUnlessDuplicate(p: Prepared, refusal: EventOutcome): EventOutcome {
    return this.#dbs.events.getBinaryFast(p.key) !== undefined ? { eventId: p.key[1], status: 'duplicate' } : refusal;
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
