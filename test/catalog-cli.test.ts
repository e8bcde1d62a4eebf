import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCatalogCli, type CliIo } from '../src/cli/catalog.js';
import { runKeysCli } from '../src/cli/keys.js';
import { openStorage } from '../src/catalog/store.js';

let dir: string;
let out: string[];
let err: string[];
let io: CliIo;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'txrank-cli-'));
  out = [];
  err = [];
  // The data dir comes from the environment here, as in production; --data is exercised below.
  io = { out: (l) => out.push(l), err: (l) => err.push(l), env: { TXRANK_DATA_DIR: join(dir, 'data') } };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('catalog CLI', () => {
  it('demo --out, load, list', async () => {
    const file = join(dir, 'demo.jsonl');
    expect(await runCatalogCli(['demo', '--offers', '300', '--tenants', '2', '--seed', '9', '--out', file], io)).toBe(0);
    expect((await readFile(file, 'utf8')).split('\n').filter((l) => l.startsWith('{"kind":"offer"'))).toHaveLength(300);

    expect(await runCatalogCli(['load', file], io)).toBe(0);
    expect(out.at(-1)).toMatch(/as catalog version 1 \(300 offers, 2 tenants, \d+ campaigns, 18 rules\)/);
    expect(await runCatalogCli(['load', file], io)).toBe(0);
    expect(await runCatalogCli(['list'], io)).toBe(0);
    expect(out.slice(-2)[0]).toMatch(/^ {2}v1 /);
    expect(out.slice(-2)[1]).toMatch(/^\* v2 .*300 offers {2}2 tenants {2}\d+ campaigns {2}18 rules/);
  });

  it('demo without --out writes JSONL to stdout', async () => {
    expect(await runCatalogCli(['demo', '--offers', '5', '--tenants', '1'], io)).toBe(0);
    const records = out.join('\n').split('\n').filter((l) => l.startsWith('{'));
    expect(records.filter((l) => l.startsWith('{"kind":"offer"'))).toHaveLength(5);
    expect(records.filter((l) => l.startsWith('{"kind":"tenant"'))).toHaveLength(1);
    expect(records.filter((l) => l.startsWith('{"kind":"rule"')).length).toBeGreaterThan(0);
    expect(records.filter((l) => l.startsWith('{"kind":"campaign"')).length).toBeGreaterThan(0);
  });

  it('load of an invalid file prints every error as "line N: field: message", exits 1 and loads nothing', async () => {
    const file = join(dir, 'bad.jsonl');
    await writeFile(
      file,
      [
        '{"kind":"tenant","id":"t","name":"T","currency":"USD","placements":[{"id":"c","name":"C","slots":3}]}',
        '{"kind":"offer","id":"a","tenant":"t","advertiser":"x","campaign":"y","category":"snacks","title":"t","creative":{},"bid":{"type":"cpc","amount":0},"status":"active","start":"2025-01-01","end":"2030-01-01"}',
        '{"kind":"offer","id":"b","tenant":"t","advertiser":"x","campaign":"y","category":"snacks","title":"t","creative":{},"bid":{"type":"cpc","amount":1},"status":"live","start":"2025-01-01","end":"2030-01-01"}',
      ].join('\n'),
    );
    expect(await runCatalogCli(['load', file, '--data', join(dir, 'other')], io)).toBe(1);
    expect(err).toContain('line 2: bid.amount: expected number to be greater than 0');
    expect(err.some((l) => l.startsWith('line 3: status: must be one of'))).toBe(true);
    const storage = openStorage(join(dir, 'other'));
    try {
      expect(storage.catalog.currentVersion()).toBeNull();
    } finally {
      await storage.close();
    }
  });

  it('usage errors exit 2', async () => {
    expect(await runCatalogCli([], io)).toBe(2);
    expect(await runCatalogCli(['frobnicate'], io)).toBe(2);
    expect(await runCatalogCli(['demo', '--offers', 'many'], io)).toBe(1);
    expect(err.at(-1)).toMatch(/--offers must be an integer/);
    expect(await runCatalogCli(['load', '--nope'], io)).toBe(2);
  });
});

describe('keys CLI', () => {
  it('mint, list, revoke', async () => {
    expect(await runKeysCli(['mint', '--tenant', 'freshmart', '--label', 'lane-7'], io)).toBe(0);
    const key = out.at(-1) ?? '';
    expect(key).toMatch(/^txr_/);
    expect(await runKeysCli(['mint', '--admin'], io)).toBe(0);
    expect(await runKeysCli(['list'], io)).toBe(0);
    const listing = out.slice(-2).join('\n');
    expect(listing).toMatch(/tenant +freshmart .* lane-7/);
    expect(listing).toMatch(/admin +- .* admin/);
    expect(listing).not.toContain(key);

    const storage = openStorage(join(dir, 'data'));
    try {
      expect(storage.keys.verify(key)?.tenant).toBe('freshmart');
      expect(await runKeysCli(['revoke', 'lane-7'], io)).toBe(0);
      expect(storage.keys.verify(key)).toBeNull();
    } finally {
      await storage.close();
    }
    expect(await runKeysCli(['revoke', 'lane-7'], io)).toBe(1);
  });

  it('mint needs exactly one of --tenant and --admin', async () => {
    expect(await runKeysCli(['mint'], io)).toBe(2);
    expect(await runKeysCli(['mint', '--admin', '--tenant', 't'], io)).toBe(2);
  });
});
