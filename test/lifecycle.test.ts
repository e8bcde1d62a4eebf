/**
 * Catalog reloads, readiness, overload, shutdown and start-up refusals, on real servers.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decideRequest, demoCatalog, startTestServer } from './helpers/harness.js';
import { resolveOptions } from '../src/config/options.js';
import { TxrankServer } from '../src/server.js';
import { encodeFrame, type Answer } from '../src/client/client.js';
import WebSocket from 'ws';
import { parseCatalogJsonl } from '../src/catalog/jsonl.js';

const run = promisify(execFile);

async function until(cond: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('catalog reloads', () => {
  it('workers serve a catalog loaded by the admin endpoint without restart', async () => {
    const t = await startTestServer({ catalog: demoCatalog(300, 1) });
    try {
      const c = await t.connect();
      const before = await c.decide(decideRequest());
      expect(before.type === 'decision' && before.catalog_version).toBe(1);
      const next = demoCatalog(400, 2);
      const nextIds = new Set(parseCatalogJsonl(next).ok ? (parseCatalogJsonl(next) as { offers: { id: string }[] }).offers.map((o) => o.id) : []);
      const res = await fetch(`${t.http}/admin/catalog`, { method: 'POST', headers: { authorization: `Bearer ${t.adminKey}` }, body: next });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ version: 2 });
      await until(async () => {
        const a = await c.decide(decideRequest());
        return a.type === 'decision' && a.catalog_version === 2;
      });
      // Once a worker serves v2, its offers come from v2 only.
      const answers = await Promise.all(Array.from({ length: 50 }, () => c.decide(decideRequest())));
      for (const a of answers) {
        if (a.type !== 'decision') throw new Error(JSON.stringify(a));
        if (a.catalog_version === 2) for (const o of a.offers) expect(nextIds.has(o.offer_id)).toBe(true);
      }
      await t.server.waitReady(10_000);
      await c.close();
    } finally {
      await t.close();
    }
  });

  it('workers see a catalog loaded by the CLI in another process', async () => {
    const t = await startTestServer({ catalog: demoCatalog(200, 3) });
    try {
      const file = join(t.dataDir, '..', `catalog-${process.pid}.jsonl`);
      writeFileSync(file, demoCatalog(250, 4));
      const { stdout } = await run(process.execPath, ['dist/src/cli/catalog.js', 'load', file, '--data', t.dataDir]);
      expect(stdout).toMatch(/version 2/);
      rmSync(file);
      const c = await t.connect();
      await until(async () => {
        const a = await c.decide(decideRequest());
        return a.type === 'decision' && a.catalog_version === 2;
      });
      await c.close();
    } finally {
      await t.close();
    }
  });
});

describe('readiness', () => {
  it('is not ready without a catalog, and ready once one is loaded', async () => {
    const t = await startTestServer({ catalog: null });
    try {
      const r1 = await fetch(`${t.http}/readyz`);
      expect(r1.status).toBe(503);
      expect(((await r1.json()) as { reason: string }).reason).toContain('no catalog');
      const c = await t.connect();
      const early = await c.decide(decideRequest());
      expect(early.type === 'error' && early.code).toBe('unknown_tenant');
      const res = await fetch(`${t.http}/admin/catalog`, { method: 'POST', headers: { authorization: `Bearer ${t.adminKey}` }, body: demoCatalog(200, 5) });
      expect(res.status).toBe(200);
      await until(async () => (await fetch(`${t.http}/readyz`)).status === 200);
      const a = await c.decide(decideRequest());
      expect(a.type).toBe('decision');
      await c.close();
    } finally {
      await t.close();
    }
  });
});

describe('overload', () => {
  it('answers past the in-flight bound with overloaded at once, and loses no request', async () => {
    const t = await startTestServer({ overrides: { maxInFlight: 8, poolSize: 1, concurrentTasksPerWorker: 1, maxBatch: 2 } });
    try {
      const c = await t.connect();
      // A generous deadline: on a loaded machine the queue may take longer than the default 100 ms, and this
      // test is about the in-flight bound, not deadlines.
      const answers: Answer[] = await Promise.all(Array.from({ length: 300 }, (_, i) => c.decide(decideRequest({ id: i, deadline_ms: 10_000 }))));
      const codes = new Map<string, number>();
      for (const a of answers) {
        const key = a.type === 'decision' ? 'ok' : a.code;
        codes.set(key, (codes.get(key) ?? 0) + 1);
      }
      expect(codes.get('overloaded') ?? 0).toBeGreaterThan(0);
      expect(codes.get('ok') ?? 0).toBeGreaterThan(0);
      expect([...codes.keys()].every((k) => k === 'ok' || k === 'overloaded')).toBe(true);
      // Once the burst is over the server serves normally again.
      expect((await c.decide(decideRequest())).type).toBe('decision');
      await c.close();
    } finally {
      await t.close();
    }
  });

  it('bounds in-flight requests per connection', async () => {
    const t = await startTestServer({ overrides: { maxInFlightPerConnection: 4, poolSize: 1, concurrentTasksPerWorker: 1, maxBatch: 1 } });
    try {
      const c = await t.connect();
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => c.decide(decideRequest({ id: i }))));
      const over = answers.filter((a) => a.type === 'error' && a.code === 'overloaded');
      expect(over.length).toBeGreaterThan(0);
      expect(over[0].type === 'error' && over[0].message).toContain('this connection');
      await c.close();
    } finally {
      await t.close();
    }
  });
});

describe('shutdown', () => {
  it('answers every accepted request, then closes sockets with 1001; close() twice is safe', async () => {
    const t = await startTestServer();
    const c = await t.connect();
    const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    const pending = Array.from({ length: 300 }, (_, i) => c.decide(decideRequest({ id: i, deadline_ms: 10_000 })));
    // Close while requests are in flight: once the first answer is back the rest are queued or running.
    await Promise.race(pending);
    const first = t.server.close();
    const second = t.server.close();
    expect(second).toBe(first);
    const answers = await Promise.all(pending);
    for (const a of answers) expect(a.type === 'decision' || (a.type === 'error' && ['shutting_down', 'overloaded'].includes(a.code))).toBe(true);
    expect(answers.filter((a) => a.type === 'decision').length).toBeGreaterThan(0);
    await first;
    expect(await closed).toBe(1001);
    // No longer listening.
    await expect(fetch(`${t.http}/healthz`)).rejects.toThrow();
    await t.close();
  });
});

describe('start-up refusals', () => {
  it('refuses a model whose feature-spec version does not match', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'txrank-model-'));
    const dataDir = mkdtempSync(join(tmpdir(), 'txrank-data-'));
    try {
      cpSync('models/shipped', dir, { recursive: true });
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      m.featureSpecVersion = 999;
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
      await expect(TxrankServer.start(resolveOptions({ port: 0, modelDir: dir, dataDir, demo: false, poolSize: 1 }))).rejects.toThrow(/feature/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to start on the pure-JS uWebSockets.js fallback unless allowed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'txrank-data-'));
    try {
      const err = await run(process.execPath, ['dist/src/cli/serve.js', '--port', '0', '--data-dir', dataDir, '--demo', 'false'], {
        env: { ...process.env, UWS_USE_FALLBACK: '1' },
        timeout: 20_000,
      }).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect(err?.code).toBe(1);
      expect(err?.stderr).toMatch(/fallback/);
      expect(err?.stderr).toMatch(/--allow-js-fallback/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a bad option value with a message naming it', async () => {
    const err = await run(process.execPath, ['dist/src/cli/serve.js', '--pool-size', 'lots'], { timeout: 20_000 }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toContain('option pool-size');
  });
});

describe('backpressure', () => {
  it('disconnects a client that stops reading instead of buffering its answers without bound', async () => {
    const t = await startTestServer({ overrides: { maxBackpressureBytes: 65536 } });
    try {
      const slow = await t.connect();
      const socket = (slow.ws as unknown as { _socket: import('node:net').Socket })._socket;
      socket.pause(); // stop reading: answers pile up in the kernel, then in the server
      const closed = new Promise<number>((resolve) => slow.ws.once('close', (code) => resolve(code)));
      const req = decideRequest({ placement: 'order_confirmation', k: 5, deadline_ms: 10_000 });
      let sent = 0;
      // Bounded: at most 40,000 requests (~60 MB of answers if they were all kept).
      while (sent < 40_000 && slow.ws.readyState === WebSocket.OPEN) {
        for (let i = 0; i < 500; i++) slow.ws.send(encodeFrame({ v: 1, type: 'decide', ...req, id: sent++ }));
        await new Promise((r) => setTimeout(r, 5));
        const info = (await (await fetch(`${t.http}/v1/info`)).json()) as { connections: number };
        if (info.connections === 0) break;
      }
      socket.resume();
      expect([1006, 1005, 1000, 1009, 1011]).toContain(await closed);
      // The server let go of the connection and still serves others.
      await until(async () => ((await (await fetch(`${t.http}/v1/info`)).json()) as { connections: number }).connections === 0);
      const c = await t.connect();
      expect((await c.decide(decideRequest())).type).toBe('decision');
      await c.close();
    } finally {
      await t.close();
    }
  });
});
