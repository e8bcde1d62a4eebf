import { TxrankError } from '../errors/codes.js';
export const EVENTS_LAYOUT = {
    decisions: 'ev_decisions',
    decisionTimes: 'ev_decision_times',
    events: 'ev_events',
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
/**
 * The keys of one decision's events, in event-id order, at most `limit`. Decision ids are the server's
 * UUIDs, so [decidedAt, decisionId, *] is exactly the run of keys from [decidedAt, decisionId] on whose first
 * two parts match (ordered-binary writes array parts separated by a 0 byte, below every character a UUID has).
 */
export function* eventKeysOf(dbs, decidedAt, decisionId, limit = Infinity) {
    let n = 0;
    for (const key of dbs.events.getKeys({ start: [decidedAt, decisionId] })) {
        if (n >= limit || key[0] !== decidedAt || key[1] !== decisionId)
            return;
        n++;
        yield key;
    }
}
/** Like eventKeysOf, with each value: a reused buffer, valid only until the next step (decode it at once). */
export function* eventEntriesOf(dbs, decidedAt, decisionId) {
    for (const entry of dbs.events.getRange({ start: [decidedAt, decisionId] })) {
        if (entry.key[0] !== decidedAt || entry.key[1] !== decisionId)
            return;
        yield entry;
    }
}
