/**
 * Event log benchmark (not a test: timings never go in tests).
 *
 *   1. logDecision: µs per call on the calling thread (the serving path's cost), and how long the queued
 *      decisions take to commit.
 *   2. ingest: events per second acknowledged durably, for each ackOn mode ('flushed': fsync done;
 *      'committed': in the OS page cache), against pre-logged decisions. Each run is BATCHxOUTSTANDING:
 *      ingest() calls of BATCH events with OUTSTANDING events in flight (closed loop: a new call as soon as
 *      one is acknowledged, the way many gateway connections keep a server busy). 1000x16000 and 100x16000
 *      measure capacity (HTTP batches; the ack latency there is mostly queueing: outstanding / rate);
 *      100x4000 is a busy but not saturated server; 1x2000 is the WebSocket path (one event per frame, many frames in
 *      flight); 1x1 is a lone event on an idle server (its latency is one commit, plus its fsync). Ack
 *      latency is from the ingest() call to its resolution, in an HDR histogram.
 *   3. labelDue: examples per second joined from the decisions and events above.
 *
 * Traffic. `--decisions` decisions are logged first, spread over the last hour in time order, 3 offers each
 * (like the server, each record is built just before its logDecision call, which alone is timed). Events:
 *   --traffic sliding (default, the realistic shape): engagement follows its decision within seconds, so
 *     events walk forward through the decisions in time order, 3 per decision on average: 95% go to one of
 *     the `--window` decisions just behind the front (a few seconds of decisions at a few thousand a
 *     second), 5% to any older decision (late clicks, conversions);
 *   --traffic uniform (the worst case for write locality): every event on a decision drawn uniformly.
 * Kinds: impression 80%, click 15%, conversion 5%, on a random shown offer. Every event is new, with a
 * random UUID as its id, so ingest does its full work: field and decision checks, insert-if-absent.
 *
 * Run: npx tsc -p . && node dist/bench/events.bench.js [--seconds 4] [--runs 1000x16000,100x16000,100x4000,1x2000,1x1]
 *        [--decisions 500000] [--window 5000] [--traffic sliding,uniform]
 *        [--out bench/results/events.json]
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as hdr from 'hdr-histogram-js';
import { openStorage, type Storage } from '../src/catalog/store.js';
import { TXN_DIM } from '../src/features/spec.js';
import { EventStore, type AckOn, type DecisionRecord, type EngagementEvent } from '../src/events/store.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const SECONDS = Number(arg('--seconds', '4'));
const RUNS = arg('--runs', '1000x16000,100x16000,100x4000,1x2000,1x1')
  .split(',')
  .map((r) => {
    const [batch, outstanding] = r.split('x').map(Number);
    if (!(batch >= 1 && outstanding >= batch)) throw new Error(`--runs: ${r} is not BATCHxOUTSTANDING`);
    return { batch, outstanding };
  });
const DECISIONS = Number(arg('--decisions', '500000'));
const WINDOW = Math.min(Number(arg('--window', '5000')), DECISIONS);
type Traffic = 'sliding' | 'uniform';
const TRAFFICS = arg('--traffic', 'sliding,uniform').split(',') as Traffic[];
if (!TRAFFICS.every((t) => t === 'sliding' || t === 'uniform')) throw new Error('--traffic must list sliding and/or uniform');
const EVENTS_PER_DECISION = 3;
const SPREAD_MS = 60 * 60_000;
const OUT = arg('--out', 'bench/results/events.json');
const MODES: AckOn[] = ['flushed', 'committed'];
const SHOWN = 3;
const TENANT = 'freshmart';

/** A small deterministic PRNG (xorshift32), so runs are comparable. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

function decisionId(i: number): string {
  return `0b6c3f0e-8d1a-4c57-9a43-${i.toString(16).padStart(12, '0')}`;
}

/** Decision i of DECISIONS, logged SPREAD_MS before `end` for i = 0 and at `end` for the last. */
function decidedAtOf(i: number, end: number): number {
  return end - SPREAD_MS + Math.floor((i * SPREAD_MS) / DECISIONS);
}

