/**
 * The event log's named DBs inside the storage environment (src/catalog/store.ts opens it; STORAGE_LAYOUT
 * leaves room for 16 DBs and the catalog uses 4). All values are compact binary records written by the
 * codecs in this folder, so every DB is opened with `encoding: 'binary'` and nothing goes through msgpack.
 *
 *   ev_decisions       decisionId                        -> decision record (decision-codec.ts), immutable
 *   ev_decision_times  [decidedAt, decisionId]           -> empty: the time order the labeler and retention walk
 *   ev_events          [decidedAt, decisionId, eventId]  -> event record (event-codec.ts). The key is the
 *                                                           idempotency key, so it lives exactly as long as the
 *                                                           event; a decision's events are one contiguous range
 *   ev_examples        seq                               -> labelled example (example-codec.ts)
 *   ev_meta            'label_cursor' | 'last_seq'       -> the labeler's position (meta.ts)
 *
 * Write locality decides ingest throughput. An LMDB commit copies every B-tree page it touches (copy on
 * write) and writes it out, 4 KiB each. A key chosen by someone else (a client's event id, a UUID) lands on
 * a random page: one page copied and written per event, measured at about 7 µs of main-thread time per
 * insert into a few hundred thousand entries, plus the page write. Keys that start with the decision time
 * put a commit's events among those of recent decisions, a few hundred pages shared by thousands of events;
 * and a decision's events form one range, which the labeler and retention read and delete in order, so no
 * second index (one more write per event) is needed. Only ev_decisions takes random keys, once per decision.
 */
import type { Database, RootDatabase } from 'lmdb';
import { TxrankError } from '../errors/codes.js';
import { decodeEventKindAndOffer } from './event-codec.js';
import type { EventKind } from './types.js';

export const EVENTS_LAYOUT = {
  decisions: 'ev_decisions',
  decisionTimes: 'ev_decision_times',
  events: 'ev_events',
  examples: 'ev_examples',
  meta: 'ev_meta',
} as const;

export type DecisionTimeKey = [decidedAt: number, decisionId: string];
export type EventKey = [decidedAt: number, decisionId: string, eventId: string];

export interface EventDbs {
  root: RootDatabase;
  decisions: Database<Buffer, string>;
  decisionTimes: Database<Buffer, DecisionTimeKey>;
  events: Database<Buffer, EventKey>;
  examples: Database<Buffer, number>;
  meta: Database<Buffer, string>;
}

/** Index values that carry nothing: the key is the information. */
export const EMPTY = Buffer.alloc(0);

/**
 * Opens (creating, on a read-write root) the event DBs. On a read-only root the DBs must exist already:
 * the writer creates them when it constructs its EventStore; before that this throws `not_ready`.
 */
export function openEventDbs(root: RootDatabase): EventDbs {
  try {
    const db = <K extends string | number | (string | number)[]>(name: string) => {
      // On a read-only environment lmdb-js answers a missing DB with undefined rather than an error.
      const opened = root.openDB<Buffer, K>(name, { encoding: 'binary' }) as Database<Buffer, K> | undefined;
      if (!opened) throw new Error(`no DB ${name}`);
      return opened;
    };
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

/**
 * The keys of one decision's events, in event-id order, at most `limit`. Decision ids are the server's
 * UUIDs, so [decidedAt, decisionId, *] is exactly the run of keys from [decidedAt, decisionId] on whose first
 * two parts match (ordered-binary writes array parts separated by a 0 byte, below every character a UUID has).
 */
export function* eventKeysOf(dbs: EventDbs, decidedAt: number, decisionId: string, limit = Infinity): Generator<EventKey> {
  let n = 0;
  for (const key of dbs.events.getKeys({ start: [decidedAt, decisionId] })) {
    if (n >= limit || key[0] !== decidedAt || key[1] !== decisionId) return;
    n++;
    yield key;
  }
}


/** The kind and offer of each stored event of a decision, in event-id order (at most `limit`). */
export function* storedEventKinds(dbs: EventDbs, decidedAt: number, decisionId: string, limit = Infinity): Generator<{ kind: EventKind; offerId: string }> {
  for (const key of eventKeysOf(dbs, decidedAt, decisionId, limit)) {
    const v = dbs.events.getBinaryFast(key);
    if (v !== undefined) yield decodeEventKindAndOffer(v, v.length);
  }
}
