/**
 * The report's figures on a hand-built set of counters (written straight into a real LMDB), its query
 * checks, the chunked read, and the text rendering.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../src/catalog/store.js';
import { proportionLift, moneyRateLift } from '../src/reporting/lift.js';
import { CounterReader, encodeValues, openCountersDb, parseDay, zeroValues, type CounterKey, type CounterValues } from '../src/reporting/layout.js';
import { formatInterval, formatSignedPercent, renderJson, renderText, table } from '../src/reporting/render.js';
import { buildReport, buildReportInTurns, resolveReportQuery } from '../src/reporting/report.js';

const D = parseDay('2026-11-27') as number;
const FIXED = { now: () => Date.UTC(2026, 10, 28), currencyOf: (t: string) => ({ freshmart: 'USD', hometown: 'EUR' })[t] };

let dir: string;
let storage: Storage;
let reader: CounterReader;

function v(over: Partial<CounterValues>): CounterValues {
  return { ...zeroValues(), ...over };
}

const ROWS: [CounterKey, CounterValues][] = [
  [[D, 'freshmart', 'checkout', 'ai', '', ''], v({ decisions: 900 })],
  [[D, 'freshmart', 'checkout', 'rules', '', ''], v({ decisions: 100 })],
  // ai: cpc coffee (0.50 a click) and cpm tea (4 per 1000).
  [[D, 'freshmart', 'checkout', 'ai', 'c-coffee', 'a-roast'], v({ served: 1200, impressions: 800, clicks: 48, conversions: 4, conversionValue: 200, spend: 24, spendSq: 12, billable: 48 })],
  [[D, 'freshmart', 'checkout', 'ai', 'c-tea', 'a-leaf'], v({ served: 300, impressions: 200, clicks: 12, conversions: 2, conversionValue: 50, spend: 0.8, spendSq: 0.0032, billable: 200, dismisses: 3 })],
  [[D, 'freshmart', 'checkout', 'rules', 'c-coffee', 'a-roast'], v({ served: 150, impressions: 100, clicks: 4, conversions: 1, conversionValue: 20, spend: 2, spendSq: 1, billable: 4 })],
  // Outside the day and placement of most tests.
  [[D + 1, 'freshmart', 'checkout', 'ai', '', ''], v({ decisions: 10 })],
  [[D, 'freshmart', 'confirmation', 'rules', '', ''], v({ decisions: 50 })],
  // Another tenant, another currency.
  [[D, 'hometown', 'checkout', 'ai', '', ''], v({ decisions: 7 })],
  [[D, 'hometown', 'checkout', 'ai', 'c-x', 'a-y'], v({ served: 7, impressions: 5, clicks: 1, spend: 0.3, spendSq: 0.09, billable: 1 })],
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'txrank-report-'));
  storage = openStorage(dir);
  const db = openCountersDb(storage.root);
  if (db === null) throw new Error('no counters DB');
  await storage.root.transaction(() => {
    for (const [key, value] of ROWS) db.putSync(key, encodeValues(value));
  });
  reader = CounterReader.of(storage.root);
});

afterAll(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('buildReport', () => {
  it('per arm: counts, rates, spend, RPM, ROAS and the observed holdout', () => {
    const r = buildReport(reader, { tenant: 'freshmart', from: '2026-11-27', to: '2026-11-27', placement: 'checkout' }, FIXED);
    expect(r).toMatchObject({ from: '2026-11-27', to: '2026-11-27', tenant: 'freshmart', placement: 'checkout', generatedAt: '2026-11-28T00:00:00.000Z' });
    expect(r.tenants).toHaveLength(1);
    const t = r.tenants[0];
    expect(t.tenant).toBe('freshmart');
    expect(t.currency).toBe('USD');
    expect(t.holdout).toEqual({ ai: 900, rules: 100, rulesShare: 0.1 });
    expect(t.arms.map((a) => a.arm)).toEqual(['ai', 'rules']);
    const [ai, rules] = t.arms;
    expect(ai).toMatchObject({ decisions: 900, decisionShare: 0.9, served: 1500, impressions: 1000, clicks: 60, conversions: 6, dismisses: 3, conversionValue: 250, spend: 24.8, billable: 248 });
    expect(ai.ctr).toBeCloseTo(0.06, 12);
    expect(ai.cvr).toBeCloseTo(0.1, 12);
    expect(ai.conversionsPerImpression).toBeCloseTo(0.006, 12);
    expect(ai.rpm).toBeCloseTo(24.8, 12); // 24.80 over 1000 impressions, x 1000
    expect(ai.roas).toBeCloseTo(250 / 24.8, 12);
    expect(rules).toMatchObject({ decisions: 100, served: 150, impressions: 100, clicks: 4, conversions: 1, spend: 2 });
    expect(rules.ctr).toBeCloseTo(0.04, 12);
    expect(rules.cvr).toBeCloseTo(0.25, 12);
    expect(rules.rpm).toBeCloseTo(20, 12);
    expect(rules.roas).toBeCloseTo(10, 12);
  });

  it('the lift is ai over rules on the arm totals, with the intervals of lift.ts', () => {
    const t = buildReport(reader, { tenant: 'freshmart', from: '2026-11-27', to: '2026-11-27', placement: 'checkout' }, FIXED).tenants[0];
    expect(t.lift.ctr).toEqual(proportionLift({ x: 60, n: 1000 }, { x: 4, n: 100 }));
    expect(t.lift.ctr.lift).toBeCloseTo(0.5, 12);
    expect(t.lift.cvr).toEqual(proportionLift({ x: 6, n: 60 }, { x: 1, n: 4 }));
    expect(t.lift.cvr.lift).toBeCloseTo(-0.6, 12);
    expect(t.lift.conversionsPerImpression.lift).toBeCloseTo(-0.4, 12);
    expect(t.lift.rpm).toEqual(moneyRateLift({ spend: 24.8, spendSq: 12.0032, exposure: 1000 }, { spend: 2, spendSq: 1, exposure: 100 }));
    expect(t.lift.rpm.lift).toBeCloseTo(0.24, 12);
    expect(t.lift.rpm.ci95).not.toBeNull();
  });

  it('per arm x campaign and per arm x advertiser, the arm row (decisions only) left out', () => {
    const t = buildReport(reader, { tenant: 'freshmart', from: '2026-11-27', to: '2026-11-27', placement: 'checkout' }, FIXED).tenants[0];
    expect(t.campaigns.map((c) => [c.campaign, c.advertiser, c.arm, c.impressions, c.spend])).toEqual([
      ['c-coffee', 'a-roast', 'ai', 800, 24],
      ['c-coffee', 'a-roast', 'rules', 100, 2],
      ['c-tea', 'a-leaf', 'ai', 200, 0.8],
    ]);
    expect(t.campaigns[0].rpm).toBeCloseTo(30, 12);
    expect(t.campaigns[2].rpm).toBeCloseTo(4, 12); // a cpm campaign's RPM is its price
    expect(t.advertisers.map((a) => [a.advertiser, a.arm, a.clicks, a.conversionValue])).toEqual([
      ['a-leaf', 'ai', 12, 50],
      ['a-roast', 'ai', 48, 200],
      ['a-roast', 'rules', 4, 20],
    ]);
  });

  it('date range and placement select rows; without a tenant every tenant is its own group', () => {
    const all = buildReport(reader, {}, FIXED);
    expect(all.tenants.map((t) => [t.tenant, t.currency, t.holdout.ai, t.holdout.rules])).toEqual([
      ['freshmart', 'USD', 910, 150],
      ['hometown', 'EUR', 7, 0],
    ]);
    expect(all.tenants[1].arms[0].spend).toBe(0.3); // never added to freshmart's dollars
    expect(all.tenants[1].lift.ctr).toEqual({ ai: 0.2, rules: null, lift: null, ci95: null });
    const nextDay = buildReport(reader, { from: '2026-11-28' }, FIXED);
    expect(nextDay.tenants.map((t) => [t.tenant, t.holdout.ai])).toEqual([['freshmart', 10]]);
    const upTo = buildReport(reader, { to: '2026-11-27', placement: 'confirmation' }, FIXED);
    expect(upTo.tenants.map((t) => [t.tenant, t.holdout.rules])).toEqual([['freshmart', 50]]);
    expect(buildReport(reader, { tenant: 'nobody' }, FIXED).tenants).toEqual([]);
  });

  it('read in turns of any size gives the same report', async () => {
    const whole = buildReport(reader, {}, FIXED);
    for (const chunk of [1, 2, 3, 100]) expect(await buildReportInTurns(reader, {}, FIXED, chunk)).toEqual(whole);
    expect(await buildReportInTurns(reader, { tenant: 'hometown' }, FIXED, 1)).toEqual(buildReport(reader, { tenant: 'hometown' }, FIXED));
  });

  it('refuses a bad query with bad_request naming the field', () => {
    for (const [q, msg] of [
      [{ from: '2026-13-01' }, /from must be a date/],
      [{ to: '27/11/2026' }, /to must be a date/],
      [{ from: '2026-02-30' }, /from must be a date/],
      [{ from: '2026-11-28', to: '2026-11-27' }, /after/],
      [{ tenant: '' }, /tenant must be/],
      [{ placement: 'x'.repeat(129) }, /placement must be/],
    ] as const) {
      expect(() => resolveReportQuery(q)).toThrow(msg);
      expect(() => resolveReportQuery(q)).toThrow(expect.objectContaining({ code: 'bad_request' }));
    }
    expect(resolveReportQuery({ from: '2026-11-27', to: '2026-11-27' })).toEqual({ fromDay: D, toDay: D });
  });
});

describe('CounterReader', () => {
  it('one tenant\'s rows, seeking day by day, equal a filter of all rows, whole or in chunks', async () => {
    const other = await mkdtemp(join(tmpdir(), 'txrank-report-seek-'));
    const s = openStorage(other);
    try {
      const db = openCountersDb(s.root);
      if (db === null) throw new Error('no counters DB');
      // Sparse days; tenants sorting before, between and after each other; some days without 'm'.
      const keys: CounterKey[] = [];
      for (const day of [D, D + 1, D + 4, D + 5, D + 9])
        for (const tenant of ['a', 'm', 'mm', 'z'])
          if (!(tenant === 'm' && (day === D + 1 || day === D + 9)))
            for (const campaign of ['', 'c1', 'c2']) keys.push([day, tenant, 'checkout', 'ai', campaign, campaign ? 'adv' : '']);
      await s.root.transaction(() => {
        keys.forEach((k, i) => db.putSync(k, encodeValues(v({ served: i + 1 }))));
      });
      const r = CounterReader.of(s.root);
      const all = r.rows({}).rows;
      expect(all).toHaveLength(keys.length);
      for (const range of [{}, { fromDay: D + 1 }, { toDay: D + 4 }, { fromDay: D + 2, toDay: D + 8 }, { fromDay: D + 10 }]) {
        for (const tenant of ['a', 'm', 'mm', 'z', 'b', 'zz']) {
          const expected = all.filter((row) => row.tenant === tenant && row.day >= (range.fromDay ?? -Infinity) && row.day <= (range.toDay ?? Infinity));
          expect(r.rows({ ...range, tenant }).rows).toEqual(expected);
          for (const chunk of [1, 2, 5]) {
            const got: typeof expected = [];
            let after: CounterKey | undefined;
            for (let guard = 0; guard < 1000; guard++) {
              const c = r.rows({ ...range, tenant }, chunk, after);
              got.push(...c.rows);
              if (c.last === undefined) break;
              after = c.last;
            }
            expect(got).toEqual(expected);
          }
        }
      }
    } finally {
      await s.close();
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe('rendering', () => {
  it('table pads columns to their widest cell', () => {
    const cols = [
      { title: 'name', align: 'left' as const, cell: (r: [string, number]) => r[0] },
      { title: 'n', align: 'right' as const, cell: (r: [string, number]) => String(r[1]) },
    ];
    expect(table(cols, [['ab', 1], ['abcdef', 1234]])).toEqual(['name       n', '------  ----', 'ab         1', 'abcdef  1234']);
  });

  it('signed percentages and intervals', () => {
    expect(formatSignedPercent(0.5)).toBe('+50.0%');
    expect(formatSignedPercent(-0.25)).toBe('-25.0%');
    expect(formatSignedPercent(null)).toBe('-');
    expect(formatInterval([0.0152165, 1.2162761])).toBe('[+1.5%, +121.6%]');
    expect(formatInterval(null)).toBe('-');
  });

  it('text: the holdout, the arm table, the lift with intervals, the breakdowns', () => {
    const text = renderText(buildReport(reader, { tenant: 'freshmart', from: '2026-11-27', to: '2026-11-27', placement: 'checkout' }, FIXED));
    const lines = text.split('\n');
    expect(lines[0]).toBe('txrank delivery report: 2026-11-27 .. 2026-11-27 (UTC days of the decisions); tenant freshmart; placement checkout');
    expect(text).toContain('== freshmart (money in USD) ==');
    expect(text).toContain('holdout: rules served 10.0% of 1,000 decisions (ai 900, rules 100)');
    const ai = lines.find((l) => l.startsWith('ai ')) as string;
    expect(ai.split(/\s+/)).toEqual(['ai', '900', '1,500', '1,000', '60', '6', '6.00%', '10.00%', '0.600%', '24.80', '24.80', '250.00', '10.08x']);
    const ctr = lines.find((l) => l.startsWith('CTR')) as string;
    const lift = buildReport(reader, { tenant: 'freshmart', from: '2026-11-27', to: '2026-11-27', placement: 'checkout' }, FIXED).tenants[0].lift.ctr;
    expect(ctr).toContain('6.000%');
    expect(ctr).toContain('4.000%');
    expect(ctr).toContain('+50.0%');
    expect(ctr).toContain(formatInterval(lift.ci95));
    expect(text).toContain('by campaign');
    expect(lines.some((l) => /^c-tea\s+a-leaf\s+ai\s/.test(l))).toBe(true);
    expect(text).toContain('by advertiser');
    // Every line of a table has the header's width or less (fixed width, no ragged cells past it).
    const header = lines.findIndex((l) => l.startsWith('arm '));
    const width = lines[header + 1].length;
    expect(lines[header + 2].length).toBeLessThanOrEqual(width);
  });

  it('text says so when nothing matches; JSON is the report object', () => {
    const empty = buildReport(reader, { tenant: 'nobody' }, FIXED);
    expect(renderText(empty)).toContain('no data for this selection');
    const r = buildReport(reader, {}, FIXED);
    expect(JSON.parse(renderJson(r))).toEqual(r);
  });
});