function decision(i: number, decidedAt: number, rnd: () => number): DecisionRecord {
  const f = new Float32Array(TXN_DIM);
  for (let k = 0; k < TXN_DIM; k++) f[k] = rnd();
  return {
    // Random-looking but reproducible, like the server's UUIDs: decision ids never arrive in key order.
    decisionId: decisionId((i * 2654435761) % 4294967296),
    tenant: TENANT,
    placement: 'checkout',
    decidedAt,
    buyer: `b-${i % 5000}`,
    txnFeatures: f,
    modelVersion: 'tt-1-3f9a2c1d',
    catalogVersion: 7,
    policy: 'ai',
    shown: Array.from({ length: SHOWN }, (_, k) => ({ offerId: `fm-${(i * 7 + k * 13) % 4000}`, position: k + 1, p: 0.02 + 0.01 * k, propensity: 1 })),
  };
}

interface Summary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

function summary(h: hdr.Histogram): Summary {
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    max: ms(h.maxValue),
    mean: Math.round(h.mean) / 1000,
  };
}

function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false });
}

async function withStore<T>(ackOn: AckOn, fn: (store: EventStore, storage: Storage, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'txrank-events-bench-'));
  const storage = openStorage(dir);
  // The cache holds every pre-logged decision, as a server's holds its last minute or so of decisions:
  // where nearly all engagement goes. (The 5% of events on older decisions hit it here too.)
  const store = new EventStore(storage.root, { ackOn, maxPendingEvents: 1_000_000, decisionCacheSize: DECISIONS });
  try {
    return await fn(store, storage, dir);
  } finally {
    await store.close();
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function preLog(store: EventStore, storage: Storage, end: number): Promise<{ usPerCall: number; callUs: { p50: number; p99: number; max: number }; commitMs: number }> {
  const h = histogram();
  const rnd = prng(7);
  // Warm-up (JIT), then timed call by call, in slices the size of a busy event-loop turn.
  for (let i = 0; i < 2000; i++) store.logDecision(decision(i, decidedAtOf(i, end), rnd));
  await storage.root.committed;
  let spent = 0;
  const t0 = performance.now();
  for (let i = 2000; i < DECISIONS; i += 500) {
    for (let j = i; j < Math.min(i + 500, DECISIONS); j++) {
      const rec = decision(j, decidedAtOf(j, end), rnd);
      const s = performance.now();
      store.logDecision(rec);
      const d = performance.now() - s;
      spent += d;
      h.recordValue(Math.max(1, Math.round(d * 1_000_000)));
    }
    // Let lmdb-js commit between slices, as the server's event loop would, and keep its backlog short:
    // logged flat out, decisions would queue faster than they commit and lmdb-js's backpressure would
    // stall logDecision itself (a server logs a few thousand a second, far below the commit rate).
    await new Promise((r) => setImmediate(r));
    if (i % 10_000 === 0) await storage.root.committed;
  }
  await storage.root.committed;
  const commitMs = performance.now() - t0;
  // Recorded in ns for sub-µs resolution; reported in µs.
  const us = (p: number) => Math.round(h.getValueAtPercentile(p)) / 1000;
  return { usPerCall: (spent * 1000) / (DECISIONS - 2000), callUs: { p50: us(50), p99: us(99), max: Math.round(h.maxValue) / 1000 }, commitMs };
}

interface IngestResult {
  traffic: Traffic;
  ackOn: AckOn;
  batch: number;
  outstanding: number;
  seconds: number;
  events: number;
  eventsPerSecond: number;
  ackMs: Summary;
  accepted: number;
  rejected: number;
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
}

/** Where the sliding traffic is: events so far per store (the front is WINDOW + sent / 3 decisions in). */
const sentSoFar = new WeakMap<EventStore, number>();

async function ingestRun(store: EventStore, traffic: Traffic, ackOn: AckOn, batch: number, outstanding: number, end: number): Promise<IngestResult> {
  const rnd = prng(11 + batch);
  const lanes = Math.max(1, Math.round(outstanding / batch));
  let sent = sentSoFar.get(store) ?? 0;
  const pick = (): number => {
    if (traffic === 'uniform' || rnd() >= 0.95) return Math.floor(rnd() * DECISIONS);
    const front = Math.min(DECISIONS - 1, WINDOW + Math.floor(sent / EVENTS_PER_DECISION));
    return front - Math.floor(rnd() * WINDOW);
  };
  const makeBatch = (): EngagementEvent[] => {
    const out: EngagementEvent[] = new Array(batch);
    for (let k = 0; k < batch; k++) {
      const d = pick();
      sent++;
      const r = rnd();
      const kind = r < 0.8 ? 'impression' : r < 0.95 ? 'click' : 'conversion';
      const e: EngagementEvent = {
        tenant: TENANT,
        eventId: randomUUID(),
        decisionId: decisionId((d * 2654435761) % 4294967296),
        offerId: `fm-${(d * 7 + Math.floor(rnd() * SHOWN) * 13) % 4000}`,
        kind,
        ts: decidedAtOf(d, end) + 1_000,
      };
      if (kind === 'conversion') {
        e.value = 12.5;
        e.currency = 'USD';
      }
      out[k] = e;
    }
    return out;
  };
  const h = histogram();
  let events = 0;
  let accepted = 0;
  let rejected = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  const lane = async () => {
    while (performance.now() < deadline) {
      const b = makeBatch();
      const s = performance.now();
      const outcomes = await store.ingest(b);
      h.recordValue(Math.max(1, Math.round((performance.now() - s) * 1000)));
      events += outcomes.length;
      for (const o of outcomes) {
        if ('status' in o) accepted++;
        else rejected++;
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  sentSoFar.set(store, sent);
  if (traffic === 'sliding' && WINDOW + sent / EVENTS_PER_DECISION > DECISIONS) {
    console.warn(`note: the sliding front reached the last decision; use more --decisions for longer runs`);
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    traffic,
    ackOn,
    batch,
    outstanding: lanes * batch,
    seconds: Math.round(elapsed * 100) / 100,
    events,
    eventsPerSecond: Math.round(accepted / elapsed),
    ackMs: summary(h),
    accepted,
    rejected,
    cpuUserSeconds: Math.round(cpu.user / 1e4) / 100,
    cpuSystemSeconds: Math.round(cpu.system / 1e4) / 100,
  };
}

async function main(): Promise<void> {
  // Decisions end 2 s ago, so every event time is in the past.
  const end = Date.now() - 2_000;
  const ingest: IngestResult[] = [];
  let logDecision: { usPerCall: number; callUs: { p50: number; p99: number; max: number }; commitMs: number; decisions: number } | null = null;
  let labelling: { decisions: number; examples: number; ms: number; examplesPerSecond: number } | null = null;
  for (const traffic of TRAFFICS) for (const ackOn of MODES) {
    await withStore(ackOn, async (store, storage) => {
      const logged = await preLog(store, storage, end);
      logDecision ??= { ...logged, decisions: DECISIONS };
      for (const { batch, outstanding } of RUNS) {
        const r = await ingestRun(store, traffic, ackOn, batch, outstanding, end);
        ingest.push(r);
        console.log(
          `ingest ${traffic.padEnd(7)} ackOn=${ackOn.padEnd(9)} batch=${String(batch).padStart(5)} outstanding=${r.outstanding}: ${String(r.eventsPerSecond).padStart(7)} events/s` +
            `  ack p50 ${r.ackMs.p50} ms  p99 ${r.ackMs.p99} ms  max ${r.ackMs.max} ms  (rejected ${r.rejected}, cpu user ${r.cpuUserSeconds}s sys ${r.cpuSystemSeconds}s)`,
        );
      }
      if (labelling === null) {
        const t = performance.now();
        const res = await store.labelDue(end + 2 * 3_600_000);
        const ms = performance.now() - t;
        labelling = { decisions: res.decisions, examples: res.examples, ms: Math.round(ms), examplesPerSecond: Math.round(res.examples / (ms / 1000)) };
      }
    });
  }
  console.log(
    `logDecision: ${logDecision!.usPerCall.toFixed(2)} µs per call on the calling thread (p50 ${logDecision!.callUs.p50} µs, p99 ${logDecision!.callUs.p99} µs, max ${logDecision!.callUs.max} µs); ${DECISIONS} decisions committed in ${Math.round(logDecision!.commitMs)} ms`,
  );
  console.log(`labelDue: ${labelling!.decisions} decisions -> ${labelling!.examples} examples in ${labelling!.ms} ms (${labelling!.examplesPerSecond} examples/s)`);
  const result = {
    date: new Date().toISOString(),
    command: `node dist/bench/events.bench.js ${process.argv.slice(2).join(' ')}`.trim(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    tmpdir: os.tmpdir(),
    decisions: DECISIONS,
    traffics: TRAFFICS,
    window: WINDOW,
    eventsPerDecision: EVENTS_PER_DECISION,
    shownPerDecision: SHOWN,
    loadAverageAtEnd: os.loadavg(),
    logDecision,
    ingest,
    labelling,
  };
  await mkdir(path.dirname(OUT), { recursive: true });
  await writeFile(OUT, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${OUT}`);
}

await main();
