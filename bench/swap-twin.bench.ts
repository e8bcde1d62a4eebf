/**
 * Does a server that has made N model swaps serve worse than one that has not? Measured against a twin, in
 * one run, so that this VM's drift (P99 moved 1.5x between phases with nothing changed) lands on both sides:
 *
 *   two txrank servers, A and B, each in its own process over its own copy of the same catalog (same seed),
 *   each with the same two alternate versions registered; two load generator processes, one per server.
 *
 *   1. before:  A and B served in turn, one at a time, at --rate, in --windows windows of --window-ms
 *               (ABBA order); P99 of A / P99 of B is the twins' own difference;
 *   2. creep:   --swaps operator pins on A (one every --creep-interval-ms), while both serve --creep-rate;
 *               per block of --block swaps, each one's P99 and worker time and memory;
 *   3. after:   phase 1 again. What the swaps left behind is the after ratio over the before ratio; what
 *               they left in memory is A's growth minus B's over the creep, by owner (memory-split.ts).
 *
 *   npm run bench:swap-twin [-- --offers 10000 --rate 1000 --swaps 1000 --window-ms 5000 --windows 8]
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decodeHistogram, mergeHistograms, newHistogram, summarize, type Histogram, type LatencySummary } from './load/histogram.js';
import type { LoadConfig } from './load/loadgen.js';
import { LoadgenClient } from './load/loadgen-client.js';
import { memorySplit, type MemorySplit } from './load/memory-split.js';
import { readProc, readRssSplit, readRunQueueWaitMs } from './load/proc-stats.js';
import { readHeaps, scrape, split, type MetricSums, type PhaseSplit, type ThreadHeaps } from './load/server-http.js';
import { prepareCatalog, removeCatalog, type PreparedCatalog } from './load/servers.js';
import { startSwapTarget, swapLoad, type SwapTarget } from './load/swap-target.js';
import { factorSlope, leftBehindP99, slope } from './load/twin-stats.js';
import { defaultDataDir, generateTraffic, writeTraffic } from './load/traffic.js';

const { values } = parseArgs({
  options: {
    offers: { type: 'string', default: '10000' },
    // Phases 1 and 3: the rate each server gets in its own windows, and the windows (an even count, ABBA).
    rate: { type: 'string', default: '1000' },
    'window-ms': { type: 'string', default: '5000' },
    windows: { type: 'string', default: '8' },
    swaps: { type: 'string', default: '1000' },
    'creep-interval-ms': { type: 'string', default: '100' },
    'creep-rate': { type: 'string', default: '200' },
    block: { type: 'string', default: '100' },
    // A control run: the same schedule, load and readings, but A is never pinned. Its "left behind" and creep
    // figures are what the method reads when the swaps have no effect at all.
    sham: { type: 'boolean', default: false },
    name: { type: 'string', default: 'swap-twin' },
  },
});
const OFFERS = Number(values.offers);
const RATE = Number(values.rate);
const WINDOW_MS = Number(values['window-ms']);
const WINDOWS = Math.max(2, Math.round(Number(values.windows) / 2) * 2);
const SWAPS = Number(values.swaps);
const INTERVAL_MS = Number(values['creep-interval-ms']);
const CREEP_RATE = Number(values['creep-rate']);
const BLOCK = Number(values.block);
const SHAM = values.sham === true;
/** Requests of a window's first second are sent but not measured: each window opens fresh connections. */
const WINDOW_WARMUP_MS = 1000;

type Side = 'A' | 'B';
interface Twin {
  side: Side;
  cat: PreparedCatalog;
  target: SwapTarget;
  lg: LoadgenClient;
}

/** One side's figures over a phase or a block. */
interface SideFigures {
  latency: LatencySummary;
  serverUs: LatencySummary;
  sendLagP99: number;
  errors: Record<string, number>;
  where: PhaseSplit;
}

