/**
 * Where the P99 of requests served while one server swaps models goes, block by block. The twin benchmark
 * (swap-twin.bench.ts) says whether a swapping server's P99 creeps against a twin; this one says where a
 * creep sits, in about 2.5 minutes per 1,000 swaps, with no twin:
 *
 *   one txrank server (learning on, exporting nothing) and one load generator process at --rate (open loop);
 *   a pin to the other of two registered versions every --interval-ms (none with --sham); per block of --block
 *   swaps:
 *     - client P99 and the server's own P99 (server_us: from frame read to the reply encoded in the worker);
 *     - the slowest 1.5% of requests, split into the generator's send lag, server_us, and the rest (the reply's
 *       way back from the worker to the main thread, the write, and the generator's read);
 *     - pool tasks whose admission-queue, worker or hand-off part took more than 2 and 5 ms (the buckets of
 *       txrank_pool_task_seconds);
 *     - the server's CPU, its threads' time waiting for a CPU (run queue), and its main thread's;
 *     - a fixed CPU loop timed in a fresh process between blocks: how fast this VM was then.
 *
 * One server, so the machine's drift is not cancelled: compare swap runs with --sham runs taken alternately,
 * and with the twin. The trend is the slope of log P99 over the blocks, per 1,000 swaps, with a bootstrap
 * interval (twin-stats.ts).
 *
 *   npm run bench:swap-probe [-- --swaps 1000 --block 100 --interval-ms 100 --rate 200 --offers 10000 --sham --name swap-probe]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeHistogram, summarize } from './load/histogram.js';
import type { RequestSample } from './load/loadgen.js';
import { LoadgenClient } from './load/loadgen-client.js';
import { readProc, readRunQueueWaitMs } from './load/proc-stats.js';
import { scrape, split, taskBuckets, taskTails, type TaskTails } from './load/server-http.js';
import { prepareCatalog, removeCatalog } from './load/servers.js';
import { startSwapTarget, swapLoad } from './load/swap-target.js';
import { defaultDataDir, generateTraffic, writeTraffic } from './load/traffic.js';
import { factorSlope, type Interval } from './load/twin-stats.js';

const { values } = parseArgs({
  options: {
    offers: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '200' },
    swaps: { type: 'string', default: '1000' },
    block: { type: 'string', default: '100' },
    'interval-ms': { type: 'string', default: '100' },
    sham: { type: 'boolean', default: false },
    name: { type: 'string', default: 'swap-probe' },
  },
});
const OFFERS = Number(values.offers);
const RATE = Number(values.rate);
const SWAPS = Number(values.swaps);
const BLOCK = Number(values.block);
const INTERVAL_MS = Number(values['interval-ms']);
const SHAM = values.sham === true;
/** The share of each block's slowest requests whose time is split into its parts. */
const SLOWEST = 0.015;

