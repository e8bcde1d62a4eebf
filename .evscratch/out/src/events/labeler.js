/**
 * The join of decisions and engagement into labelled examples for the click model.
 *
 * What is learned: p(click | impression). For each decision whose reward wait has passed (decidedAt +
 * rewardWaitMs < now), every shown offer the buyer saw becomes one example: label 1 when a click was
 * accepted for it, else 0. "Saw" means an impression event, or a click or dismiss (both imply one); an offer
 * with none of them was maybe never rendered, so it is neither a positive nor a negative and yields nothing.
 * Clicks are only accepted inside the click window, so with the default reward wait (= the click window)
 * the label is final when it is emitted.
 *
 * Delayed conversions do not touch labels: a conversion hours or days later is stored (for reports and
 * conversion rates) but the click model's label is the click, final when the click window closes, so a late
 * conversion can never flip an emitted label nor bias the examples towards decisions old enough to have had
 * time to convert.
 *
 * Exactly once. The labeler walks ev_decision_times in order from a cursor kept in ev_meta. Each chunk (at
 * most labelChunk decisions) is one write transaction holding the examples, the advanced cursor and the last
 * seq, so a crash either keeps all three or none: no example is lost or emitted twice, and seqs never go
 * back. A decision logged with a decidedAt behind the cursor (more than the reward wait late) is skipped,
 * never labelled twice.
 *
 * Cheap when idle: one range lookup that finds nothing, so calling labelDue every second costs microseconds.
 */
import { decodeDecision } from './decision-codec.js';
import { decodeEventKindAndOffer } from './event-codec.js';
import { engagementFlags, FLAG, SEEN } from './engagement.js';
import { encodeExample } from './example-codec.js';
import { eventEntriesOf } from './layout.js';
import { readLabelCursor, readLastSeq, writeLabelCursor, writeLastSeq } from './meta.js';
export class Labeler {
    #dbs;
    #opt;
    #counters;
    constructor(dbs, opt, counters) {
        this.#dbs = dbs;
        this.#opt = opt;
        this.#counters = counters;
    }
    /** Labels every decision due at `now` (ms), a chunk per transaction; resolves once all are committed. */
    async labelDue(now) {
        const total = { decisions: 0, examples: 0, positives: 0, lastSeq: 0 };
        for (;;) {
            const chunk = await this.#dbs.root.childTransaction(() => this.#chunk(now));
            total.decisions += chunk.decisions;
            total.examples += chunk.examples;
            total.positives += chunk.positives;
            total.lastSeq = chunk.lastSeq;
            this.#counters.decisionsLabelled += chunk.decisions;
            this.#counters.examplesEmitted += chunk.examples;
            this.#counters.examplesPositive += chunk.positives;
            if (!chunk.more)
                return total;
        }
    }
    #chunk(now) {
        const dbs = this.#dbs;
        const cursor = readLabelCursor(dbs);
        let seq = readLastSeq(dbs);
        // Due when decidedAt < now - rewardWait: [t, id] < [cutoff] exactly when t < cutoff.
        const due = [
            ...dbs.decisionTimes.getKeys({
                ...(cursor === null ? {} : { start: cursor, exclusiveStart: true }),
                end: [now - this.#opt.rewardWaitMs],
                limit: this.#opt.labelChunk,
            }),
        ];
        let examples = 0;
        let positives = 0;
        for (const [decidedAt, decisionId] of due) {
            // The decision's events are one key range, in the same order as the decisions: a short seek each.
            const events = [];
            for (const { value } of eventEntriesOf(dbs, decidedAt, decisionId))
                events.push(decodeEventKindAndOffer(value, value.length));
            if (events.length === 0)
                continue; // nothing seen: no example, and no need to read the decision
            const bytes = dbs.decisions.getBinaryFast(decisionId);
            if (bytes === undefined)
                continue;
            const d = decodeDecision(bytes, bytes.length);
            const flags = engagementFlags(d.shown.map((s) => s.offerId), events);
            for (let i = 0; i < d.shown.length; i++) {
                const f = flags[i];
                if ((f & SEEN) === 0)
                    continue;
                const label = (f & FLAG.click) !== 0 ? 1 : 0;
                const s = d.shown[i];
                dbs.examples.putSync(++seq, encodeExample({
                    decisionId: d.decisionId,
                    tenant: d.tenant,
                    offerId: s.offerId,
                    catalogVersion: d.catalogVersion,
                    modelVersion: d.modelVersion,
                    position: s.position,
                    propensity: s.propensity,
                    txnFeatures: d.txnFeatures,
                    label,
                    decidedAt: d.decidedAt,
                }));
                examples++;
                positives += label;
            }
        }
        if (due.length > 0) {
            writeLabelCursor(dbs, due[due.length - 1]);
            writeLastSeq(dbs, seq);
        }
        return { decisions: due.length, examples, positives, lastSeq: seq, more: due.length === this.#opt.labelChunk };
    }
}