/** One side's figures over a before or after phase, with each window's own P99 (the unit of its interval). */
type PhaseFigures = SideFigures & { windowP99: number[] };

/** One server's memory: anonymous RSS, its owners (memory-split.ts), and the V8 heaps by thread. */
type Memory = MemorySplit & ThreadHeaps & { anonMb: number };

interface Block {
  /** Pins scheduled by the end of this block (the same in a sham run, where none is made). */
  at: number;
  swaps: number;
  pinP50Ms: number;
  A: SideFigures & { cpu: number; mainWaitMsPerS: number; memory: Memory };
  B: SideFigures & { cpu: number; mainWaitMsPerS: number; memory: Memory };
}

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
/** V8 heaps committed, MB: main + workers + manager + trainer. */
const heapsOf = (m: Memory): string => `${Math.round(m.mainMb)} + ${Math.round(m.workersMb)} + ${Math.round(m.managerMb)} + ${Math.round(m.trainerMb)}`;

async function main(): Promise<void> {
  if (process.platform !== 'linux') throw new Error('this benchmark reads /proc (Linux only)');
  // Same seed: the twins serve byte-identical catalogs.
  const cats = [await prepareCatalog(OFFERS, 1), await prepareCatalog(OFFERS, 1)];
  const trafficFile = join(cats[0].root, 'traffic.jsonl');
  await writeTraffic(trafficFile, await generateTraffic(5000, 1, defaultDataDir()));
  // Started one after the other, so that neither's start-up (catalog load, first view builds) slows the other's.
  const twins: Twin[] = [];
  try {
    for (const [i, side] of (['A', 'B'] as const).entries()) {
      twins.push({ side, cat: cats[i], target: await startSwapTarget(cats[i], `swap-twin-${side}`), lg: await LoadgenClient.start() });
    }
    await measure(twins[0], twins[1], trafficFile);
  } finally {
    for (const t of twins) {
      t.lg.close();
      await t.target.server.stop();
    }
    for (const c of cats) await removeCatalog(c);
  }
}

