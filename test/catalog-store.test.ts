import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from 'lmdb';
import { loadCatalogFile, loadCatalogText, openStorage, STORAGE_LAYOUT, validateStorageOptions, type CatalogVersionInfo, type Storage } from '../src/catalog/store.js';
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
        campaign: `cmp${i % 13}`,
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
    expect(list.map((v) => [v.version, v.offers, v.tenants, v.source])).toEqual([
      [1, 10, 2, file],
      [2, 4, 2, 'admin'],
      [3, 6, 2, 'admin'],
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
      await expect(ro.catalog.load({ tenants: [], offers: [], source: 's', sha256: 'h' })).rejects.toThrow(/read-only/);
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