interface BlockFigures {
  swaps: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  serverP99Ms: number;
  /** Means over the block's slowest SLOWEST of requests, ms. */
  slowest: { latencyMs: number; sendLagMs: number; serverMs: number; restMs: number };
  tasks: number;
  tails: TaskTails;
  workerUs: number;
  loopP99Ms: number;
  /** ms of CPU per second: the server process. */
  serverCpuMsPerS: number;
  /** ms per second runnable but waiting for a CPU: all the server's threads, and its main thread. */
  runQueueMsPerS: number;
  mainRunQueueMsPerS: number;
  pinP50Ms: number;
  /** A fixed loop in a fresh process, ms (mean of one before and one after the block). */
  calibrationMs: number;
  errors: Record<string, number>;
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/** The same fixed loop each time, in a fresh process so that no JIT state carries over: the VM's speed. */
function calibrate(): number {
  const code = 'const t0 = performance.now(); let x = 0; for (let i = 0; i < 2e7; i++) x = (x * 1664525 + 1013904223) % 4294967296; console.log(performance.now() - t0 + (x < 0 ? 1 : 0))';
  return Number(execFileSync(process.execPath, ['-e', code], { encoding: 'utf8' }));
}

function slowestSplit(samples: readonly RequestSample[]): BlockFigures['slowest'] {
  const answered = samples.filter((s) => s.code === 'decision').map((s) => ({ latency: s.answeredMs - s.intendedMs, lag: s.sentMs - s.intendedMs, server: (s.serverUs ?? 0) / 1000 }));
  answered.sort((x, y) => x.latency - y.latency);
  const slow = answered.slice(Math.floor(answered.length * (1 - SLOWEST)));
  const mean = (f: (x: (typeof slow)[number]) => number): number => (slow.length ? round(slow.reduce((acc, x) => acc + f(x), 0) / slow.length) : NaN);
  return { latencyMs: mean((x) => x.latency), sendLagMs: mean((x) => x.lag), serverMs: mean((x) => x.server), restMs: mean((x) => x.latency - x.lag - x.server) };
}

async function main(): Promise<void> {
  const cat = await prepareCatalog(OFFERS, 1);
  const trafficFile = join(cat.root, 'traffic.jsonl');
  await writeTraffic(trafficFile, await generateTraffic(5000, 1, defaultDataDir()));
  const target = await startSwapTarget(cat, 'swap-probe');
  const lg = await LoadgenClient.start();
  const pid = target.server.pid;
  const allocator = target.server.allocator;
  const blocks: BlockFigures[] = [];
  console.log(`swap probe: ${OFFERS} offers, ${RATE}/s, ${SHAM ? `no swaps (sham; ${SWAPS} scheduled)` : `${SWAPS} swaps`}, one every ${INTERVAL_MS} ms`);
  try {
    let flip = 0;
    for (let done = 0; done < SWAPS; done += BLOCK) {
      const n = Math.min(BLOCK, SWAPS - done);
      const cal0 = calibrate();
      const m0 = await scrape(target.http);
      const b0 = await taskBuckets(target.http);
      const cpu0 = readProc(pid);
      const rq0 = readRunQueueWaitMs(pid) ?? NaN;
      const rqMain0 = readRunQueueWaitMs(pid, pid) ?? NaN;
      const t0 = performance.now();
      const load = lg.run({ ...swapLoad(cat, target.server.url, RATE, n * INTERVAL_MS + 1000, 500), keepSamples: true }, trafficFile);
      const pins: number[] = [];
      let ok = 0;
      for (let i = 0; i < n; i++) {
        if (!SHAM) {
          const p0 = performance.now();
          const res = await target.pin(target.versions[flip++ % 2]);
          pins.push(performance.now() - p0);
          if (res.status === 200) ok++;
        }
        await new Promise((r) => setTimeout(r, INTERVAL_MS));
      }
      const r = await load;
      const seconds = (performance.now() - t0) / 1000;
      const cpu1 = readProc(pid);
      const where = split(m0, await scrape(target.http), seconds);
      const b1 = await taskBuckets(target.http);
      const cal1 = calibrate();
      pins.sort((a, b) => a - b);
      const latency = summarize(decodeHistogram(r.latency));
      const tasksDone = (b1.get('worker +Inf') ?? 0) - (b0.get('worker +Inf') ?? 0);
      blocks.push({
        swaps: ok,
        requests: r.measured,
        p50Ms: latency.p50,
        p99Ms: latency.p99,
        serverP99Ms: summarize(decodeHistogram(r.serverUs)).p99,
        slowest: slowestSplit(r.samples ?? []),
        tasks: tasksDone,
        tails: taskTails(b0, b1),
        workerUs: where.workerUs,
        loopP99Ms: where.loopP99Ms,
        serverCpuMsPerS: cpu0 && cpu1 ? Math.round((cpu1.cpuMs - cpu0.cpuMs) / seconds) : NaN,
        runQueueMsPerS: Math.round(((readRunQueueWaitMs(pid) ?? NaN) - rq0) / seconds),
        mainRunQueueMsPerS: Math.round(((readRunQueueWaitMs(pid, pid) ?? NaN) - rqMain0) / seconds),
        pinP50Ms: round(pins[Math.floor(pins.length / 2)] ?? NaN),
        calibrationMs: Math.round((cal0 + cal1) / 2),
        errors: r.errors,
      });
      const b = blocks.at(-1) as BlockFigures;
      console.log(
        `block ${blocks.length}: P99 ${b.p99Ms} ms (server ${b.serverP99Ms}); slowest ${SLOWEST * 100}%: lag ${b.slowest.sendLagMs} + server ${b.slowest.serverMs} + rest ${b.slowest.restMs} ms; hand-offs > 5 ms ${b.tails.handoff.over5ms}; CPU ${b.serverCpuMsPerS} ms/s; calibration ${b.calibrationMs} ms`,
      );
    }
  } finally {
    lg.close();
    await target.server.stop();
    await removeCatalog(cat);
  }

  const xs = blocks.map((_, i) => (i + 1) * BLOCK);
  const trend = (ys: number[]): Interval => factorSlope(xs, ys, 1000);
  const report = {
    date: new Date().toISOString(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, allocator },
    config: { offers: OFFERS, rate: RATE, swaps: SWAPS, block: BLOCK, intervalMs: INTERVAL_MS, sham: SHAM, slowestShare: SLOWEST },
    trend: { p99: trend(blocks.map((b) => b.p99Ms)), serverP99: trend(blocks.map((b) => b.serverP99Ms)), slowestRest: trend(blocks.map((b) => b.slowest.restMs)) },
    blocks,
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/${values.name}.json`, JSON.stringify(report, null, 2));
  const x = (i: Interval): string => `${i.estimate.toFixed(2)}x (95% ${i.lo.toFixed(2)}-${i.hi.toFixed(2)})`;
  const md = [
    SHAM ? `# Swap probe, sham: one server on the same schedule, never swapped (${report.date.slice(0, 10)})` : `# Swap probe: where P99 goes while one server swaps ${SWAPS} times (${report.date.slice(0, 10)})`,
    '',
    `${OFFERS} offers; ${report.machine.cores} cores (${report.machine.cpu}), Node ${report.machine.node}; server malloc: ${allocator}. Load ${RATE}/s open loop from a separate process; ${SHAM ? 'no pins' : `a pin every ${INTERVAL_MS} ms`}; blocks of ${BLOCK}. "Rest" is what the slowest ${SLOWEST * 100}% of requests spent outside the send lag and server_us: the reply's way back from the worker, the write and the generator's read.`,
    '',
    `Trend per 1,000 swaps (slope of log over the blocks): P99 **${x(report.trend.p99)}**; server_us P99 ${x(report.trend.serverP99)}; slowest requests' rest ${x(report.trend.slowestRest)}.`,
    '',
    '| block | swaps | P50 / P99 ms | server_us P99 ms | slowest: lag + server + rest ms | tasks | hand-off > 2 / > 5 ms | worker > 2 / > 5 ms | queue > 2 / > 5 ms | worker µs | loop P99 ms | CPU ms/s | run queue ms/s, all / main | pin P50 ms | calibration ms | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...blocks.map(
      (b, i) =>
        `| ${i + 1} | ${b.swaps} | ${b.p50Ms} / ${b.p99Ms} | ${b.serverP99Ms} | ${b.slowest.sendLagMs} + ${b.slowest.serverMs} + ${b.slowest.restMs} | ${b.tasks} | ${b.tails.handoff.over2ms} / ${b.tails.handoff.over5ms} | ${b.tails.worker.over2ms} / ${b.tails.worker.over5ms} | ${b.tails.queue.over2ms} / ${b.tails.queue.over5ms} | ${b.workerUs} | ${b.loopP99Ms} | ${b.serverCpuMsPerS} | ${b.runQueueMsPerS} / ${b.mainRunQueueMsPerS} | ${b.pinP50Ms} | ${b.calibrationMs} | ${JSON.stringify(b.errors)} |`,
    ),
  ].join('\n');
  writeFileSync(`bench/results/${values.name}.md`, md + '\n');
  console.log(`wrote bench/results/${values.name}.md`);
}

await main();