async function measure(A: Twin, B: Twin, trafficFile: string): Promise<void> {
  const serverAllocator = A.target.server.allocator;
  const config = (t: Twin, rate: number, durationMs: number, warmupMs: number): LoadConfig => swapLoad(t.cat, t.target.server.url, rate, durationMs, warmupMs);

  console.log(`swap twin: ${OFFERS} offers; A gets ${SHAM ? `no swaps (sham run; ${SWAPS} scheduled)` : `${SWAPS} swaps`}, B none`);
  const before = await alternate(A, B, config, trafficFile);
  console.log(`before: P99 A ${before.A.latency.p99} ms, B ${before.B.latency.p99} ms`);

  // Creep: both twins serve the same light load at the same time; only A is pinned back and forth.
  const blocks: Block[] = [];
  const latency: Record<Side, Histogram[]> = { A: [], B: [] };
  let flip = 0;
  const memoryAt = async (t: Twin): Promise<Memory> => ({
    ...(memorySplit(t.target.server.pid) ?? { mainHeapMb: NaN, arenasMb: NaN, otherAnonMb: NaN }),
    ...(await readHeaps(t.target.http, t.target.admin)),
    anonMb: readRssSplit(t.target.server.pid).anonMb,
  });
  const memoryStart = { A: await memoryAt(A), B: await memoryAt(B) };
  for (let done = 0; done < SWAPS; done += BLOCK) {
    const n = Math.min(BLOCK, SWAPS - done);
    const m0 = { A: await scrape(A.target.http), B: await scrape(B.target.http) };
    const cpu0 = { A: readProc(A.target.server.pid), B: readProc(B.target.server.pid) };
    // The main thread's time runnable but waiting for a CPU: tells a main thread crowded by the process's
    // other threads from one that has more to do.
    const mainWait = (t: Twin): number => readRunQueueWaitMs(t.target.server.pid, t.target.server.pid) ?? NaN;
    const wait0 = { A: mainWait(A), B: mainWait(B) };
    const t0 = performance.now();
    const durationMs = n * INTERVAL_MS + 1000;
    const loads = [A, B].map((t) => t.lg.run(config(t, CREEP_RATE, durationMs, 500), trafficFile));
    const pins: number[] = [];
    let ok = 0;
    for (let i = 0; i < n; i++) {
      if (!SHAM) {
        const p0 = performance.now();
        const res = await A.target.pin(A.target.versions[flip++ % 2]);
        pins.push(performance.now() - p0);
        if (res.status === 200) ok++;
      }
      await new Promise((r) => setTimeout(r, INTERVAL_MS));
    }
    const [ra, rb] = await Promise.all(loads);
    const seconds = (performance.now() - t0) / 1000;
    const side = async (t: Twin, r: typeof ra, m: MetricSums, c0: ReturnType<typeof readProc>) => {
      const h = decodeHistogram(r.latency);
      latency[t.side].push(h);
      const c1 = readProc(t.target.server.pid);
      return {
        latency: summarize(h),
        serverUs: summarize(decodeHistogram(r.serverUs)),
        sendLagP99: summarize(decodeHistogram(r.sendLag)).p99,
        errors: r.errors,
        where: split(m, await scrape(t.target.http), seconds),
        cpu: c0 && c1 ? Math.round(((c1.cpuMs - c0.cpuMs) / (c1.atMs - c0.atMs)) * 100) : NaN,
        mainWaitMsPerS: round((mainWait(t) - wait0[t.side]) / seconds),
        memory: await memoryAt(t),
      };
    };
    pins.sort((a, b) => a - b);
    // BENCH_SMAPS_DIR: keep both servers' /proc/<pid>/smaps after every block, to tell which mappings differ.
    const smapsDir = process.env.BENCH_SMAPS_DIR;
    if (smapsDir) {
      mkdirSync(smapsDir, { recursive: true });
      for (const t of [A, B]) writeFileSync(join(smapsDir, `${t.side}-block-${blocks.length + 1}.smaps`), readFileSync(`/proc/${t.target.server.pid}/smaps`));
    }
    blocks.push({ at: done + n, swaps: ok, pinP50Ms: round(pins[Math.floor(pins.length / 2)] ?? NaN), A: await side(A, ra, m0.A, cpu0.A), B: await side(B, rb, m0.B, cpu0.B) });
    const b = blocks.at(-1) as Block;
    console.log(
      `block ${blocks.length}: ${done + n} swaps; P99 A ${b.A.latency.p99} / B ${b.B.latency.p99} ms; worker µs A ${b.A.where.workerUs} / B ${b.B.where.workerUs}; anon MB A ${b.A.memory.anonMb} / B ${b.B.memory.anonMb}; V8 heaps MB main/workers/manager/trainer A ${heapsOf(b.A.memory)} B ${heapsOf(b.B.memory)}; errors ${JSON.stringify(b.A.errors)} ${JSON.stringify(b.B.errors)}`,
    );
  }
  const swapsDone = blocks.reduce((a, b) => a + b.swaps, 0);

  const after = await alternate(A, B, config, trafficFile);
  console.log(`after ${swapsDone} swaps: P99 A ${after.A.latency.p99} ms, B ${after.B.latency.p99} ms`);

  // Verdicts. Phases: A over B after, divided by A over B before. Creep blocks: the same ratio in the first
  // and the last third, requests pooled per side (one block's P99 rests on ~20 requests).
  const ratio = (x: { A: SideFigures; B: SideFigures }) => ({
    p99: x.A.latency.p99 / x.B.latency.p99,
    p50: x.A.latency.p50 / x.B.latency.p50,
    serverP50: x.A.serverUs.p50 / x.B.serverUs.p50,
    workerUs: x.A.where.workerUs / x.B.where.workerUs,
  });
  const r0 = ratio(before);
  const r1 = ratio(after);
  const third = Math.max(1, Math.floor(blocks.length / 3));
  const pooled = (part: Histogram[]) => summarize(mergeHistograms(part)).p99;
  const creep = {
    firstA: pooled(latency.A.slice(0, third)),
    firstB: pooled(latency.B.slice(0, third)),
    lastA: pooled(latency.A.slice(-third)),
    lastB: pooled(latency.B.slice(-third)),
  };
  const creepRatio = creep.lastA / creep.lastB / (creep.firstA / creep.firstB);
  const last = blocks.at(-1);
  const grow = (s: Side, k: keyof Memory): number => round((last?.[s].memory[k] ?? NaN) - memoryStart[s][k], 0);
  const memoryRows = {
    anonMb: 'anonymous, all',
    mainHeapMb: 'main malloc heap',
    arenasMb: 'thread malloc arenas',
    otherAnonMb: 'other anonymous',
    mainMb: 'V8 heap committed: main thread',
    workersMb: 'V8 heap committed: inference workers',
    managerMb: 'V8 heap committed: model manager',
    trainerMb: 'V8 heap committed: trainer',
  } as const;
  const memoryKeys = Object.keys(memoryRows) as (keyof typeof memoryRows)[];
  const memory = Object.fromEntries(memoryKeys.map((k) => [k, { A: grow('A', k), B: grow('B', k), swapsShare: grow('A', k) - grow('B', k) }]));

  // Intervals (twin-stats.ts). Creep: the slope of log(A/B P99) over the blocks, as a factor per 1,000 swaps.
  // Memory: the slope of A - B anonymous memory, over all blocks and over the second half alone (after the
  // working set of a view under construction is reached).
  const at = blocks.map((b) => b.at);
  const swapsMb = blocks.map((b) => b.A.memory.anonMb - b.B.memory.anonMb);
  const half = Math.floor(blocks.length / 2);
  const intervals = {
    leftBehindP99: leftBehindP99({ A: before.A.windowP99, B: before.B.windowP99 }, { A: after.A.windowP99, B: after.B.windowP99 }),
    creepP99Per1000: factorSlope(at, blocks.map((b) => b.A.latency.p99 / b.B.latency.p99), 1000),
    memoryMbPer1000: slope(at, swapsMb, 1000),
    memoryMbPer1000SecondHalf: slope(at.slice(half), swapsMb.slice(half), 1000),
  };

  const report = {
    date: new Date().toISOString(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, allocator: serverAllocator },
    offers: OFFERS,
    rate: RATE,
    windowMs: WINDOW_MS,
    windows: WINDOWS,
    swaps: swapsDone,
    before,
    after,
    ratioBefore: r0,
    ratioAfter: r1,
    leftBehind: { p99: r1.p99 / r0.p99, p50: r1.p50 / r0.p50, serverP50: r1.serverP50 / r0.serverP50, workerUs: r1.workerUs / r0.workerUs },
    sham: SHAM,
    creep: { blocksPooled: third, ...creep, ratio: creepRatio },
    intervals,
    memoryStart,
    memory,
    blocks,
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/${values.name}.json`, JSON.stringify(report, null, 2));

  const x = (v: number): string => `${v.toFixed(2)}x`;
  const phaseRow = (name: string, s: SideFigures) =>
    `| ${name} | ${s.latency.p50} | ${s.latency.p99} | ${s.latency.p999} | ${s.sendLagP99} | ${s.serverUs.p50} | ${s.serverUs.p99} | ${s.where.queueUs} / ${s.where.handoffUs} / ${s.where.workerUs} | ${s.latency.count} | ${JSON.stringify(s.errors)} |`;
  const md = [
    SHAM
      ? `# Sham run: A and its twin over the same schedule, neither swapped (${report.date.slice(0, 10)})`
      : `# A server after ${swapsDone} model swaps against its twin without (${report.date.slice(0, 10)})`,
    '',
    `${OFFERS} offers per server; ${report.machine.cores} cores (${report.machine.cpu}), Node ${report.machine.node}; servers' malloc: ${serverAllocator}. Phases before and after: each server alone in its own windows of ${WINDOW_MS} ms at ${RATE}/s (open loop, 16 connections, first ${WINDOW_WARMUP_MS} ms of each window not measured), ${WINDOWS} windows in ABBA order. Creep: ${SHAM ? `no pins (sham; ${blocks.at(-1)?.at ?? 0} scheduled)` : `${swapsDone} pins on A`}, one every ${INTERVAL_MS} ms, both serving ${CREEP_RATE}/s meanwhile.`,
    '',
    '| phase, server | P50 ms | P99 ms | P99.9 ms | P99 send lag ms | server-side P50 ms | server-side P99 ms | per pool task, mean µs: queue / hand-off / worker | requests | errors |',
    '|---|---|---|---|---|---|---|---|---|---|',
    phaseRow('before, A', before.A),
    phaseRow('before, B', before.B),
    phaseRow(`after, A (${swapsDone} swaps)`, after.A),
    phaseRow('after, B (no swaps)', after.B),
    '',
    '| A / B | P99 | P50 | server-side P50 | worker µs per task |',
    '|---|---|---|---|---|',
    `| before | ${x(r0.p99)} | ${x(r0.p50)} | ${x(r0.serverP50)} | ${x(r0.workerUs)} |`,
    `| after | ${x(r1.p99)} | ${x(r1.p50)} | ${x(r1.serverP50)} | ${x(r1.workerUs)} |`,
    `| **left behind by the swaps** (after / before) | **${x(report.leftBehind.p99)}** | ${x(report.leftBehind.p50)} | ${x(report.leftBehind.serverP50)} | ${x(report.leftBehind.workerUs)} |`,
    '',
    `Creep blocks, P99 pooled over the first ${third} and the last ${third} blocks: A ${creep.firstA} -> ${creep.lastA} ms, B ${creep.firstB} -> ${creep.lastB} ms; A/B ${x(creep.firstA / creep.firstB)} -> ${x(creep.lastA / creep.lastB)} = **${x(creepRatio)}**.`,
    '',
    '| with a 95% bootstrap interval | estimate | interval |',
    '|---|---|---|',
    `| P99 left behind (windows' log P99, difference in differences) | ${x(intervals.leftBehindP99.estimate)} | ${x(intervals.leftBehindP99.lo)} - ${x(intervals.leftBehindP99.hi)} |`,
    `| creep: A/B P99 per 1,000 swaps (slope over the blocks) | ${x(intervals.creepP99Per1000.estimate)} | ${x(intervals.creepP99Per1000.lo)} - ${x(intervals.creepP99Per1000.hi)} |`,
    `| A - B anonymous memory, MB per 1,000 swaps, all blocks | ${round(intervals.memoryMbPer1000.estimate)} | ${round(intervals.memoryMbPer1000.lo)} - ${round(intervals.memoryMbPer1000.hi)} |`,
    `| the same, second half of the blocks | ${round(intervals.memoryMbPer1000SecondHalf.estimate)} | ${round(intervals.memoryMbPer1000SecondHalf.lo)} - ${round(intervals.memoryMbPer1000SecondHalf.hi)} |`,
    '',
    '| memory over the creep, MB | A (swaps) | B (none) | the swaps\' share (A - B) |',
    '|---|---|---|---|',
    ...memoryKeys.map((k) => `| ${memoryRows[k]} | ${memory[k].A} | ${memory[k].B} | **${memory[k].swapsShare}** |`),
    '',
    `| block | swaps | pin P50 ms | P99 ms A / B | server-side P50 ms A / B | worker µs A / B | main loop delay P99 ms A / B | main thread waiting for a CPU, ms/s, A / B | CPU A / B | anonymous MB A / B | arenas MB A / B | V8 heaps committed MB, main + workers + manager + trainer, A / B | errors A / B |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...blocks.map(
      (b, i) =>
        `| ${i + 1} | ${b.swaps} | ${b.pinP50Ms} | ${b.A.latency.p99} / ${b.B.latency.p99} | ${b.A.serverUs.p50} / ${b.B.serverUs.p50} | ${b.A.where.workerUs} / ${b.B.where.workerUs} | ${b.A.where.loopP99Ms} / ${b.B.where.loopP99Ms} | ${b.A.mainWaitMsPerS} / ${b.B.mainWaitMsPerS} | ${b.A.cpu}% / ${b.B.cpu}% | ${b.A.memory.anonMb} / ${b.B.memory.anonMb} | ${b.A.memory.arenasMb} / ${b.B.memory.arenasMb} | ${heapsOf(b.A.memory)} / ${heapsOf(b.B.memory)} | ${JSON.stringify(b.A.errors)} / ${JSON.stringify(b.B.errors)} |`,
    ),
  ].join('\n');
  writeFileSync(`bench/results/${values.name}.md`, md + '\n');
  console.log(md);
}

/** Phases 1 and 3: each twin alone in its windows, ABBA, every window's requests pooled per side. */
async function alternate(
  A: Twin,
  B: Twin,
  config: (t: Twin, rate: number, durationMs: number, warmupMs: number) => LoadConfig,
  trafficFile: string,
): Promise<Record<Side, PhaseFigures>> {
  const hist: Record<Side, { latency: Histogram[]; serverUs: Histogram[]; sendLag: Histogram[] }> = {
    A: { latency: [], serverUs: [], sendLag: [] },
    B: { latency: [], serverUs: [], sendLag: [] },
  };
  const errors: Record<Side, Record<string, number>> = { A: {}, B: {} };
  const sums: Record<Side, { a: MetricSums; b: MetricSums; seconds: number }[]> = { A: [], B: [] };
  for (let w = 0; w < WINDOWS; w++) {
    // ABBA: A B | B A | A B | ...
    const t = w % 4 === 0 || w % 4 === 3 ? A : B;
    const m0 = await scrape(t.target.http);
    const t0 = performance.now();
    const r = await t.lg.run(config(t, RATE, WINDOW_MS + WINDOW_WARMUP_MS, WINDOW_WARMUP_MS), trafficFile);
    sums[t.side].push({ a: m0, b: await scrape(t.target.http), seconds: (performance.now() - t0) / 1000 });
    hist[t.side].latency.push(decodeHistogram(r.latency));
    hist[t.side].serverUs.push(decodeHistogram(r.serverUs));
    hist[t.side].sendLag.push(decodeHistogram(r.sendLag));
    for (const [k, v] of Object.entries(r.errors)) errors[t.side][k] = (errors[t.side][k] ?? 0) + v;
  }
  const figures = (s: Side): PhaseFigures => {
    // The pool split over the side's windows: sums of each window's differences.
    const total: MetricSums = {};
    let seconds = 0;
    for (const w of sums[s]) {
      for (const [k, v] of Object.entries(w.b)) {
        // Event-loop delay is a gauge over the window (reset at each scrape): the side keeps its worst window.
        if (k.startsWith('txrank_process_nodejs_eventloop_lag_')) total[k] = Math.max(total[k] ?? 0, v);
        else total[k] = (total[k] ?? 0) + v - (w.a[k] ?? 0);
      }
      seconds += w.seconds;
    }
    return {
      latency: summarize(mergeHistograms(hist[s].latency.length ? hist[s].latency : [newHistogram()])),
      windowP99: hist[s].latency.map((h) => summarize(h).p99),
      serverUs: summarize(mergeHistograms(hist[s].serverUs)),
      sendLagP99: summarize(mergeHistograms(hist[s].sendLag)).p99,
      errors: errors[s],
      where: split({}, total, seconds),
    };
  };
  return { A: figures('A'), B: figures('B') };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
