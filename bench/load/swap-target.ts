/**
 * A txrank server set up for model-swap benchmarks: learning on but exporting nothing during the run (no
 * promotion of its own gets in the way), an admin key, and two alternate model versions registered, so that
 * each pin to the other one is a new generation that every worker loads, builds its offer side for and swaps
 * in between tasks.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeAlternateModels } from './alternate-models.js';
import { post } from './server-http.js';
import type { LoadConfig } from './loadgen.js';
import { DEMO_PLACEMENT, startTxrank, type PreparedCatalog, type RunningServer } from './servers.js';

const run = promisify(execFile);

export interface SwapTarget {
  server: RunningServer;
  /** http://127.0.0.1:<port> */
  http: string;
  admin: Record<string, string>;
  /** The two versions to alternate between. */
  versions: readonly string[];
  /** POST /admin/models/pin (no version: pin what serves now). */
  pin(version?: string): Promise<{ status: number; text: string }>;
}

export async function startSwapTarget(cat: PreparedCatalog, tag: string): Promise<SwapTarget> {
  const { stdout } = await run(process.execPath, ['dist/src/cli/keys.js', 'mint', '--admin', '--data', cat.dataDir]);
  const adminKey = stdout.trim().split('\n').pop() ?? '';
  const server = await startTxrank(cat, ['--learning', 'true', '--export-every-seconds', '86400', '--export-every-examples', '100000000']);
  const http = `http://127.0.0.1:${server.port}`;
  const admin = { authorization: `Bearer ${adminKey}` };
  const pin = (version?: string) => post(`${http}/admin/models/pin`, admin, version === undefined ? {} : { version });
  try {
    // Registered by dropping them into the registry directory; the manager lists a directory once it has
    // stayed unchanged for its settle time. Pin first: nothing is promoted automatically then.
    const versions = await writeAlternateModels(cat.dataDir, [101, 102], tag);
    const first = await pin();
    if (first.status !== 200) throw new Error(`pin: HTTP ${first.status} ${first.text}`);
    for (let i = 0; ; i++) {
      const reg = (await (await fetch(`${http}/admin/models`, { headers: admin })).json()) as { entries: { version: string }[] };
      if (versions.every((v) => reg.entries.some((e) => e.version === v))) break;
      if (i > 150) throw new Error('the registry did not list the two versions');
      await new Promise((r) => setTimeout(r, 200));
    }
    return { server, http, admin, versions, pin };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** The decision load every swap benchmark sends: open loop, 16 connections, 64 in flight each, top 3, msgpack. */
export function swapLoad(cat: PreparedCatalog, url: string, rate: number, durationMs: number, warmupMs: number): LoadConfig {
  return {
    url,
    key: cat.key,
    tenant: cat.tenant,
    placement: DEMO_PLACEMENT,
    k: 3,
    format: 'msgpack',
    mode: 'open',
    connections: 16,
    depth: 64,
    rate,
    durationMs,
    warmupMs,
    drainMs: 3000,
  };
}
