/**
 * Every option of the event log, with its default and unit, in one place. docs/EVENTS.md has the same table;
 * test/events-options.test.ts keeps the two equal and checks that each option's validation names it.
 */

export type AckOn = 'flushed' | 'committed';

export interface EventOptions {
  /** ms after the decision within which an impression is attributed to it. */
  impressionWindowMs?: number;
  /** ms after the decision within which a click is attributed to it; a click label is final when it closes. */
  clickWindowMs?: number;
  /** ms after the decision within which a dismiss is attributed to it. */
  dismissWindowMs?: number;
  /** ms after the decision within which a conversion is attributed to it. */
  conversionWindowMs?: number;
  /** ms an event may be dated before its decision (client clocks run behind), and ahead of the server's now. */
  clockSkewMs?: number;
  /** ms after the decision before its examples are emitted; undefined means the click window. */
  rewardWaitMs?: number;
  /** ms, counted from the decision time, that a decision and its events are kept. */
  retentionMs?: number;
  /** Most decisions kept; the oldest (with their events) go first beyond it. */
  maxDecisions?: number;
  /** Most labelled examples kept; the oldest go first beyond it (they also expire after retentionMs). */
  maxExamples?: number;
  /** Most events one decision accepts (bounds disk use per decision against a looping client). */
  maxEventsPerDecision?: number;
  /** Most events in one ingest() call. */
  maxEventsPerIngest?: number;
  /** Most events one write transaction takes; the rest wait for the next one, applied while this one commits. */
  maxGroupEvents?: number;
  /** Most events accepted for ingest and not yet acknowledged; beyond it events are answered `overloaded`. */
  maxPendingEvents?: number;
  /** Recently logged decisions whose heads ingest keeps in memory (about 100 bytes each off the JS heap, plus
   * one small Buffer object on it: recent-decisions.ts). 0 turns it off. */
  decisionCacheSize?: number;
  /** When an ingest resolves: 'flushed' (fsync done: survives power loss) or 'committed' (survives a process crash). */
  ackOn?: AckOn;
  /** Most decisions one labelling transaction handles (labelDue loops over chunks). */
  labelChunk?: number;
  /** Most decisions, events or examples one sweep transaction deletes (sweep loops over chunks). */
  sweepChunk?: number;
  /** ms between labelDue runs once start() is called. */
  labelIntervalMs?: number;
  /** ms between retention sweeps once start() is called. */
  sweepIntervalMs?: number;
}

export type ResolvedEventOptions = Required<Omit<EventOptions, 'rewardWaitMs'>> & { rewardWaitMs: number };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const EVENT_DEFAULTS: Readonly<Required<Omit<EventOptions, 'rewardWaitMs'>> & { rewardWaitMs: number | undefined }> = {
  impressionWindowMs: HOUR,
  clickWindowMs: HOUR,
  dismissWindowMs: HOUR,
  conversionWindowMs: 7 * DAY,
  clockSkewMs: 5 * 60_000,
  rewardWaitMs: undefined,
  retentionMs: 8 * DAY,
  maxDecisions: 10_000_000,
  maxExamples: 20_000_000,
  maxEventsPerDecision: 256,
  maxEventsPerIngest: 10_000,
  maxGroupEvents: 4_000,
  maxPendingEvents: 200_000,
  decisionCacheSize: 200_000,
  ackOn: 'flushed',
  labelChunk: 5_000,
  sweepChunk: 5_000,
  labelIntervalMs: 1_000,
  sweepIntervalMs: 60_000,
};

/** Integer bounds per numeric option: [min, max]. */
const BOUNDS: { [K in Exclude<keyof EventOptions, 'ackOn'>]: readonly [number, number] } = {
  impressionWindowMs: [1_000, 30 * DAY],
  clickWindowMs: [1_000, 30 * DAY],
  dismissWindowMs: [1_000, 30 * DAY],
  conversionWindowMs: [1_000, 90 * DAY],
  clockSkewMs: [0, DAY],
  rewardWaitMs: [1_000, 30 * DAY],
  retentionMs: [60_000, 365 * DAY],
  maxDecisions: [1, 2 ** 40],
  maxExamples: [1, 2 ** 40],
  maxEventsPerDecision: [1, 65_535],
  maxEventsPerIngest: [1, 1_000_000],
  maxGroupEvents: [1, 1_000_000],
  maxPendingEvents: [1, 100_000_000],
  decisionCacheSize: [0, 100_000_000],
  labelChunk: [1, 1_000_000],
  sweepChunk: [1, 1_000_000],
  labelIntervalMs: [10, DAY],
  sweepIntervalMs: [10, DAY],
};

/**
 * Fills in the defaults and checks every option; a bad one throws a TypeError naming it and the expected
 * form. Also checks the options against each other: retention must outlast every attribution window and the
 * reward wait, so an event that is still in its window always finds its decision (and a resent one is a
 * duplicate, not a second copy), and no decision is deleted before its labels are final.
 */
export function validateEventOptions(opts: EventOptions = {}): ResolvedEventOptions {
  if (opts === null || typeof opts !== 'object') throw new TypeError('event options must be an object');
  const known = new Set<string>(Object.keys(EVENT_DEFAULTS));
  for (const key of Object.keys(opts)) {
    if (!known.has(key)) throw new TypeError(`unknown event option ${key}`);
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(BOUNDS) as (keyof typeof BOUNDS)[]) {
    const given = opts[key];
    const value = given === undefined ? EVENT_DEFAULTS[key] : given;
    if (value === undefined) continue; // rewardWaitMs: filled in below
    const [min, max] = BOUNDS[key];
    if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max)) {
      throw new TypeError(`event option ${key} must be an integer in ${min}..${max}; got ${String(value)}`);
    }
    out[key] = value;
  }
  const ackOn = opts.ackOn ?? EVENT_DEFAULTS.ackOn;
  if (ackOn !== 'flushed' && ackOn !== 'committed') {
    throw new TypeError(`event option ackOn must be 'flushed' or 'committed'; got ${String(ackOn)}`);
  }
  out.ackOn = ackOn;
  out.rewardWaitMs ??= out.clickWindowMs;
  const o = out as ResolvedEventOptions;
  const longest = Math.max(o.impressionWindowMs, o.clickWindowMs, o.dismissWindowMs, o.conversionWindowMs, o.rewardWaitMs);
  if (o.retentionMs < longest) {
    throw new TypeError(`event option retentionMs must be at least the longest attribution window or reward wait (${longest} ms); got ${o.retentionMs}`);
  }
  return o;
}
