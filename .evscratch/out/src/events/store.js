import { TxrankError } from '../errors/codes.js';
import { EventCounters } from './counters.js';
import { DecisionLog } from './decision-log.js';
import { EventLog } from './event-log.js';
import { ExampleStream } from './example-stream.js';
import { Labeler } from './labeler.js';
import { openEventDbs } from './layout.js';
import { validateEventOptions } from './options.js';
import { RecentDecisions } from './recent-decisions.js';
import { Retention } from './retention.js';
export class EventStore {
    options;
    #dbs;
    #counters = new EventCounters();
    #decisions;
    #events;
    #labeler;
    #retention;
    #examples;
    #now;
    #onError;
    #timers = [];
    #running = new Set();
    #closing = null;
    /** Opens (creating) the event DBs in a read-write environment's root: `openStorage(dir).root`. */
    constructor(root, options = {}, deps = {}) {
        this.options = validateEventOptions(options);
        this.#dbs = openEventDbs(root);
        const recent = new RecentDecisions(this.options.decisionCacheSize);
        this.#decisions = new DecisionLog(this.#dbs, this.#counters, recent);
        this.#events = new EventLog(this.#dbs, this.options, this.#counters, recent);
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
    logDecision(rec) {
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
    ingest(events, now = this.#now()) {
        return this.#closed() ?? this.#events.ingest(events, now);
    }
    /** Emits the examples of every decision whose reward wait has passed by `now` (ms). */
    labelDue(now = this.#now()) {
        return this.#closed() ?? this.#track(this.#labeler.labelDue(now));
    }
    /** Deletes decisions, events and examples past retention at `now` (ms). */
    sweep(now = this.#now()) {
        return this.#closed() ?? this.#track(this.#retention.sweep(now));
    }
    /** ExampleSource: examples with seq > afterSeq, oldest first, at most `limit`. */
    read(afterSeq, limit) {
        return this.#examples.read(afterSeq, limit);
    }
    /** The last example seq handed out (0 before the first). */
    latestSeq() {
        return this.#examples.latestSeq();
    }
    /** The tenant's decision as stored, or null (unknown, another tenant's, or past retention). */
    getDecision(tenant, decisionId) {
        return this.#decisions.get(tenant, decisionId);
    }
    /** What accepted events say about each shown offer of the tenant's decision, or null like getDecision. */
    getEngagement(tenant, decisionId) {
        return this.#decisions.engagement(tenant, decisionId);
    }
    /** An accepted event of the tenant's decision, or null. */
    getEvent(tenant, decisionId, eventId) {
        return this.#events.get(tenant, decisionId, eventId);
    }
    /** The accepted events of the tenant's decision, in event-id order (conversions too, for reports). */
    eventsOf(tenant, decisionId) {
        return this.#events.ofDecision(tenant, decisionId);
    }
    /** Counters for metrics, plus the events waiting to be acknowledged right now. */
    counters() {
        return { ...this.#counters.snapshot(), pendingEvents: this.#events.pending };
    }
    /**
     * Runs labelDue every labelIntervalMs and sweep every sweepIntervalMs until close(). A run still going
     * when its next is due is not doubled: that tick is skipped. Timers are unref'd (they never keep the
     * process alive). Idempotent.
     */
    start() {
        if (this.#closing !== null)
            throw new TxrankError('shutting_down', 'the event log is closed');
        if (this.#timers.length > 0)
            return;
        const every = (ms, task, run) => {
            let busy = false;
            const t = setInterval(() => {
                if (busy || this.#closing !== null)
                    return;
                busy = true;
                run()
                    .catch((err) => {
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
    close() {
        this.#closing ??= (async () => {
            for (const t of this.#timers.splice(0))
                clearInterval(t);
            await this.#events.drain();
            while (this.#running.size > 0)
                await Promise.allSettled([...this.#running]);
            // Decisions are fire-and-forget: wait for their commit too, so closing the environment loses none.
            await this.#dbs.root.committed;
        })();
        return this.#closing;
    }
    /** After close(): a rejected promise (never a synchronous throw, callers chain on the result). */
    #closed() {
        return this.#closing === null ? null : Promise.reject(new TxrankError('shutting_down', 'the event log is closed'));
    }
    #track(p) {
        this.#running.add(p);
        const forget = () => this.#running.delete(p);
        p.then(forget, forget);
        return p;
    }
}
export { EVENT_DEFAULTS, validateEventOptions } from './options.js';
export { EVENTS_LAYOUT } from './layout.js';
export { ExampleStream } from './example-stream.js';
