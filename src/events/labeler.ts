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
 * The join reads events in key order alongside the decisions (see #eventsOf), so it costs a sequential scan.
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
import type { DecisionTimeKey, EventDbs } from './layout.js';
import type { EventKind } from './types.js';
import { readLabelCursor, readLastSeq, writeLabelCursor, writeLastSeq } from './meta.js';
import type { EventCounters } from './counters.js';
import type { ResolvedEventOptions } from './options.js';

export interface LabelResult {
  /** Decisions passed (each exactly once, with or without examples). */
  decisions: number;
  examples: number;
  positives: number;
  /** The last seq handed out (unchanged when nothing was emitted). */
  lastSeq: number;
}

interface Chunk extends LabelResult {
  more: boolean;
}

export class Labeler {
  readonly #dbs: EventDbs;
  readonly #opt: ResolvedEventOptions;
  readonly #counters: EventCounters;

  constructor(dbs: EventDbs, opt: ResolvedEventOptions, counters: EventCounters) {
    this.#dbs = dbs;
    this.#opt = opt;
    this.#counters = counters;
  }

  /** Labels every decision due at `now` (ms), a chunk per transaction; resolves once all are committed. */
  async labelDue(now: number): Promise<LabelResult> {
    const total: LabelResult = { decisions: 0, examples: 0, positives: 0, lastSeq: 0 };
    for (;;) {
      const chunk = await this.#dbs.root.childTransaction(() => this.#chunk(now));
      total.decisions += chunk.decisions;
      total.examples += chunk.examples;
      total.positives += chunk.positives;
      total.lastSeq = chunk.lastSeq;
      this.#counters.decisionsLabelled += chunk.decisions;
      this.#counters.examplesEmitted += chunk.examples;
      this.#counters.examplesPositive += chunk.positives;
      if (!chunk.more) return total;
    }
  }

  #chunk(now: number): Chunk {
    const dbs = this.#dbs;
    const cursor = readLabelCursor(dbs);
    let seq = readLastSeq(dbs);
    // Due when decidedAt < now - rewardWait: [t, id] < [cutoff] exactly when t < cutoff.
    const due: DecisionTimeKey[] = [
      ...dbs.decisionTimes.getKeys({
        ...(cursor === null ? {} : { start: cursor, exclusiveStart: true }),
        end: [now - this.#opt.rewardWaitMs],
        limit: this.#opt.labelChunk,
      }),
    ];
    let examples = 0;
    let positives = 0;
    const eventsOf = this.#eventsOf(due);
    for (const [, decisionId] of due) {
      const events = eventsOf.get(decisionId);
      if (events === undefined) continue; // nothing seen: no example, and no need to read the decision
      const bytes = dbs.decisions.getBinaryFast(decisionId);
      if (bytes === undefined) continue;
      const d = decodeDecision(bytes, bytes.length);
      const flags = engagementFlags(d.shown.map((s) => s.offerId), events);
      for (let i = 0; i < d.shown.length; i++) {
        const f = flags[i];
        if ((f & SEEN) === 0) continue;
        const label = (f & FLAG.click) !== 0 ? 1 : 0;
        const s = d.shown[i];
        dbs.examples.putSync(
          ++seq,
          encodeExample({
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
          }),
        );
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

  /**
   * The events of the due decisions, by decision id, read in one forward scan: events are keyed by their
   * decision's [decidedAt, decisionId], the same order as the due list, so the events of the chunk are one
   * run of keys from its first decision to its last (a merge join, not a seek per decision). The scan stops
   * after the last due decision's time; events of a later decision at that same millisecond are read and
   * ignored.
   */
  #eventsOf(due: DecisionTimeKey[]): Map<string, { kind: EventKind; offerId: string }[]> {
    const out = new Map<string, { kind: EventKind; offerId: string }[]>();
    if (due.length === 0) return out;
    const wanted = new Set(due.map((k) => k[1]));
    const lastAt = due[due.length - 1][0];
    for (const { key, value } of this.#dbs.events.getRange({ start: due[0] })) {
      if (key[0] > lastAt) break;
      if (!wanted.has(key[1])) continue;
      let list = out.get(key[1]);
      if (list === undefined) out.set(key[1], (list = []));
      list.push(decodeEventKindAndOffer(value, value.length));
    }
    return out;
  }
}
