/**
 * Starting and stopping the servers under test, each in its own process, on 127.0.0.1 only:
 *   - txrank: dist/src/cli/serve.js over a temp LMDB data dir loaded with the demo catalog (catalog CLI) and a
 *     tenant key minted by the keys CLI;
 *   - the naive baseline: dist/bench/baselines/naive-server.js over the same catalog file and key.
 * A server is ready when GET /readyz answers 200; it is stopped with SIGTERM (SIGKILL after a grace period).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { activeAllocator, planAllocator, type ActiveAllocator } from '../../src/runtime/allocator.js';

const run = promisify(execFile);

/** The demo generator's first retailer: what `catalog demo --tenants 1` produces. */
export const DEMO_TENANT = 'freshmart';
export const DEMO_PLACEMENT = 'checkout';

export interface PreparedCatalog {
  root: string;
  dataDir: string;
  catalogFile: string;
  key: string;
  tenant: string;
  offers: number;
}

export async function prepareCatalog(offers: number, seed = 1): Promise<PreparedCatalog> {
  const root = await mkdtemp(path.join(os.tmpdir(), `txrank-bench-${offers}-`));
  const dataDir = path.join(root, 'data');
  const catalogFile = path.join(root, 'catalog.jsonl');
  await run(process.execPath, ['dist/src/cli/catalog.js', 'demo', '--offers', String(offers), '--tenants', '1', '--seed', String(seed), '--out', catalogFile]);
  await run(process.execPath, ['dist/src/cli/catalog.js', 'load', catalogFile, '--data', dataDir]);
  const { stdout } = await run(process.execPath, ['dist/src/cli/keys.js', 'mint', '--tenant', DEMO_TENANT, '--data', dataDir]);
  const key = stdout.trim().split('\n').pop() ?? '';
  if (!key) throw new Error('keys mint printed no key');
  return { root, dataDir, catalogFile, key, tenant: DEMO_TENANT, offers };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function getStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(1000, () => {
      req.destroy();
      resolve(0);
    });
  });
}

export interface RunningServer {
  name: string;
  pid: number;
  port: number;
  url: string;
  /** The malloc it runs on, read from its memory map (for reports). */
  allocator: ActiveAllocator;
  stop(): Promise<void>;
  /** Last lines of its output, for error reports. */
  log(): string;
}

/** Servers started and not yet exited: stopped if the benchmark itself is interrupted (below). */
const live = new Set<ChildProcess>();
let signalsHooked = false;

/**
 * A benchmark stopped with Ctrl-C or SIGTERM would otherwise leave its servers running (they are not in its
 * process group's foreground when run from a script, and nothing else stops them): they keep their ports and
 * CPU, and spoil the next run's numbers. The load generators need nothing: they exit when their IPC channel
 * closes (loadgen-process.ts).
 */
function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of live) child.kill('SIGTERM');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

async function startProcess(name: string, args: string[], port: number, readyTimeoutMs: number): Promise<RunningServer> {
  // BENCH_SERVER_NODE_ARGS: extra node flags for the server under test (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"),
  // which NODE_OPTIONS does not accept.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a);
  // The server runs on the malloc `npm start` gives it (src/cli/serve.sh): TXRANK_ALLOCATOR=system or a library
  // path measures another, for the server only; the load generator stays on the system's.
  const env = { ...process.env, ...planAllocator(process.env).env };
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const lines: string[] = [];
  // BENCH_SERVER_LOG: also append the server's whole output to this file (e.g. with --trace-gc above).
  const logFile = process.env.BENCH_SERVER_LOG;
  const keep = (b: Buffer): void => {
    if (logFile) appendFileSync(logFile, b);
    lines.push(...b.toString().split('\n').filter((l) => l));
    if (lines.length > 50) lines.splice(0, lines.length - 50);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  hookSignals();
  live.add(child);
  child.once('exit', () => {
    exited = true;
    live.delete(child);
  });
  const stop = async (): Promise<void> => {
    if (exited) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 8000);
    await gone;
    clearTimeout(t);
  };
  const until = Date.now() + readyTimeoutMs;
  while ((await getStatus(`http://127.0.0.1:${port}/readyz`)) !== 200) {
    if (exited) throw new Error(`${name} exited before it was ready:\n${lines.join('\n')}`);
    if (Date.now() > until) {
      await stop();
      throw new Error(`${name} not ready after ${readyTimeoutMs} ms:\n${lines.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid as number;
  const allocator = activeAllocator(() => readFileSync(`/proc/${pid}/maps`, 'utf8'));
  return { name, pid, port, url: `ws://127.0.0.1:${port}/v1/ws`, allocator, stop, log: () => lines.join('\n') };
}

export async function startTxrank(cat: PreparedCatalog, serverArgs: string[] = []): Promise<RunningServer> {
  const port = await freePort();
  const args = ['dist/src/cli/serve.js', '--host', '127.0.0.1', '--port', String(port), '--data-dir', cat.dataDir, '--demo', 'false', ...serverArgs];
  return startProcess('txrank', args, port, 60_000);
}

export async function startBaseline(cat: PreparedCatalog): Promise<RunningServer> {
  const port = await freePort();
  const args = ['dist/bench/baselines/naive-server.js', '--port', String(port), '--catalog', cat.catalogFile, '--key', cat.key, '--tenant', cat.tenant];
  return startProcess('baseline', args, port, 60_000);
}

export async function removeCatalog(cat: PreparedCatalog): Promise<void> {
  await rm(cat.root, { recursive: true, force: true });
}
