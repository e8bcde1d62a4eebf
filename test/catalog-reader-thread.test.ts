/**
 * The question this file answers: when a read-only LMDB environment is already open in another thread or
 * process, does it see a catalog version the writer commits later, without reopening? Yes, provided the
 * reader renews its read snapshot (what CatalogStore.currentVersion does with resetReadTxn); and each
 * version it reads is whole.
 *
 * The reader is plain JavaScript (a Worker with eval: true, and the same code in a child process), because
 * neither can import TypeScript. It mirrors CatalogStore.currentVersion and readCurrent line for line, using
 * the exported STORAGE_LAYOUT and BODY_PACKR_OPTIONS so that names and codec cannot drift.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BODY_PACKR_OPTIONS, loadCatalogText, openStorage, STORAGE_LAYOUT, type Storage } from '../src/catalog/store.js';

const require = createRequire(import.meta.url);

interface ReaderConfig {
  path: string;
  lmdb: string;
  msgpackr: string;
  layout: typeof STORAGE_LAYOUT;
  packr: typeof BODY_PACKR_OPTIONS;
  until: number;
  timeoutMs: number;
}

type ReaderReport =
  | { type: 'ready'; version: number | null }
  | { type: 'seen'; version: number; offers: number; whole: boolean }
  | { type: 'done'; last: number | null; polls: number };

// The reader never returns to its event loop while polling: it sleeps in Atomics.wait, as an idle piscina
// worker does. So it cannot rely on lmdb-js's timer-driven snapshot renewal and must reset explicitly.
const READER = `
const wt = require('node:worker_threads');
const cfg = wt.workerData || JSON.parse(process.env.TXRANK_READER);
const report = wt.parentPort ? (m) => wt.parentPort.postMessage(m) : (m) => process.stdout.write(JSON.stringify(m) + '\\n');
const { open } = require(cfg.lmdb);
const { Packr } = require(cfg.msgpackr);
const L = cfg.layout;
const root = open(cfg.path, { readOnly: true, maxDbs: L.maxDbs });
const state = root.openDB(L.dbs.state, { encoding: 'binary' });
const index = root.openDB(L.dbs.index, {});
const bodies = root.openDB(L.dbs.bodies, { encoding: 'binary' });
const packr = new Packr(cfg.packr);
function currentVersion() {
  root.resetReadTxn();
  const b = state.getBinaryFast(L.currentKey);
  return b === undefined ? null : b.readUInt32LE(0);
}
function readCurrent() {
  root.resetReadTxn();
  const txn = root.useReadTransaction();
  try {
    const p = state.getBinaryFast(L.currentKey, { transaction: txn });
    if (p === undefined) return null;
    const version = p.readUInt32LE(0);
    const info = index.get(version, { transaction: txn });
    const body = packr.unpack(bodies.getBinaryFast(version, { transaction: txn }));
    return { version, info, body };
  } finally {
    txn.done();
  }
}
const sleep = new Int32Array(new SharedArrayBuffer(4));
let last = currentVersion();
report({ type: 'ready', version: last });
let polls = 0;
const deadline = Date.now() + cfg.timeoutMs;
while (Date.now() < deadline && (last === null || last < cfg.until)) {
  polls++;
  const v = currentVersion();
  if (v !== last) {
    const s = readCurrent();
    const tag = s.body.offers.length ? /^\\[(.*)\\]/.exec(s.body.offers[0].title)[1] : null;
    const whole = s.info.offers === s.body.offers.length && s.body.offers.every((o) => o.title.startsWith('[' + tag + ']'));
    report({ type: 'seen', version: s.version, offers: s.body.offers.length, whole });
    last = s.version;
  }
  Atomics.wait(sleep, 0, 0, 1);
}
report({ type: 'done', last, polls });
root.close();
`;

function catalogText(tag: string, offers: number): string {
  const lines = [JSON.stringify({ kind: 'tenant', id: 't', name: 'T', currency: 'USD', placements: [{ id: 'checkout', name: 'C', slots: 3 }] })];
  for (let i = 0; i < offers; i++) {
    lines.push(
      JSON.stringify({
        kind: 'offer', id: `o${i}`, tenant: 't', advertiser: 'a', campaign: 'c', category: 'snacks/chips',
        title: `[${tag}] offer ${i}`, creative: { headline: 'h' }, bid: { type: 'cpm', amount: 5 },
        status: 'active', start: '2025-01-01', end: '2030-01-01',
      }),
    );
  }
  return lines.join('\n');
}

let dir: string;
let storage: Storage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'txrank-reader-'));
  storage = openStorage(join(dir, 'env'));
  await loadCatalogText(storage, catalogText('v1', 200), 'test');
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

function config(until: number): ReaderConfig {
  return {
    path: join(dir, 'env'),
    lmdb: require.resolve('lmdb'),
    msgpackr: require.resolve('msgpackr'),
    layout: STORAGE_LAYOUT,
    packr: BODY_PACKR_OPTIONS,
    until,
    timeoutMs: 15_000,
  };
}

/** Waits for the reader's `ready`, loads versions 2..until while it polls, and returns everything it saw. */
async function drive(
  start: (onReport: (m: ReaderReport) => void) => Promise<void>,
  until: number,
): Promise<ReaderReport[]> {
  const reports: ReaderReport[] = [];
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const finished = start((m) => {
    reports.push(m);
    if (m.type === 'ready') ready();
  });
  await isReady;
  for (let v = 2; v <= until; v++) {
    await loadCatalogText(storage, catalogText(`v${v}`, 200 + v * 50), 'test');
    // Give the reader time to poll between loads, so it observes versions one by one rather than only the last.
    await new Promise((r) => setTimeout(r, 30));
  }
  await finished;
  return reports;
}

