/**
 * Hot swaps on a real server under continuous pipelined load: candidates dropped into the registry are
 * validated by the model manager thread and swapped into the inference workers without a failed or dropped
 * request; a NaN-producing candidate is rejected while the serving model keeps serving; rollback and pin
 * work through the admin endpoints.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipelinedLoad, startTestServer } from './helpers/harness.js';
import { eventually, fixtureModel, shippedWeights } from './helpers/learning-fixtures.js';

interface RegistryView {
  serving: string;
  generation: number;
  pinned: boolean;
  entries: { version: string; status: string; reason?: string | null }[];
}

describe('model hot swap', () => {
  it('swaps under continuous load with zero failed requests; rejects a NaN candidate; rollback and pin', async () => {
    const t = await startTestServer({ overrides: { learning: true, exportEverySeconds: 86_400, exportEveryExamples: 100_000_000 } });
    const staging = mkdtempSync(join(tmpdir(), 'txrank-staging-'));
    const registryDir = join(t.dataDir, 'models');
    const admin = { authorization: `Bearer ${t.adminKey}` };
    const registry = async () => (await (await fetch(`${t.http}/admin/models`, { headers: admin })).json()) as RegistryView;
    try {
      const c = await t.connect();
      // 32 requests in flight at all times until stopped.
      const load = pipelinedLoad(c, 32);
      const answers = load.answers;

      const base = await shippedWeights();
      const initial = (await registry()).serving;
      const good1 = await fixtureModel(base, 'good', 1, registryDir, staging);
      await eventually(async () => ((await registry()).serving === good1 ? true : undefined), 30_000, 'promotion of good1');
      await eventually(() => (answers.some((a) => a.type === 'decision' && a.model_version === good1) ? true : undefined), 20_000, 'decisions by good1');

      const nan = await fixtureModel(base, 'nan', 2, registryDir, staging);
      const rejected = await eventually(async () => (await registry()).entries.find((e) => e.version === nan && e.status === 'rejected'), 30_000, 'rejection');
      expect(rejected.reason).toMatch(/finite|nan|canary/i);
      expect((await registry()).serving).toBe(good1);

      const good2 = await fixtureModel(base, 'good', 3, registryDir, staging);
      await eventually(async () => ((await registry()).serving === good2 ? true : undefined), 30_000, 'promotion of good2');
      await eventually(() => (answers.some((a) => a.type === 'decision' && a.model_version === good2) ? true : undefined), 20_000, 'decisions by good2');

      // Rollback: back to good1, by the admin endpoint.
      const rolled = await fetch(`${t.http}/admin/models/rollback`, { method: 'POST', headers: admin, body: '{}' });
      expect(rolled.status).toBe(200);
      await eventually(() => (answers.slice(-50).every((a) => a.type === 'decision' && a.model_version === good1) ? true : undefined), 20_000, 'decisions after rollback');

      // Pin freezes serving: a new good candidate is not promoted while pinned.
      expect((await fetch(`${t.http}/admin/models/pin`, { method: 'POST', headers: admin, body: '{}' })).status).toBe(200);
      const good3 = await fixtureModel(base, 'good', 4, registryDir, staging);
      await new Promise((r) => setTimeout(r, 2500));
      const pinned = await registry();
      expect(pinned.pinned).toBe(true);
      expect(pinned.serving).toBe(good1);
      expect((await fetch(`${t.http}/admin/models/unpin`, { method: 'POST', headers: admin, body: '' })).status).toBe(200);
      await eventually(async () => ((await registry()).serving === good3 ? true : undefined), 30_000, 'promotion after unpin');

      await load.stop();
      // Zero failed or dropped requests through every swap.
      const failures = answers.filter((a) => a.type !== 'decision');
      expect(failures).toEqual([]);
      expect(answers.length).toBeGreaterThan(500);
      const versions = new Set(answers.map((a) => (a.type === 'decision' ? a.model_version : '')));
      expect(versions.has(initial)).toBe(true);
      expect(versions.has(good1)).toBe(true);
      expect(versions.has(good2)).toBe(true);
      expect(versions.has(nan)).toBe(false);
      await c.close();
    } finally {
      await t.close();
      rmSync(staging, { recursive: true, force: true });
    }
  }, 180_000);
});
