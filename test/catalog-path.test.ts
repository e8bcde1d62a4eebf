import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage } from '../src/catalog/store.js';

describe('data dir', () => {
  it('is a directory even when its name has an extension (data.prod, mktemp names)', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'txrank-'));
    const dir = join(parent, 'data.prod');
    try {
      const s = openStorage(dir);
      await s.close();
      expect(statSync(dir).isDirectory()).toBe(true);
      expect(statSync(join(dir, 'data.mdb')).isFile()).toBe(true);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
