/**
 * The report CLI: spawned on the compiled file (build first: `npx tsc -p .`) against a temp data dir that
 * this process keeps open read-write, as a running server would; usage cases run in-process.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoCatalog } from '../src/catalog/demo.js';
import { loadCatalogText, openStorage, type Storage } from '../src/catalog/store.js';
import { runReportCli } from '../src/cli/report.js';
import type { CliIo } from '../src/cli/cli.js';
import type { Billing } from '../src/delivery/types.js';
import { TXN_DIM } from '../src/features/spec.js';
import type { DecisionHead, DecisionRecord } from '../src/events/types.js';
import { ReportCounters } from '../src/reporting/counters.js';
import type { Report } from '../src/reporting/report.js';

const run = promisify(execFile);
const CLI = 'dist/src/cli/report.js';
const T0 = Date.UTC(2026, 10, 27, 12);
const coffee: Billing = { campaign: 'c-coffee', advertiser: 'a-roast', bidType: 'cpc', price: 0.5 };

let dir: string;
let storage: Storage;
let counters: ReportCounters;

function decision(id: string, policy: string): DecisionRecord {
  return {
    decisionId: id,
    tenant: 'freshmart',
    placement: 'checkout',
    decidedAt: T0,
    txnFeatures: new Float32Array(TXN_DIM),
    modelVersion: 'tt-1',
    catalogVersion: 1,
    policy,
    shown: [{ offerId: 'o1', position: 1, p: 0.1, propensity: 1, billing: coffee }],
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'txrank-report-cli-'));
  storage = openStorage(dir);
  const loaded = await loadCatalogText(storage, generateDemoCatalog({ offers: 50, seed: 3, tenants: 2 }), 'test');
  if (!loaded.ok) throw new Error('demo catalog invalid');
  counters = new ReportCounters(storage.root);
  for (let i = 0; i < 9; i++) counters.recordDecision(decision(`a${i}`, 'ai'));
  counters.recordDecision(decision('r0', 'rules'));
  const head = (policy: string): DecisionHead => ({ tenant: 'freshmart', placement: 'checkout', decidedAt: T0, policy, offerIds: ['o1'], billing: [coffee] });
  await storage.root.childTransaction(() => {
    for (let i = 0; i < 9; i++) counters.accepted({ tenant: 'freshmart', eventId: `i${i}`, decisionId: `a${i}`, offerId: 'o1', kind: 'impression', ts: T0 }, head('ai'), 0, true);
    counters.accepted({ tenant: 'freshmart', eventId: 'c0', decisionId: 'a0', offerId: 'o1', kind: 'click', ts: T0 }, head('ai'), 0, true);
    counters.accepted({ tenant: 'freshmart', eventId: 'i', decisionId: 'r0', offerId: 'o1', kind: 'impression', ts: T0 }, head('rules'), 0, true);
  });
  counters.committed();
  await counters.flush();
});

afterAll(async () => {
  await counters.close();
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('report CLI (spawned on dist)', () => {
  it('--json prints the report, read-only beside a writer that holds the environment open', async () => {
    const { stdout } = await run(process.execPath, [CLI, '--data-dir', dir, '--tenant', 'freshmart', '--from', '2026-11-27', '--to', '2026-11-27', '--json']);
    const report = JSON.parse(stdout) as Report;
    expect(report).toMatchObject({ from: '2026-11-27', to: '2026-11-27', tenant: 'freshmart' });
    const [t] = report.tenants;
    expect(t).toMatchObject({ tenant: 'freshmart', currency: 'USD', holdout: { ai: 9, rules: 1, rulesShare: 0.1 } });
    expect(t.arms.map((a) => [a.arm, a.decisions, a.served, a.impressions, a.clicks, a.spend])).toEqual([
      ['ai', 9, 9, 9, 1, 0.5],
      ['rules', 1, 1, 1, 0, 0],
    ]);
  });

  it('prints the tables by default; a range with no data says so', async () => {
    const { stdout } = await run(process.execPath, [CLI, '--data-dir', dir]);
    expect(stdout).toContain('holdout: rules served 10.0% of 10 decisions (ai 9, rules 1)');
    expect(stdout).toMatch(/^c-coffee\s+a-roast\s+ai\s+9\s+9\s+1\s/m);
    const empty = await run(process.execPath, [CLI, '--data-dir', dir, '--from', '2030-01-01']);
    expect(empty.stdout).toContain('no data for this selection');
  });

  it('a bad date exits 2 with the usage; a missing data dir exits 1', async () => {
    await expect(run(process.execPath, [CLI, '--data-dir', dir, '--from', '2026-02-30'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('report: from must be a date YYYY-MM-DD'),
    });
    await expect(run(process.execPath, [CLI, '--data-dir', join(dir, 'nope')])).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('no txrank storage') });
  });
});

describe('report CLI (in-process)', () => {
  function io(): CliIo & { lines: string[]; errors: string[] } {
    const lines: string[] = [];
    const errors: string[] = [];
    return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), env: { TXRANK_DATA_DIR: dir } };
  }

  it('--help and help print the usage and exit 0; unknown flags and arguments exit 2', async () => {
    for (const argv of [['--help'], ['help']]) {
      const o = io();
      expect(await runReportCli(argv, o)).toBe(0);
      expect(o.lines.join('\n')).toContain('usage:');
    }
    const flag = io();
    expect(await runReportCli(['--tenantt', 'x'], flag)).toBe(2);
    const extra = io();
    expect(await runReportCli(['everything'], extra)).toBe(2);
    expect(extra.errors.join('\n')).toContain('unexpected argument "everything"');
    const both = io();
    expect(await runReportCli(['--data', dir, '--data-dir', dir], both)).toBe(2);
  });

  it('takes the data dir from $TXRANK_DATA_DIR (or --data, as the other CLIs)', async () => {
    const fromEnv = io();
    expect(await runReportCli(['--json'], fromEnv)).toBe(0);
    expect((JSON.parse(fromEnv.lines.join('\n')) as Report).tenants.map((t) => t.tenant)).toEqual(['freshmart']);
    const fromFlag = io();
    expect(await runReportCli(['--data', dir, '--placement', 'confirmation', '--json'], fromFlag)).toBe(0);
    expect((JSON.parse(fromFlag.lines.join('\n')) as Report).tenants).toEqual([]);
  });
});