function checkReports(reports: ReaderReport[], until: number): void {
  expect(reports[0]).toEqual({ type: 'ready', version: 1 });
  const seen = reports.filter((m): m is Extract<ReaderReport, { type: 'seen' }> => m.type === 'seen');
  expect(seen.length).toBeGreaterThanOrEqual(1);
  expect(seen.every((m) => m.whole)).toBe(true);
  // Versions only go forward, and the last one the writer committed is seen without reopening.
  for (let i = 1; i < seen.length; i++) expect(seen[i].version).toBeGreaterThan(seen[i - 1].version);
  expect(seen.at(-1)).toMatchObject({ version: until, offers: 200 + until * 50 });
  expect(reports.at(-1)).toMatchObject({ type: 'done', last: until });
}

describe('a read-only reader opened before later loads', () => {
  it('in a worker thread (eval: true) sees each new version without reopening, whole', async () => {
    const until = 4;
    const reports = await drive(
      (onReport) =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(READER, { eval: true, workerData: config(until) });
          w.on('message', onReport);
          w.on('error', reject);
          w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`reader exited with ${code}`))));
        }),
      until,
    );
    checkReports(reports, until);
    // The worker closed its handle on the shared environment; the writer's handle keeps working.
    expect(await loadCatalogText(storage, catalogText('after', 1), 'test')).toEqual({ ok: true, version: until + 1 });
  });

  it('in another process sees each new version without reopening, whole', async () => {
    const until = 3;
    const reports = await drive(
      (onReport) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, ['-e', READER], {
            env: { ...process.env, TXRANK_READER: JSON.stringify(config(until)) },
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let buf = '';
          child.stdout.setEncoding('utf8');
          child.stdout.on('data', (chunk: string) => {
            buf += chunk;
            let nl;
            while ((nl = buf.indexOf('\n')) !== -1) {
              onReport(JSON.parse(buf.slice(0, nl)) as ReaderReport);
              buf = buf.slice(nl + 1);
            }
          });
          child.on('error', reject);
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`reader exited with ${code}`))));
        }),
      until,
    );
    checkReports(reports, until);
  });
});
