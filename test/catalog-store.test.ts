import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asBinary, type Binary, type Database } from 'lmdb';
import { Packr } from 'msgpackr';
import { parseCatalogJsonl } from '../src/catalog/jsonl.js';
import {
  BODY_PACKR_OPTIONS,
  loadCatalogFile,
  loadCatalogText,
  openStorage,
  STORAGE_LAYOUT,
  validateStorageOptions,
  type CatalogVersionInfo,
  type Storage,
} from '../src/catalog/store.js';
import { TxrankError } from '../src/errors/codes.js';
import type { CatalogSnapshot } from '../src/catalog/types.js';

/** A valid catalog whose every offer title carries `tag`, so a reader can tell which load it came from. */
function catalogText(tag: string, offers: number, tenants = 2): string {
  const lines: string[] = [];
  for (let t = 0; t < tenants; t++) {
    lines.push(JSON.stringify({ kind: 'tenant', id: `t${t}`, name: `Tenant ${t}`, currency: 'USD', placements: [{ id: 'checkout', name: 'Checkout', slots: 3 }] }));
  }
  for (let i = 0; i < offers; i++) {
    lines.push(
      JSON.stringify({
        kind: 'offer',
        id: `o${i}`,
        tenant: `t${i % tenants}`,
        advertiser: `adv${i % 7}`,
        // One tenant and one advertiser per campaign id, as the loader requires of an implied campaign.
        campaign: `t${i % tenants}-adv${i % 7}`,
        category: 'beverages/coffee/ground',
        title: `[${tag}] offer ${i}`,
        creative: { headline: `h${i}`, tag },
        bid: { type: 'cpc', amount: 0.5 + (i % 10) / 10 },
        price: 3.99,
        status: 'active',
        start: '2025-01-01',
        end: '2030-01-01',
      }),
    );
  }
  return lines.join('\n') + '\n';
}

/** True when every offer of the snapshot came from one load and the header agrees with the body. */
function wholeSnapshot(s: CatalogSnapshot, info: CatalogVersionInfo | undefined): boolean {
  if (s.offers.length === 0) return info?.offers === 0;
  const tag = /^\[(.*)\]/.exec(s.offers[0].title)?.[1];
  return (
    s.offers.every((o) => o.title.startsWith(`[${tag}]`) && o.creative.tag === tag) &&
    (info === undefined || (info.offers === s.offers.length && info.tenants === s.tenants.length && info.sha256 === s.sha256))
  );
}

