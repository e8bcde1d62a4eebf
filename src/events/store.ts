/**
 * The event log: decisions served, engagement events received, and the labelled examples joined from them,
 * in named DBs of the storage environment (layout.ts). One EventStore per process, on the thread that owns
 * the read-write environment (the server's main thread); other threads read examples through their own
 * read-only environment (example-source.ts).
 *
 * It composes one part per concern: DecisionLog (serving path, fire-and-forget), EventLog (validated,
 * idempotent, durable ingest with group commit), Labeler (the join, exactly once), Retention (bounded disk),
 * ExampleStream (the ExampleSource the trainer reads). docs/EVENTS.md describes the semantics.
 *
 * Lifecycle: it does not own the environment (openStorage does). close() stops the timers, refuses new work,
 * waits for commits in flight and resolves; then the owner may close the storage.
 */
import type { RootDatabase } from 'lmdb';
import { TxrankError } from '../errors/codes.js';
import type { ExampleSource, LabelledExample } from '../learning/labelled-example.js';
import { EventCounters, type EventCountersSnapshot } from './counters.js';
import { DecisionLog } from './decision-log.js';
import { EventLog } from './event-log.js';
import { ExampleStream } from './example-stream.js';
import { Labeler, type LabelResult } from './labeler.js';
import { openEventDbs, type EventDbs } from './layout.js';
import { validateEventOptions, type EventOptions, type ResolvedEventOptions } from './options.js';
import { RecentDecisions } from './recent-decisions.js';
import { Retention, type SweepResult } from './retention.js';
import type { AcceptedEventSink, DecisionRecord, EngagementEvent, EventOutcome, OfferEngagement, StoredEvent } from './types.js';

export interface EventStoreDeps {
  /** Clock for the scheduled labelDue / sweep runs and for ingest's default `now`. Default Date.now. */
  now?: () => number;
  /** Called with each failure of a scheduled run (which is also counted). Default: console.error. */
  onBackgroundError?: (err: unknown, task: 'label' | 'sweep') => void;
  /** Told of every accepted event inside its write transaction (the spend ledger, the report counters). */
  sinks?: readonly AcceptedEventSink[];
}

export class EventStore implements ExampleSource {
  readonly options: ResolvedEventOptions;
  readonly #dbs: EventDbs;
  readonly #counters = new EventCounters();
  readonly #decisions: DecisionLog;
  readonly #events: EventLog;
  readonly #labeler: Labeler;
  readonly #retention: Retention;
  readonly #examples: ExampleStream;
  readonly #now: () => number;
  readonly #onError: (err: unknown, task: 'label' | 'sweep') => void;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #running = new Set<Promise<unknown>>();
  #closing: Promise<void> | null = null;

  /** Opens (creating) the event DBs in a read-write environment's root: `openStorage(dir).root`. */
  constructor(root: RootDatabase, options: EventOptions = {}, deps: EventStoreDeps = {}) {
    this.options = validateEventOptions(options);
    this.#dbs = openEventDbs(root);
    const recent = new RecentDecisions(this.options.decisionCacheSize);
    this.#decisions = new DecisionLog(this.#dbs, this.#counters, recent);
    this.#events = new EventLog(this.#dbs, this.options, this.#counters, recent, deps.sinks ?? []);
    this.#labeler = new Labeler(this.#dbs, this.options, this.#counters);
    this.#retention = new Retention(this.#dbs, this.options, this.#counters, recent);
    this.#examples = new ExampleStream(root, this.#dbs);
    this.#now = deps.now ?? Date.now;
    this.#onError =
      deps.onBackgroundError ??
      ((err, task) => console.error(`txrank events: scheduled ${task} failed:`, err instanceof Error ? err.message : err));
  }

  /**
   * Serving path: queues the decision for the next commit and returns (a few µs, main thread). Events for it
   * may be ingested at once: they are ordered after it.
   */
  logDecision(rec: DecisionRecord): void {
    // Never throws on the serving path: a decision finishing after close() is counted lost, not raised.
    if (this.#closing !== null) {
      this.#counters.decisionsLost++;
      return;
    }
    this.#decisions.log(rec);
  }

  /**
   * Validates and stores engagement events; one outcome per event, in order. Resolves once every accepted
   * event is durable (options.ackOn). `now` (ms) is the server's receive time, for the future-time check.
   */
  ingest(events: readonly EngagementEvent[], now: number = this.#now()): Promise<EventOutcome[]> {
    return this.#closed() ?? this.#events.ingest(events, now);
  }

