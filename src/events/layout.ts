/**
 * The event log's named DBs inside the storage environment (src/catalog/store.ts opens it; STORAGE_LAYOUT
 * leaves room for 16 DBs and the catalog uses 4). All values are compact binary records written by the
 * codecs in this folder, so every DB is opened with `encoding: 'binary'` and nothing goes through msgpack.
 *
 *   ev_decisions       decisionId                      -> decision record (decision-codec.ts), immutable
 *   ev_decision_times  [decidedAt, decisionId]         -> engagement (engagement-codec.ts): flags per shown
 *                                                         offer and the ids of its events; the time order is
 *                                                         what the labeler and retention walk
 *   ev_events          [tenant, eventId]               -> event record (event-codec.ts); the key IS the
 *                                                         idempotency key, so it lives exactly as long as the event
 *   ev_examples        seq                             -> labelled example (example-codec.ts)
 *   ev_meta            'label_cursor' | 'last_seq'     -> the labeler's position (meta-codec in labeler.ts)
 */
import type { Database, RootDatabase } from 'lmdb';
import { TxrankError } from '../errors/codes.js';

export const EVENTS_LAYOUT = {
  decisions: 'ev_decisions',
  decisionTimes: 'ev_decision_times',
  events: 'ev_events',
  examples: 'ev_examples',
  meta: 'ev_meta',
} as const;

export type DecisionTimeKey = [decidedAt: number, decisionId: string];
export type EventKey = [tenant: string, eventId: string];

export interface EventDbs {
  root: RootDatabase;
  decisions: Database<Buffer, string>;
  decisionTimes: Database<Buffer, DecisionTimeKey>;
  events: Database<Buffer, EventKey>;
  examples: Database<Buffer, number>;
  meta: Database<Buffer, string>;
}

/*
 * Write locality. Keys that grow with time (decision time first) keep each commit's writes in the last few
 * B-tree pages; only ev_decisions and ev_events take keys chosen by others (UUIDs, client ids), so their
 * writes land on random pages: one 4 KiB page copy per insert in a large DB, the main cost of a commit.
 * Hence one random insert per event and per decision, and nothing else random.
 */

/**
 * Opens (creating, on a read-write root) the event DBs. On a read-only root the DBs must exist already:
 * the writer creates them when it constructs its EventStore; before that this throws `not_ready`.
 */
export function openEventDbs(root: RootDatabase): EventDbs {
  try {
    const db = <K extends string | number | (string | number)[]>(name: string) =>
      root.openDB<Buffer, K>(name, { encoding: 'binary' });
    return {
      root,
      decisions: db<string>(EVENTS_LAYOUT.decisions),
      decisionTimes: db<DecisionTimeKey>(EVENTS_LAYOUT.decisionTimes),
      events: db<EventKey>(EVENTS_LAYOUT.events),
      examples: db<number>(EVENTS_LAYOUT.examples),
      meta: db<string>(EVENTS_LAYOUT.meta),
    };
  } catch (err) {
    throw new TxrankError('not_ready', `the event log's DBs cannot be opened (${err instanceof Error ? err.message : String(err)}); the writer must create them first`);
  }
}

/** Entry count of a DB as of the current transaction (lmdb-js's getStats is untyped). */
export function entryCount(db: { getStats(): object }): number {
  return (db.getStats() as { entryCount: number }).entryCount;
}
