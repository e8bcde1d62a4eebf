/**
 * Failure fixtures with real processes:
 *   - kill -9: a child process ingests events continuously and prints each acknowledgement; the parent kills
 *     it with SIGKILL mid-stream, reopens the environment, and finds every acknowledged event (and a resend of
 *     each is a duplicate). Run for both ackOn modes.
 *   - another process reads the example stream read-only (createExampleSource, the trainer's entry point),
 *     before the writer has created the event DBs and after.
 *
 * The children run compiled JavaScript. beforeAll compiles just the modules they import (and what those
 * import) into node_modules/.cache, so the test never depends on a stale dist/ nor on unrelated files being
 * compilable at the moment.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../src/catalog/store.js';
import { EventStore } from '../src/events/store.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'node_modules', '.cache', 'txrank-events-test');
const built = (p: string) => pathToFileURL(join(OUT, p)).href;

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'txrank-kill9-'));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(
    process.execPath,
    [
      tsc,
      ...['--outDir', OUT, '--rootDir', ROOT, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'],
      ...['--lib', 'es2023', '--types', 'node', '--strict', '--skipLibCheck', '--resolveJsonModule', '--esModuleInterop'],
      'src/events/store.ts',
      'src/events/example-source.ts',
      'src/catalog/store.ts',
    ],
    { cwd: ROOT, stdio: 'pipe' },
  );
  await writeFile(join(dir, 'ingest-child.mjs'), INGEST_CHILD);
  await writeFile(join(dir, 'reader-child.mjs'), READER_CHILD);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Logs 1,000 decisions, then ingests batches of 50 events on 4 lanes forever, printing "A <decision> <event>"
 * for each accepted event once ingest() resolved (writeSync: the line is in the pipe before the next ack). */
const INGEST_CHILD = `
import { writeSync } from 'node:fs';
import { openStorage } from '${built('src/catalog/store.js')}';
import { EventStore } from '${built('src/events/store.js')}';
const [dataDir, ackOn] = process.argv.slice(2);
const storage = openStorage(dataDir);
const store = new EventStore(storage.root, { ackOn });
const T0 = Date.now() - 60_000;
const shown = [{ offerId: 'o1', position: 1, p: 0.1, propensity: 1 }, { offerId: 'o2', position: 2, p: 0.1, propensity: 1 }];
for (let d = 0; d < 1000; d++) {
  store.logDecision({ decisionId: 'd' + d, tenant: 'freshmart', placement: 'checkout', decidedAt: T0 + d, txnFeatures: new Float32Array(37), modelVersion: 'm', catalogVersion: 1, policy: 'ai', shown });
}
let n = 0;
async function lane() {
  for (;;) {
    const batch = [];
    for (let k = 0; k < 50; k++) {
      const i = n++;
      batch.push({ tenant: 'freshmart', eventId: 'e' + i, decisionId: 'd' + (i % 1000), offerId: i % 3 ? 'o1' : 'o2', kind: i % 7 ? 'impression' : 'click', ts: T0 + 5000 });
    }
    const out = await store.ingest(batch);
    let s = '';
    out.forEach((o, k) => { s += o.status === 'accepted' ? 'A ' + batch[k].decisionId + ' ' + batch[k].eventId + '\\n' : 'X ' + JSON.stringify(o) + '\\n'; });
    writeSync(1, s);
  }
}
for (let l = 0; l < 4; l++) lane();
`;

/** Opens the example stream read-only; prints what it reads now, and again (after 1.1 s, past its retry
 * delay) each time a line arrives on stdin. */
const READER_CHILD = `
import { createInterface } from 'node:readline';
import { createExampleSource } from '${built('src/events/example-source.js')}';
const source = createExampleSource(process.argv[2]);
const report = () => {
  const xs = source.read(-1, 1_000_000);
  console.log(JSON.stringify({ count: xs.length, latestSeq: source.latestSeq(), positives: xs.filter((x) => x.label === 1).length, firstFeatures: xs[0] ? Array.from(xs[0].txnFeatures.slice(0, 3)) : null }));
};
report();
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'quit') { void source.close().then(() => process.exit(0)); return; }
  setTimeout(report, 1_100);
});
`;

interface Killed {
  acked: [decisionId: string, eventId: string][];
  other: string[];
  signal: NodeJS.Signals | null;
}

