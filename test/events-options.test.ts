/**
 * The event log's options: one validator that names the bad option, a test per option, and the table in
 * docs/EVENTS.md kept equal to EVENT_DEFAULTS.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_DEFAULTS, validateEventOptions, type EventOptions } from '../src/events/options.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A value below each numeric option's range. */
const TOO_SMALL: Record<Exclude<keyof EventOptions, 'ackOn'>, number> = {
  impressionWindowMs: 999,
  clickWindowMs: 999,
  dismissWindowMs: 999,
  conversionWindowMs: 999,
  clockSkewMs: -1,
  rewardWaitMs: 999,
  retentionMs: 59_999,
  maxDecisions: 0,
  maxExamples: 0,
  maxEventsPerDecision: 0,
  maxEventsPerIngest: 0,
  maxGroupEvents: 0,
  maxPendingEvents: 0,
  decisionCacheSize: -1,
  labelChunk: 0,
  sweepChunk: 0,
  labelIntervalMs: 9,
  sweepIntervalMs: 9,
};

describe('validateEventOptions', () => {
  it('fills in every default, the reward wait from the click window', () => {
    const o = validateEventOptions();
    expect(o).toEqual({ ...EVENT_DEFAULTS, rewardWaitMs: EVENT_DEFAULTS.clickWindowMs });
    expect(validateEventOptions({ clickWindowMs: 2 * HOUR }).rewardWaitMs).toBe(2 * HOUR);
    expect(validateEventOptions({ rewardWaitMs: 3 * HOUR }).rewardWaitMs).toBe(3 * HOUR);
  });

  it('has defaults that pass its own checks, with retention outlasting every window', () => {
    const o = validateEventOptions({});
    expect(o.retentionMs).toBeGreaterThanOrEqual(Math.max(o.impressionWindowMs, o.clickWindowMs, o.dismissWindowMs, o.conversionWindowMs, o.rewardWaitMs));
    expect(o.ackOn).toBe('flushed');
  });

  for (const [key, bad] of Object.entries(TOO_SMALL) as [keyof typeof TOO_SMALL, number][]) {
    it(`refuses a bad ${key}, naming it`, () => {
      expect(() => validateEventOptions({ [key]: bad })).toThrow(new RegExp(`event option ${key} must be an integer in`));
      expect(() => validateEventOptions({ [key]: 1.5 })).toThrow(new RegExp(`event option ${key} `));
      expect(() => validateEventOptions({ [key]: '5' as unknown as number })).toThrow(new RegExp(`event option ${key} `));
      expect(() => validateEventOptions({ [key]: Number.NaN })).toThrow(new RegExp(`event option ${key} `));
    });
  }

  it('refuses a bad ackOn, naming it', () => {
    expect(() => validateEventOptions({ ackOn: 'fsync' as 'flushed' })).toThrow(/event option ackOn must be 'flushed' or 'committed'/);
    expect(validateEventOptions({ ackOn: 'committed' }).ackOn).toBe('committed');
  });

  it('refuses an unknown option (a typo is not silently ignored)', () => {
    expect(() => validateEventOptions({ clickWindow: 5 } as EventOptions)).toThrow(/unknown event option clickWindow/);
  });

  it('refuses a retention shorter than an attribution window or the reward wait', () => {
    expect(() => validateEventOptions({ retentionMs: 6 * DAY })).toThrow(/retentionMs must be at least .*604800000/);
    expect(() => validateEventOptions({ retentionMs: 2 * DAY, conversionWindowMs: DAY, rewardWaitMs: 3 * DAY })).toThrow(/retentionMs/);
    expect(validateEventOptions({ retentionMs: 2 * DAY, conversionWindowMs: DAY }).retentionMs).toBe(2 * DAY);
  });
});

describe('docs/EVENTS.md options table', () => {
  const doc = readFileSync(new URL('../docs/EVENTS.md', import.meta.url), 'utf8');
  const section = doc.split('<!-- options:begin -->')[1]?.split('<!-- options:end -->')[0] ?? '';
  const rows = new Map([...section.matchAll(/^\| `([A-Za-z]+)` \| ([^|]+) \|/gm)].map((m) => [m[1], m[2].trim()]));

  it('lists every option, and only those', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(EVENT_DEFAULTS).sort());
  });

  it('shows each default as the code has it', () => {
    for (const [key, value] of Object.entries(EVENT_DEFAULTS)) {
      const shown = rows.get(key);
      if (value === undefined) expect(shown, key).toBe('= `clickWindowMs`');
      else if (typeof value === 'string') expect(shown, key).toBe(`\`'${value}'\``);
      else expect(shown?.replaceAll(',', ''), key).toBe(String(value));
    }
  });
});
