import { TxrankError } from '../errors/codes.js';
export const EVENTS_LAYOUT = {
    decisions: 'ev_decisions',
    decisionTimes: 'ev_decision_times',
    events: 'ev_events',
    eventRefs: 'ev_event_refs',
    examples: 'ev_examples',
    meta: 'ev_meta',
};
/** Index values that carry nothing: the key is the information. */
export const EMPTY = Buffer.alloc(0);
/**
 * Opens (creating, on a read-write root) the event DBs. On a read-only root the DBs must exist already:
 * the writer creates them when it constructs its EventStore; before that this throws `not_ready`.
 */
export function openEventDbs(root) {
    try {
        const db = (name) => root.openDB(name, { encoding: 'binary' });
        return {
            root,
            decisions: db(EVENTS_LAYOUT.decisions),
            decisionTimes: db(EVENTS_LAYOUT.decisionTimes),
            events: db(EVENTS_LAYOUT.events),
            eventRefs: db(EVENTS_LAYOUT.eventRefs),
            examples: db(EVENTS_LAYOUT.examples),
            meta: db(EVENTS_LAYOUT.meta),
        };
    }
    catch (err) {
        throw new TxrankError('not_ready', `the event log's DBs cannot be opened (${err instanceof Error ? err.message : String(err)}); the writer must create them first`);
    }
}
/** Entry count of a DB as of the current transaction (lmdb-js's getStats is untyped). */
export function entryCount(db) {
    return db.getStats().entryCount;
}
