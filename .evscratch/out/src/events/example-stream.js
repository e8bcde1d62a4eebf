import { decodeExample } from './example-codec.js';
import { openEventDbs } from './layout.js';
import { readLastSeq } from './meta.js';
export class ExampleStream {
    #dbs;
    /** `dbs` when the caller has them open already (the EventStore); else opened on `root` (read-only is fine). */
    constructor(root, dbs) {
        this.#dbs = dbs ?? openEventDbs(root);
    }
    /**
     * Examples with seq > afterSeq, oldest first, at most `limit`. Starts from the latest commit: lmdb-js keeps
     * a read snapshot per thread and renews it only when the event loop turns, and a trainer thread in a tight
     * loop may not turn it (the catalog store resets for the same reason).
     */
    read(afterSeq, limit) {
        if (!(limit > 0))
            return [];
        this.#dbs.root.resetReadTxn();
        const out = [];
        for (const { key, value } of this.#dbs.examples.getRange({ start: afterSeq, exclusiveStart: true, limit })) {
            out.push(decodeExample(key, value, value.length));
        }
        return out;
    }
    /** The last seq handed out (0 before the first example), even when retention has deleted it. */
    latestSeq() {
        this.#dbs.root.resetReadTxn();
        return readLastSeq(this.#dbs);
    }
}
