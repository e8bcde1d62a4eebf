import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../src/catalog/store.js';
import { DEV_KEY_LABEL, hashKey, mintDevelopmentKeys } from '../src/tenants/keys.js';

let dir: string;
let storage: Storage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'txrank-keys-'));
  storage = openStorage(join(dir, 'env'));
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every byte LMDB wrote for this environment (data and lock files). */
async function envBytes(): Promise<Buffer> {
  const files = await readdir(join(dir, 'env'));
  return Buffer.concat(await Promise.all(files.map((f) => readFile(join(dir, 'env', f)))));
}

describe('key store', () => {
  it('mints txr_ + 32 random bytes base64url, and verifies it', async () => {
    const key = await storage.keys.mint('tenant', 'freshmart', 'pos-1');
    expect(key).toMatch(/^txr_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.slice(4), 'base64url')).toHaveLength(32);
    const rec = storage.keys.verify(key);
    expect(rec).toMatchObject({ tenant: 'freshmart', role: 'tenant', label: 'pos-1' });
    expect(typeof rec?.createdAt).toBe('number');
    const admin = await storage.keys.mint('admin', null, 'ops');
    expect(storage.keys.verify(admin)).toMatchObject({ tenant: null, role: 'admin' });
  });

  it('rejects unknown, malformed and near-miss keys', async () => {
    const key = await storage.keys.mint('tenant', 't', 'x');
    expect(storage.keys.verify('')).toBeNull();
    expect(storage.keys.verify('txr_short')).toBeNull();
    expect(storage.keys.verify(key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A'))).toBeNull();
    expect(storage.keys.verify(key + ' ')).toBeNull();
    expect(storage.keys.verify(hashKey(key))).toBeNull();
  });

  it('stores only the sha256: the plaintext bytes appear nowhere in the LMDB files', async () => {
    const keys = [await storage.keys.mint('tenant', 'freshmart', 'a'), await storage.keys.mint('admin', null, 'b')];
    await storage.root.flushed;
    await storage.close();
    const bytes = await envBytes();
    for (const key of keys) {
      expect(bytes.includes(Buffer.from(key))).toBe(false);
      expect(bytes.includes(Buffer.from(key.slice(4)))).toBe(false);
      // The search itself works: the hash is there.
      expect(bytes.includes(Buffer.from(hashKey(key)))).toBe(true);
    }
    storage = openStorage(join(dir, 'env'));
    expect(storage.keys.verify(keys[0])?.tenant).toBe('freshmart');
  });

  it('lists hashes and records, never plaintexts', async () => {
    const key = await storage.keys.mint('tenant', 'freshmart', 'pos');
    const list = storage.keys.list();
    expect(list).toEqual([{ hash: hashKey(key), tenant: 'freshmart', role: 'tenant', label: 'pos', createdAt: expect.any(Number) }]);
    expect(JSON.stringify(list)).not.toContain(key);
  });

  it('revokes by label and by hash prefix (at least 8 hex digits)', async () => {
    const a = await storage.keys.mint('tenant', 't', 'lane-1');
    const b = await storage.keys.mint('tenant', 't', 'lane-1');
    const c = await storage.keys.mint('tenant', 't', 'lane-2');
    expect(await storage.keys.revoke('lane-1')).toBe(2);
    expect(storage.keys.verify(a)).toBeNull();
    expect(storage.keys.verify(b)).toBeNull();
    expect(storage.keys.verify(c)).not.toBeNull();
    expect(await storage.keys.revoke(hashKey(c).slice(0, 7))).toBe(0); // too short to be a prefix
    expect(await storage.keys.revoke(hashKey(c).slice(0, 8))).toBe(1);
    expect(storage.keys.verify(c)).toBeNull();
    expect(await storage.keys.revoke('nothing')).toBe(0);
  });

  it('refuses inconsistent records', async () => {
    await expect(storage.keys.mint('admin', 't', 'x')).rejects.toThrow(/admin key has no tenant/);
    await expect(storage.keys.mint('tenant', null, 'x')).rejects.toThrow(/tenant id/);
    await expect(storage.keys.mint('tenant', 't', '')).rejects.toThrow(/label/);
  });

  it('development keys: each start revokes the previous dev keys and mints working ones; other keys survive', async () => {
    const kept = await storage.keys.mint('tenant', 'freshmart', 'production');
    const first = await mintDevelopmentKeys(storage.keys, ['freshmart', 'hometown']);
    expect(Object.keys(first.tenantKeys)).toEqual(['freshmart', 'hometown']);
    expect(storage.keys.verify(first.tenantKeys.freshmart)).toMatchObject({ tenant: 'freshmart', role: 'tenant', label: DEV_KEY_LABEL });
    expect(storage.keys.verify(first.adminKey)).toMatchObject({ tenant: null, role: 'admin', label: DEV_KEY_LABEL });

    const second = await storage.keys.mintDevelopmentKeys(['freshmart', 'hometown']);
    expect(storage.keys.verify(first.tenantKeys.freshmart)).toBeNull();
    expect(storage.keys.verify(first.tenantKeys.hometown)).toBeNull();
    expect(storage.keys.verify(first.adminKey)).toBeNull();
    expect(storage.keys.verify(second.tenantKeys.hometown)?.tenant).toBe('hometown');
    expect(storage.keys.verify(second.adminKey)?.role).toBe('admin');
    expect(storage.keys.verify(kept)?.label).toBe('production');
    expect(storage.keys.list().filter((k) => k.label === DEV_KEY_LABEL)).toHaveLength(3);
  });

  it('a key revoked through another handle stops verifying at once, without an event-loop turn', async () => {
    const key = await storage.keys.mint('tenant', 't', 'shared');
    const ro = openStorage(join(dir, 'env'), { readOnly: true });
    try {
      expect(ro.keys.verify(key)).not.toBeNull();
      await storage.keys.revoke('shared');
      expect(ro.keys.verify(key)).toBeNull();
    } finally {
      await ro.close();
    }
  });
});