  /** Emits the examples of every decision whose reward wait has passed by `now` (ms). */
  labelDue(now: number = this.#now()): Promise<LabelResult> {
    return this.#closed() ?? this.#track(this.#labeler.labelDue(now));
  }

  /** Deletes decisions, events and examples past retention at `now` (ms). */
  sweep(now: number = this.#now()): Promise<SweepResult> {
    return this.#closed() ?? this.#track(this.#retention.sweep(now));
  }

  /** ExampleSource: examples with seq > afterSeq, oldest first, at most `limit`. */
  read(afterSeq: number, limit: number): LabelledExample[] {
    return this.#examples.read(afterSeq, limit);
  }

  /** The last example seq handed out (0 before the first). */
  latestSeq(): number {
    return this.#examples.latestSeq();
  }

  /** The tenant's decision as stored, or null (unknown, another tenant's, or past retention). */
  getDecision(tenant: string, decisionId: string): DecisionRecord | null {
    return this.#decisions.get(tenant, decisionId);
  }

  /** What accepted events say about each shown offer of the tenant's decision, or null like getDecision. */
  getEngagement(tenant: string, decisionId: string): OfferEngagement[] | null {
    return this.#decisions.engagement(tenant, decisionId);
  }

  /** An accepted event of the tenant's decision, or null. */
  getEvent(tenant: string, decisionId: string, eventId: string): StoredEvent | null {
    return this.#events.get(tenant, decisionId, eventId);
  }

  /** The accepted events of the tenant's decision, in event-id order (conversions too, for reports). */
  eventsOf(tenant: string, decisionId: string): StoredEvent[] {
    return this.#events.ofDecision(tenant, decisionId);
  }

  /** Counters for metrics, plus the events waiting to be acknowledged right now. */
  counters(): EventCountersSnapshot & { pendingEvents: number } {
    return { ...this.#counters.snapshot(), pendingEvents: this.#events.pending };
  }

  /**
   * Runs labelDue every labelIntervalMs and sweep every sweepIntervalMs until close(). A run still going
   * when its next is due is not doubled: that tick is skipped. Timers are unref'd (they never keep the
   * process alive). Idempotent.
   */
  start(): void {
    if (this.#closing !== null) throw new TxrankError('shutting_down', 'the event log is closed');
    if (this.#timers.length > 0) return;
    const every = (ms: number, task: 'label' | 'sweep', run: () => Promise<unknown>) => {
      let busy = false;
      const t = setInterval(() => {
        if (busy || this.#closing !== null) return;
        busy = true;
        run()
          .catch((err: unknown) => {
            this.#counters.backgroundErrors++;
            this.#onError(err, task);
          })
          .finally(() => {
            busy = false;
          });
      }, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.options.labelIntervalMs, 'label', () => this.labelDue());
    every(this.options.sweepIntervalMs, 'sweep', () => this.sweep());
  }

  /**
   * Stops the timers, refuses new calls (ingest, labelDue and sweep reject with `shutting_down`; logDecision
   * counts the decision lost), and resolves once every ingest,
   * labelDue and sweep in progress has committed and been answered. Idempotent: every call returns the same
   * promise. Close the storage environment after it.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const t of this.#timers.splice(0)) clearInterval(t);
      await this.#events.drain();
      while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
      // Decisions are fire-and-forget: wait for their commit too, so closing the environment loses none.
      await this.#dbs.root.committed;
    })();
    return this.#closing;
  }

  /** After close(): a rejected promise (never a synchronous throw, callers chain on the result). */
  #closed(): Promise<never> | null {
    return this.#closing === null ? null : Promise.reject(new TxrankError('shutting_down', 'the event log is closed'));
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#running.add(p);
    const forget = () => this.#running.delete(p);
    p.then(forget, forget);
    return p;
  }
}

export type { LabelResult } from './labeler.js';
export type { SweepResult } from './retention.js';
export type { EventCountersSnapshot } from './counters.js';
export { EVENT_DEFAULTS, validateEventOptions, type EventOptions, type ResolvedEventOptions, type AckOn } from './options.js';
export type { AcceptedEventSink, DecisionHead, DecisionRecord, EngagementEvent, EventKind, EventOutcome, OfferEngagement, ShownOffer, StoredEvent } from './types.js';
export { EVENTS_LAYOUT } from './layout.js';
export { ExampleStream } from './example-stream.js';
