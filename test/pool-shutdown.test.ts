/**
 * Shutting the pool down never terminates a worker inside ONNX Runtime (src/pool/control-block.ts explains
 * why that aborts the whole process). The control block's quiesce over real worker threads, then real servers
 * closed under load with no drain time while a worker builds a new view.
 */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { ControlBlock } from '../src/pool/control-block.js';
import { decideRequest, demoCatalog, pipelinedLoad, startTestServer } from './helpers/harness.js';

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
