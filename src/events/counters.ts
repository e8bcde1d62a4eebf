/**
 * What the event log has done, for metrics. Plain numbers on the main thread (the only thread that writes
 * the log), read at scrape time by snapshot(): nothing on the hot path but an increment.
 */
import { ERROR_CODE_LIST, type ErrorCode } from '../errors/codes.js';

export interface EventCountersSnapshot {
  /** logDecision calls (queued for the next commit). */
  decisionsLogged: number;
  /** Decisions whose fire-and-forget write failed (lost). */
  decisionsLost: number;
  /** Events acknowledged as accepted (counted once durable per ackOn). */
  eventsAccepted: number;
  /** Events acknowledged as duplicates of an accepted event. */
  eventsDuplicate: number;
  /** Events refused, by error code (every code present, zeros included). */
  eventsRejected: Record<ErrorCode, number>;
  /** Accepted events whose decision's labels were already final (kept for reports; no example changes). */
  eventsAfterLabel: number;
  /** Decisions the labeler has passed (with or without examples). */
  decisionsLabelled: number;
  /** Examples written to the stream, and how many of them are positives. */
  examplesEmitted: number;
  examplesPositive: number;
  /** Rows deleted by retention sweeps. */
  sweptDecisions: number;
  sweptEvents: number;
  sweptExamples: number;
  /** Failures of scheduled labelDue / sweep runs (each also goes to onBackgroundError). */
  backgroundErrors: number;
}

export class EventCounters {
  decisionsLogged = 0;
  decisionsLost = 0;
  eventsAccepted = 0;
  eventsDuplicate = 0;
  readonly eventsRejected: Record<ErrorCode, number> = Object.fromEntries(ERROR_CODE_LIST.map((c) => [c, 0])) as Record<ErrorCode, number>;
  eventsAfterLabel = 0;
  decisionsLabelled = 0;
  examplesEmitted = 0;
  examplesPositive = 0;
  sweptDecisions = 0;
  sweptEvents = 0;
  sweptExamples = 0;
  backgroundErrors = 0;

  snapshot(): EventCountersSnapshot {
    return {
      decisionsLogged: this.decisionsLogged,
      decisionsLost: this.decisionsLost,
      eventsAccepted: this.eventsAccepted,
      eventsDuplicate: this.eventsDuplicate,
      eventsRejected: { ...this.eventsRejected },
      eventsAfterLabel: this.eventsAfterLabel,
      decisionsLabelled: this.decisionsLabelled,
      examplesEmitted: this.examplesEmitted,
      examplesPositive: this.examplesPositive,
      sweptDecisions: this.sweptDecisions,
      sweptEvents: this.sweptEvents,
      sweptExamples: this.sweptExamples,
      backgroundErrors: this.backgroundErrors,
    };
  }
}