let dir: string;
let storage: Storage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'txrank-catalog-'));
  storage = openStorage(join(dir, 'env'));
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('catalog store', () => {
  it('is empty before the first load', () => {
    expect(storage.catalog.currentVersion()).toBeNull();
    expect(storage.catalog.readCurrent()).toBeNull();
    expect(storage.catalog.read(1)).toBeNull();
    expect(storage.catalog.list()).toEqual([]);
  });

  it('loads a file: sha256 of its bytes, source = path, versions 1, 2, 3', async () => {
    const file = join(dir, 'c.jsonl');
    const text = catalogText('a', 10);
    await writeFile(file, text);
    const r1 = await loadCatalogFile(storage, file);
    expect(r1).toEqual({ ok: true, version: 1 });
    const snap = storage.catalog.readCurrent();
    expect(snap?.version).toBe(1);
    expect(snap?.source).toBe(file);
    expect(snap?.sha256).toBe(createHash('sha256').update(Buffer.from(text)).digest('hex'));
    expect(snap?.offers).toHaveLength(10);
    expect(snap?.tenants.map((t) => t.id)).toEqual(['t0', 't1']);
    // Sorted by (tenant, id): a contiguous block per tenant.
    expect(snap?.offers.map((o) => o.tenant)).toEqual([...Array(5).fill('t0'), ...Array(5).fill('t1')]);

    expect(await loadCatalogText(storage, catalogText('b', 4), 'admin')).toEqual({ ok: true, version: 2 });
    expect(await loadCatalogText(storage, catalogText('c', 6), 'admin')).toEqual({ ok: true, version: 3 });
    expect(storage.catalog.currentVersion()).toBe(3);
    expect(storage.catalog.readCurrent()?.offers).toHaveLength(6);
    expect(storage.catalog.read(1)?.offers).toHaveLength(10);
    const list = storage.catalog.list();
    expect(list.map((v) => [v.version, v.offers, v.tenants, v.campaigns, v.rules, v.source])).toEqual([
      [1, 10, 2, 10, 0, file],
      [2, 4, 2, 4, 0, 'admin'],
      [3, 6, 2, 6, 0, 'admin'],
    ]);
  });

  it('round-trips free-form creatives with many distinct shapes as plain objects', async () => {
    const lines = catalogText('c', 0).trim().split('\n');
    for (let i = 0; i < 300; i++) {
      const creative: Record<string, unknown> = { headline: 'h', tag: 'c', [`extra_${i}`]: { nested: [i, 'x', null, true] } };
      lines.push(
        JSON.stringify({
          kind: 'offer', id: `o${i}`, tenant: 't0', advertiser: 'a', campaign: 'c', category: 'snacks/chips',
          title: `[c] ${i}`, creative, bid: { type: 'cpa', amount: 12.5 }, status: 'paused', start: 1_735_689_600_000, end: '2030-01-01',
        }),
      );
    }
    expect(await loadCatalogText(storage, lines.join('\n'), 'admin')).toEqual({ ok: true, version: 1 });
    const snap = storage.catalog.readCurrent();
    const o = snap?.offers.find((x) => x.id === 'o123');
    expect(o?.creative).toEqual({ headline: 'h', tag: 'c', extra_123: { nested: [123, 'x', null, true] } });
    expect(Object.getPrototypeOf(o?.creative)).toBe(Object.prototype);
    expect(o?.start).toBe(1_735_689_600_000);
    expect('price' in (o ?? {})).toBe(false);
  });

  it('an invalid catalog writes nothing', async () => {
    await loadCatalogText(storage, catalogText('good', 5), 'admin');
    const before = storage.catalog.list();
    const bad = catalogText('bad', 5).replace('"amount":0.5', '"amount":-1');
    const r = await loadCatalogText(storage, bad, 'admin');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatchObject({ field: 'bid.amount' });
    expect(storage.catalog.currentVersion()).toBe(1);
    expect(storage.catalog.list()).toEqual(before);
    // The next valid load is version 2: a refused load does not consume a number.
    expect(await loadCatalogText(storage, catalogText('next', 1), 'admin')).toEqual({ ok: true, version: 2 });
  });

  it('reports an unreadable file as an issue, not an exception', async () => {
    const r = await loadCatalogFile(storage, join(dir, 'missing.jsonl'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0].message).toMatch(/cannot read/);
    expect(storage.catalog.currentVersion()).toBeNull();
  });

  it('retains the last retainVersions versions and deletes older ones in the same load', async () => {
    for (let i = 1; i <= 5; i++) await loadCatalogText(storage, catalogText(`v${i}`, i), 'admin');
    expect(storage.catalog.list().map((v) => v.version)).toEqual([3, 4, 5]);
    expect(storage.catalog.read(2)).toBeNull();
    expect(storage.catalog.read(3)?.offers).toHaveLength(3);
    // The bodies go with the headers: nothing is left behind under a deleted version.
    const bodies = storage.root.openDB<Buffer, number>(STORAGE_LAYOUT.dbs.bodies, { encoding: 'binary' });
    expect([...bodies.getKeys()]).toEqual([3, 4, 5]);
  });

  it('keeps numbering monotonically across reopen and with retainVersions = 1', async () => {
    await storage.close();
    storage = openStorage(join(dir, 'env'), { retainVersions: 1 });
    for (let i = 1; i <= 3; i++) await loadCatalogText(storage, catalogText(`v${i}`, 2), 'admin');
    await storage.close();
    storage = openStorage(join(dir, 'env'), { retainVersions: 1 });
    expect(storage.catalog.list().map((v) => v.version)).toEqual([3]);
    expect(await loadCatalogText(storage, catalogText('v4', 2), 'admin')).toEqual({ ok: true, version: 4 });
    expect(storage.catalog.list().map((v) => v.version)).toEqual([4]);
  });

  it('a reader holding a snapshot of version v sees all of v, even after later loads delete it', async () => {
    await loadCatalogText(storage, catalogText('v1', 50), 'admin');
    const index = storage.root.openDB<CatalogVersionInfo, number>(STORAGE_LAYOUT.dbs.index, {});
    const bodies: Database<Buffer, number> = storage.root.openDB<Buffer, number>(STORAGE_LAYOUT.dbs.bodies, { encoding: 'binary' });
    storage.root.resetReadTxn();
    const txn = storage.root.useReadTransaction();
    try {
      const held = bodies.get(1, { transaction: txn });
      for (let i = 2; i <= 5; i++) await loadCatalogText(storage, catalogText(`v${i}`, 10), 'admin');
      expect(storage.catalog.read(1)).toBeNull(); // retired for fresh readers
      // ...but the held snapshot still has version 1's header and body, byte for byte.
      expect(index.get(1, { transaction: txn })?.offers).toBe(50);
      expect(bodies.get(1, { transaction: txn })?.equals(held ?? Buffer.alloc(0))).toBe(true);
      expect(bodies.get(5, { transaction: txn })).toBeUndefined();
    } finally {
      txn.done();
    }
  });

  it('readers interleaved with loads only ever see whole catalogs', async () => {
    await loadCatalogText(storage, catalogText('v1', 300), 'admin');
    let stop = false;
    let reads = 0;
    const seen = new Set<number>();
    const reader = (async () => {
      while (!stop) {
        const s = storage.catalog.readCurrent();
        if (s === null) throw new Error('catalog vanished');
        const info = storage.catalog.list().find((v) => v.version === s.version);
        if (!wholeSnapshot(s, info)) throw new Error(`torn read of version ${s.version}`);
        seen.add(s.version);
        reads++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 2; i <= 8; i++) await loadCatalogText(storage, catalogText(`v${i}`, 100 + i * 37), 'admin');
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(seen.size).toBeGreaterThanOrEqual(2);
  });

  it('a read-only storage in the same process sees loads and refuses writes', async () => {
    const ro = openStorage(join(dir, 'env'), { readOnly: true });
    try {
      expect(ro.catalog.currentVersion()).toBeNull();
      await loadCatalogText(storage, catalogText('x', 3), 'admin');
      expect(ro.catalog.currentVersion()).toBe(1);
      expect(ro.catalog.readCurrent()?.offers).toHaveLength(3);
      await expect(ro.catalog.load({ tenants: [], offers: [], campaigns: [], rules: [], source: 's', sha256: 'h' })).rejects.toThrow(/read-only/);
      await expect(ro.keys.mint('admin', null, 'x')).rejects.toThrow(/read-only/);
    } finally {
      await ro.close();
    }
    // Closing the read-only handle leaves the writer's handle working.
    expect(storage.catalog.currentVersion()).toBe(1);
    expect(await loadCatalogText(storage, catalogText('y', 1), 'admin')).toEqual({ ok: true, version: 2 });
  });

  it('a read-only open of a path the writer never initialised fails with not_ready', () => {
    let err: unknown;
    try {
      openStorage(join(dir, 'nothing-here'), { readOnly: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TxrankError);
    expect((err as TxrankError).code).toBe('not_ready');
  });

  it('close() is idempotent and memoised', async () => {
    const a = storage.close();
    const b = storage.close();
    expect(a).toBe(b);
    await a;
    expect(() => storage.catalog.currentVersion()).toThrow(/closed/);
  });
});

describe('storage options', () => {
  it('defaults', () => {
    expect(validateStorageOptions()).toEqual({ readOnly: false, mapSizeBytes: undefined, retainVersions: 3 });
  });
  it('readOnly must be a boolean', () => {
    expect(() => validateStorageOptions({ readOnly: 'yes' as unknown as boolean })).toThrow(/readOnly/);
  });
  it('mapSizeBytes must be an integer of at least 1 MiB', () => {
    expect(() => validateStorageOptions({ mapSizeBytes: 1000 })).toThrow(/mapSizeBytes/);
    expect(validateStorageOptions({ mapSizeBytes: 1 << 30 }).mapSizeBytes).toBe(1 << 30);
  });
  it('retainVersions must be an integer in 1..1000', () => {
    expect(() => validateStorageOptions({ retainVersions: 0 })).toThrow(/retainVersions/);
    expect(() => validateStorageOptions({ retainVersions: 1.5 })).toThrow(/retainVersions/);
  });
});

/** A catalog with every delivery feature: placement settings, campaign records, an implied campaign, rules. */
const DELIVERY_CATALOG = [
  JSON.stringify({
    kind: 'tenant', id: 'fm', name: 'FreshMart', currency: 'USD', blocked_categories: ['alcohol'],
    placements: [
      { id: 'checkout', name: 'Checkout', slots: 3, floor_cpm: 0.5, holdout: 0.1, exploration: { epsilon: 0.05 }, blocked_advertisers: ['x'] },
      { id: 'confirm', name: 'Confirmation', slots: 5, category_exclusivity: true, pricing: 'first' },
    ],
  }),
  JSON.stringify({
    kind: 'campaign', id: 'acme-1', tenant: 'fm', advertiser: 'acme', name: 'Acme', status: 'active', start: '2025-01-01', end: '2030-01-01',
    budget: { total: 1000, daily: 50 }, bid: { type: 'cpc', amount: 0.9 }, frequency_caps: [{ scope: 'campaign', max: 3, window: '1d' }],
    targeting: { placements: ['checkout'], basket_departments_any: ['dairy_eggs'], hours: [8, 9] },
  }),
  JSON.stringify({
    kind: 'campaign', id: 'idle', tenant: 'fm', advertiser: 'zeta', name: 'No offers yet', status: 'paused', start: '2025-01-01', end: '2030-01-01', budget: {},
  }),
  JSON.stringify({ kind: 'rule', id: 'dairy', tenant: 'fm', when_departments: ['dairy_eggs'], offer_categories: ['bakery', 'produce'] }),
  ...['a', 'b'].map((id) =>
    JSON.stringify({
      kind: 'offer', id, tenant: 'fm', advertiser: 'acme', campaign: 'acme-1', category: 'bakery/bread', title: id, creative: {},
      status: 'active', start: '2025-01-01', end: '2030-01-01',
    }),
  ),
  JSON.stringify({
    kind: 'offer', id: 'c', tenant: 'fm', advertiser: 'bolt', campaign: 'bolt-old', category: 'snacks', title: 'c', creative: {},
    bid: { type: 'cpm', amount: 3 }, status: 'active', start: '2025-01-01', end: '2030-01-01',
  }),
].join('\n');

describe('campaigns and rules in the store', () => {
  it('round-trips tenants with their settings, campaigns and rules; readDelivery reads them without the offers', async () => {
    const parsed = parseCatalogJsonl(DELIVERY_CATALOG);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    expect(parsed.campaigns.map((c) => c.id)).toEqual(['acme-1', 'bolt-old', 'idle']);
    const r = await loadCatalogText(storage, DELIVERY_CATALOG, 'admin');
    expect(r).toEqual({ ok: true, version: 1 });

    const snap = storage.catalog.readCurrent();
    expect(snap?.tenants).toEqual(parsed.tenants);
    expect(snap?.campaigns).toEqual(parsed.campaigns);
    expect(snap?.rules).toEqual(parsed.rules);
    expect(snap?.offers.map((o) => [o.id, o.bid])).toEqual([
      ['a', { type: 'cpc', amount: 0.9 }],
      ['b', { type: 'cpc', amount: 0.9 }],
      ['c', { type: 'cpm', amount: 3 }],
    ]);

    const delivery = storage.catalog.readDelivery(1);
    expect(delivery).toEqual({ campaigns: parsed.campaigns, rules: parsed.rules });
    expect(delivery?.campaigns[0]).toMatchObject({ budget: { total: 1000, daily: 50 }, pacing: 'even', frequencyCaps: [{ windowMs: 86_400_000 }] });
    expect(storage.catalog.readTenants(1)?.[0].placements[0]).toMatchObject({ floorCpm: 0.5, holdout: 0.1, exploration: { epsilon: 0.05, pool: 10 } });
    expect(storage.catalog.list()[0]).toMatchObject({ offers: 3, tenants: 1, campaigns: 3, rules: 1 });

    // A read-only handle (what a worker or another thread opens) reads the same.
    const ro = openStorage(join(dir, 'env'), { readOnly: true });
    try {
      expect(ro.catalog.readDelivery(1)).toEqual(delivery);
    } finally {
      await ro.close();
    }
    expect(storage.catalog.readDelivery(2)).toBeNull();
    for (let i = 0; i < 3; i++) await loadCatalogText(storage, catalogText(`v${i}`, 2), 'admin');
    expect(storage.catalog.readDelivery(1)).toBeNull(); // retired with its version
    expect(storage.catalog.readDelivery(4)?.campaigns.map((c) => c.id)).toEqual(['t0-adv0', 't1-adv1']);
  });

  it('reads versions written before campaigns existed: no campaigns or rules in the index, implied ones in the body', async () => {
    // Exactly what the previous store wrote: an index entry without campaign fields, a body of {tenants, offers},
    // tenants whose placements have only id, name and slots.
    const tenants = [{ id: 't', name: 'T', currency: 'USD', placements: [{ id: 'checkout', name: 'Checkout', slots: 3 }] }];
    const offer = {
      id: 'o1', tenant: 't', advertiser: 'a', campaign: 'c', category: 'snacks', title: 'x', creative: {},
      bid: { type: 'cpc', amount: 1 }, status: 'active', start: 1_735_689_600_000, end: 1_893_456_000_000,
    };
    const index = storage.root.openDB<Record<string, unknown>, number>(STORAGE_LAYOUT.dbs.index, {});
    const bodies = storage.root.openDB<Buffer | Binary, number>(STORAGE_LAYOUT.dbs.bodies, { encoding: 'binary' });
    const state = storage.root.openDB<Buffer | Binary, string>(STORAGE_LAYOUT.dbs.state, { encoding: 'binary' });
    const pointer = Buffer.alloc(4);
    pointer.writeUInt32LE(1, 0);
    await storage.root.transaction(() => {
      index.putSync(1, { tenantRecords: tenants, version: 1, loadedAt: 1, source: 'old', sha256: 'h', offers: 1, tenants: 1 });
      bodies.putSync(1, asBinary(new Packr(BODY_PACKR_OPTIONS).pack({ tenants, offers: [offer] })));
      state.putSync(STORAGE_LAYOUT.currentKey, asBinary(pointer));
    });

    expect(storage.catalog.readDelivery(1)).toEqual({ campaigns: [], rules: [] });
    expect(storage.catalog.list()).toEqual([{ version: 1, loadedAt: 1, source: 'old', sha256: 'h', offers: 1, tenants: 1, campaigns: 0, rules: 0 }]);
    const placement = storage.catalog.readTenants(1)?.[0].placements[0];
    expect(placement).toMatchObject({ floorCpm: 0, minRelevance: 0, pricing: 'gsp', holdout: 0, blockedCategories: [] });
    const snap = storage.catalog.readCurrent();
    expect(snap?.rules).toEqual([]);
    expect(snap?.tenants[0].blockedAdvertisers).toEqual([]);
    expect(snap?.campaigns).toEqual([
      expect.objectContaining({ id: 'c', tenant: 't', advertiser: 'a', status: 'active', budget: {}, start: offer.start, end: offer.end }),
    ]);
    // The next load numbers after it and carries its own campaigns.
    expect(await loadCatalogText(storage, DELIVERY_CATALOG, 'admin')).toEqual({ ok: true, version: 2 });
    expect(storage.catalog.readDelivery(2)?.rules).toHaveLength(1);
  });
});