function runAndKill(dataDir: string, ackOn: string, killAfter: number): Promise<Killed> {
  const child = spawn(process.execPath, [join(dir, 'ingest-child.mjs'), dataDir, ackOn], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acked: [string, string][] = [];
  const other: string[] = [];
  let rest = '';
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      rest += chunk.toString();
      let i: number;
      while ((i = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, i);
        rest = rest.slice(i + 1);
        if (line.startsWith('A ')) {
          const [, d, e] = line.split(' ');
          acked.push([d, e]);
        } else other.push(line);
      }
      if (acked.length >= killAfter && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      // Lines written before the kill may still be in the pipe: 'exit' can come before the last 'data'.
      setTimeout(() => (signal === 'SIGKILL' ? resolve({ acked, other, signal }) : reject(new Error(`child exited (${signal ?? _code}) before the kill: ${stderr}`))), 100);
    });
  });
}

describe('kill -9', () => {
  for (const ackOn of ['committed', 'flushed']) {
    it(`keeps every event acknowledged before SIGKILL (ackOn ${ackOn})`, async () => {
      const dataDir = join(dir, `env-${ackOn}`);
      const { acked, other, signal } = await runAndKill(dataDir, ackOn, 4_000);
      expect(signal).toBe('SIGKILL');
      expect(other).toEqual([]);
      expect(acked.length).toBeGreaterThanOrEqual(4_000);

      const storage = openStorage(dataDir);
      const store = new EventStore(storage.root);
      try {
        const missing = acked.filter(([d, e]) => store.getEvent('freshmart', d, e) === null);
        expect(missing).toEqual([]);
        // And each is answered duplicate, not stored again.
        const sample = acked.filter((_, i) => i % 10 === 0);
        const resent = await store.ingest(
          sample.map(([d, e]) => {
            const i = Number(e.slice(1));
            return { tenant: 'freshmart', eventId: e, decisionId: d, offerId: i % 3 ? 'o1' : 'o2', kind: i % 7 ? 'impression' : 'click', ts: Date.now() - 50_000 };
          }),
        );
        expect(resent.every((o) => 'status' in o && o.status === 'duplicate')).toBe(true);
      } finally {
        await store.close();
        await storage.close();
      }
    });
  }
});

describe('the example stream in another process', () => {
  let reader: ChildProcess | null = null;
  afterAll(() => {
    reader?.kill('SIGKILL');
  });

  it('reads nothing before the writer has made the event DBs, then every example, read-only', async () => {
    const dataDir = join(dir, 'env-reader');
    const storage = openStorage(dataDir); // the catalog's DBs exist, the event log's not yet
    reader = spawn(process.execPath, [join(dir, 'reader-child.mjs'), dataDir], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    let rest = '';
    reader.stdout!.on('data', (c: Buffer) => {
      rest += c.toString();
      let i: number;
      while ((i = rest.indexOf('\n')) >= 0) {
        lines.push(rest.slice(0, i));
        rest = rest.slice(i + 1);
      }
    });
    const nextLine = async (n: number) => {
      const until = Date.now() + 10_000;
      while (lines.length < n) {
        if (Date.now() > until) throw new Error('the reader printed nothing');
        await new Promise((r) => setTimeout(r, 10));
      }
      return JSON.parse(lines[n - 1]) as { count: number; latestSeq: number; positives: number; firstFeatures: number[] | null };
    };
    expect(await nextLine(1)).toEqual({ count: 0, latestSeq: 0, positives: 0, firstFeatures: null });

    const store = new EventStore(storage.root);
    try {
      const T0 = 1_760_000_000_000;
      for (let d = 0; d < 40; d++) {
        const f = new Float32Array(37);
        f[0] = 0.5;
        f[1] = d;
        f[2] = -1.25;
        store.logDecision({ decisionId: `d${d}`, tenant: 't', placement: 'p', decidedAt: T0 + d, txnFeatures: f, modelVersion: 'm', catalogVersion: 1, policy: 'ai', shown: [{ offerId: 'o1', position: 1, p: 0.1, propensity: 1 }] });
      }
      const events = Array.from({ length: 40 }, (_, d) => ({ tenant: 't', eventId: `e${d}`, decisionId: `d${d}`, offerId: 'o1', kind: d % 4 === 0 ? ('click' as const) : ('impression' as const), ts: T0 + d + 10 }));
      await store.ingest(events, T0 + 1_000);
      const r = await store.labelDue(T0 + 2 * 3_600_000);
      expect(r).toMatchObject({ examples: 40, positives: 10 });
      reader.stdin!.write('again\n');
      expect(await nextLine(2)).toEqual({ count: 40, latestSeq: 40, positives: 10, firstFeatures: [0.5, 0, -1.25] });
      reader.stdin!.write('quit\n');
    } finally {
      await store.close();
      await storage.close();
    }
  });
});
