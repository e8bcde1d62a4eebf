/**
 * What the event log has done, for metrics. Plain numbers on the main thread (the only thread that writes
 * the log), read at scrape time by snapshot(): nothing on the hot path but an increment.
 */
import { ERROR_CODE_LIST } from '../errors/codes.js';
export class EventCounters {
    decisionsLogged = 0;
    decisionsLost = 0;
    eventsAccepted = 0;
    eventsDuplicate = 0;
    eventsRejected = Object.fromEntries(ERROR_CODE_LIST.map((c) => [c, 0]));
    eventsAfterLabel = 0;
    decisionsLabelled = 0;
    examplesEmitted = 0;
    examplesPositive = 0;
    sweptDecisions = 0;
    sweptEvents = 0;
    sweptExamples = 0;
    backgroundErrors = 0;
    snapshot() {
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
