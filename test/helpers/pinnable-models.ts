/**
 * Two more model versions in a running test server's registry, ready to pin: written beside the serving one
 * (bench/load/alternate-models.ts), the server pinned first so the manager promotes neither on its own, and
 * returned once /admin/models lists both. Tests that swap models by operator pin start here.
 */
import { expect } from 'vitest';
import { writeAlternateModels } from '../../bench/load/alternate-models.js';
import type { TestServer } from './harness.js';
import { eventually } from './learning-fixtures.js';

export interface PinnableModels {
  versions: string[];
  /** Headers of an admin request with a JSON body. */
  admin: Record<string, string>;
}

export async function pinnableModels(t: TestServer, seeds: readonly number[], tag: string): Promise<PinnableModels> {
  const admin = { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' };
  const versions = await writeAlternateModels(t.dataDir, seeds, tag);
  expect((await fetch(`${t.http}/admin/models/pin`, { method: 'POST', headers: admin, body: '{}' })).status).toBe(200);
  await eventually(
    async () => {
      const reg = (await (await fetch(`${t.http}/admin/models`, { headers: admin })).json()) as { entries: { version: string }[] };
      return versions.every((v) => reg.entries.some((e) => e.version === v)) ? true : undefined;
    },
    30_000,
    'the registry to list the new versions',
  );
  return { versions, admin };
}
