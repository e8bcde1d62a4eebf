/**
 * Shutting the pool down never terminates a worker inside ONNX Runtime (src/pool/control-block.ts explains
 * why that aborts the whole process). The control block's quiesce over real worker threads, then real servers
 * closed under load with no drain time while a worker builds a new view, then the `npm start` process taking
 * SIGTERM in the middle of a catalog load.
 */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ControlBlock } from '../src/pool/control-block.js';
import { DecisionClient } from '../src/client/client.js';
import { demoCatalog, pipelinedLoad, startTestServer } from './helpers/harness.js';

const CONTROL_JS = pathToFileURL(resolve('dist/src/pool/control-block.js')).href;

/** A thread that enters a stretch on command, reports what enterNative said, and leaves on command. */
function stretchThread(buffer: SharedArrayBuffer): Worker {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(${JSON.stringify(CONTROL_JS)}).then(({ ControlBlock }) => {
      const control = new ControlBlock(workerData, 2);
      parentPort.on('message', (m) => {
        if (m === 'leave') { control.leaveNative(); parentPort.postMessage('left'); }
        else if (m === 'exit') process.exit(0);
        else parentPort.postMessage(control.enterNative(m === 'optional'));
      });
      parentPort.postMessage('ready');
    });`;
  return new Worker(code, { eval: true, workerData: buffer });
}

async function ask(w: Worker, m: string): Promise<unknown> {
  w.postMessage(m);
  const [answer] = await once(w, 'message');
  return answer;
}

describe('ControlBlock.quiesce', () => {
  it('waits for a stretch another thread is in, then refuses optional stretches but not required ones', async () => {
    const control = ControlBlock.create(2);
    const w = stretchThread(control.buffer);
    try {
      await once(w, 'message');
      expect(await ask(w, 'optional')).toBe(true);
      let settled: boolean | null = null;
      const quiet = control.quiesce(10_000).then((ok) => (settled = ok));
      // The other thread is still inside: two event-loop turns later the wait has not ended.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 20));
      expect(settled).toBeNull();
      expect(control.nativeStretches).toBe(1);
      expect(await ask(w, 'leave')).toBe('left');
      expect(await quiet).toBe(true);
      // Closing: a background build is not started; a task or a start-up still counts itself in.
      expect(await ask(w, 'optional')).toBe(false);
      expect(control.nativeStretches).toBe(0);
      expect(await ask(w, 'required')).toBe(true);
      expect(control.nativeStretches).toBe(1);
      expect(await control.quiesce(30)).toBe(false);
      await ask(w, 'leave');
      expect(await control.quiesce(30)).toBe(true);
    } finally {
      w.postMessage('exit');
      await once(w, 'exit');
    }
  });
});

describe('closing a server under load', () => {
  it('waits for the workers to leave ONNX Runtime, with no drain time and a view build under way', async () => {
    for (let round = 0; round < 6; round++) {
      // drainTimeoutMs 0: close() gives running tasks no time, so the workers are inside ONNX Runtime when
      // the pool terminates them unless it waits for them (rounds with a catalog swap add a build to that).
      const t = await startTestServer({ catalog: demoCatalog(2000, 40 + round), overrides: { drainTimeoutMs: 0 } });
      const c = await t.connect();
      const load = pipelinedLoad(c, 32);
      if (round % 2 === 1) {
        const posted = await fetch(`${t.http}/admin/catalog`, { method: 'POST', headers: { authorization: `Bearer ${t.adminKey}` }, body: demoCatalog(2000, 60 + round) });
        expect(posted.status).toBe(200);
      }
      await new Promise((r) => setTimeout(r, 20 * round));
      // The lanes send nothing new from here; the requests they have in flight get an answer before the
      // sockets close.
      const stopping = load.stop();
      await t.close();
      await stopping;
      expect(load.answers.length).toBeGreaterThan(0);
      // A task cut off by a terminate would answer `internal`; every one ran to its end instead.
      const kinds = new Set(load.answers.map((a) => (a.type === 'error' ? a.code : a.type)));
      expect([...kinds].filter((k) => k !== 'decision' && k !== 'shutting_down')).toEqual([]);
    }
  }, 120_000);
});

describe('SIGTERM to the server process', () => {
  it('under load and during a catalog load: every request answered, exit code 0, no abort', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'txrank-sigterm-'));
    const child = spawn(process.execPath, ['dist/src/cli/serve.js', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--drain-timeout-ms', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      // The embedded defaults print the URL and development keys once every worker serves.
      const end = Date.now() + 30_000;
      while (!/development admin key: \S+/.test(stdout)) {
        if (Date.now() > end) throw new Error(`the server did not start: ${stdout} ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const url = /listening on (ws:\/\/\S+)/.exec(stdout)?.[1] ?? '';
      const key = /development key for tenant freshmart: (\S+)/.exec(stdout)?.[1] ?? '';
      const admin = /development admin key: (\S+)/.exec(stdout)?.[1] ?? '';
      const http = url.replace('ws://', 'http://').replace('/v1/ws', '');
      const c = await DecisionClient.connect(url, key);
      const load = pipelinedLoad(c, 32);
      const loaded = await fetch(`${http}/admin/catalog`, { method: 'POST', headers: { authorization: `Bearer ${admin}` }, body: demoCatalog(4000, 5) });
      expect(loaded.status).toBe(200);
      // The workers now build the new catalog's view, one after the other.
      const stopping = load.stop();
      child.kill('SIGTERM');
      await stopping;
      expect(await exited).toBe(0);
      expect(stderr).not.toMatch(/terminate called|Napi::Error|Aborted/);
      expect(load.answers.length).toBeGreaterThan(0);
      const kinds = new Set(load.answers.map((a) => (a.type === 'error' ? a.code : a.type)));
      expect([...kinds].filter((k) => k !== 'decision' && k !== 'shutting_down')).toEqual([]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
