/**
 * Model hot swaps under load, measured from a separate load-generator process over real WebSockets:
 *
 *   1. steady:   open-loop load at --rate for --seconds, no swaps;
 *   2. swapping: the same load while the serving model changes every --swap-every-ms (an operator pin to the
 *                other of two registered versions: each pin is a new generation that every worker loads,
 *                builds its offer side for and swaps in between tasks);
 *   3. creep:    --swaps consecutive swaps, --creep-interval-ms apart, under light load (--creep-rate), the
 *                P99 and the server's RSS reported per block of 100 swaps: latency must not creep and memory
 *                must not grow with the number of swaps.
 *
 * Target: P99 while swapping every second <= 1.2 x steady P99.
 *
 *   npm run bench:swap [-- --offers 10000 --rate 1000 --seconds 20 --swaps 1000 --creep-interval-ms 100]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { parseArgs, promisify } from 'node:util';
import { OFFER_DIM, TXN_DIM } from '../src/features/spec.js';
import { initWeights } from '../src/learning/two-tower.js';
import { modelVersionFor, writeModelDir } from '../src/model/onnx-export.js';
import { decodeHistogram, newHistogram, summarize, type LatencySummary } from './load/histogram.js';
import type { LoadConfig, LoadResult } from './load/loadgen.js';
import type { FromLoadgen, ToLoadgen } from './load/loadgen-process.js';
import { readProc } from './load/proc-stats.js';
import { DEMO_PLACEMENT, prepareCatalog, startTxrank } from './load/servers.js';
import { defaultDataDir, generateTraffic, writeTraffic } from './load/traffic.js';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    offers: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    'swap-every-ms': { type: 'string', default: '1000' },
    swaps: { type: 'string', default: '1000' },
    'creep-interval-ms': { type: 'string', default: '100' },
    'creep-rate': { type: 'string', default: '200' },
    name: { type: 'string', default: 'swap' },
    // Control run: the same creep blocks without swapping, to tell swap effects from drift of the run itself.
    'creep-swaps': { type: 'string', default: 'true' },
    // Fast iteration: skip the steady and swap-every-second phases and run only the creep blocks.
    'skip-steady': { type: 'boolean', default: false },
    // Swaps per creep block (the P99 and RSS are reported per block).
    block: { type: 'string', default: '100' },
  },
});
const OFFERS = Number(values.offers);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);

class Loadgen {
  private seq = 0;
  private readonly waiters = new Map<number, (r: LoadResult) => void>();
  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: FromLoadgen) => {
      if (m.type === 'result') this.waiters.get(m.seq)?.(m.result);
      if (m.type === 'failed') throw new Error(`load generator: ${m.message}`);
    });
  }
  static async start(): Promise<Loadgen> {
    const child = fork(new URL('./load/loadgen-process.js', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((r) => child.once('message', () => r()));
    return new Loadgen(child);
  }
  run(config: LoadConfig, trafficFile: string): Promise<LoadResult> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.waiters.set(seq, resolve);
      this.child.send({ type: 'run', seq, config, trafficFile } satisfies ToLoadgen);
    });
  }
  close(): void {
    this.child.send({ type: 'exit' } satisfies ToLoadgen);
  }
}

async function main(): Promise<void> {
  const cat = await prepareCatalog(OFFERS);
  const { stdout } = await run(process.execPath, ['dist/src/cli/keys.js', 'mint', '--admin', '--data', cat.dataDir]);
  const adminKey = stdout.trim().split('\n').pop() ?? '';
  const traffic = await generateTraffic(5000, 1, defaultDataDir());
  const trafficFile = join(cat.root, 'traffic.jsonl');
  await writeTraffic(trafficFile, traffic);
  const server = await startTxrank(cat, ['--learning', 'true', '--export-every-seconds', '86400', '--export-every-examples', '100000000']);
  const http = `http://127.0.0.1:${server.port}`;
  const admin = { authorization: `Bearer ${adminKey}` };
  // Two extra versions to alternate between, registered by dropping them into the registry directory.
  const versions: string[] = [];
  for (const seed of [101, 102]) {
    const w = initWeights({ txn: TXN_DIM, offer: OFFER_DIM, hidden: 32, embed: 16 }, seed);
    const v = modelVersionFor(w);
    await writeModelDir(join(cat.dataDir, 'models', v), w, { parent: null, createdAt: '2026-01-01T00:00:00.000Z', training: { bench: 'swap' }, metrics: {} });
    versions.push(v);
  }
  // Pin first (nothing is promoted automatically), then wait until the registry knows both versions.
  await post(`${http}/admin/models/pin`, admin, {});
  for (let i = 0; i < 100; i++) {
    const reg = (await (await fetch(`${http}/admin/models`, { headers: admin })).json()) as { entries: { version: string }[] };
    if (versions.every((v) => reg.entries.some((e) => e.version === v))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  let flip = 0;
  let swapsDone = 0;
  const swap = async () => {
    const v = versions[flip++ % 2];
    const res = await post(`${http}/admin/models/pin`, admin, { version: v });
    if (res.status === 200) swapsDone++;
  };

  const lg = await Loadgen.start();
  const base: LoadConfig = {
    url: server.url,
    key: cat.key,
    tenant: cat.tenant,
    placement: DEMO_PLACEMENT,
    k: 3,
    format: 'msgpack',
    mode: 'open',
    connections: 16,
    depth: 64,
    rate: RATE,
    durationMs: SECONDS * 1000,
    warmupMs: 2000,
    drainMs: 3000,
  };
  const summary = (r: LoadResult) => ({ latency: summarize(decodeHistogram(r.latency)), serverUs: summarize(decodeHistogram(r.serverUs)), errors: r.errors, throughput: r.throughput, loadgenCpu: r.cpuPercent });

  console.log(`swap bench: ${OFFERS} offers, steady ${RATE}/s for ${SECONDS} s`);
  const skipped = { latency: summarize(newHistogram()), serverUs: summarize(newHistogram()), errors: {}, throughput: 0, loadgenCpu: 0 };
  const steady = values['skip-steady'] ? skipped : summary(await lg.run(base, trafficFile));
  console.log(`steady:   P50 ${steady.latency.p50} P99 ${steady.latency.p99} P99.9 ${steady.latency.p999} ms, errors ${JSON.stringify(steady.errors)}`);

  const before = swapsDone;
  let swapping = skipped;
  if (!values['skip-steady']) {
    const timer = setInterval(() => void swap(), Number(values['swap-every-ms']));
    swapping = summary(await lg.run(base, trafficFile));
    clearInterval(timer);
  }
  const swapsDuring = swapsDone - before;
  console.log(`swapping: P50 ${swapping.latency.p50} P99 ${swapping.latency.p99} P99.9 ${swapping.latency.p999} ms, errors ${JSON.stringify(swapping.errors)}, ${swapsDuring} swaps`);

  // Creep: blocks of --block swaps under light load.
  const blocks: { swaps: number; latency: LatencySummary; errors: Record<string, number>; rssMb: number; anonMb: number; fileMb: number }[] = [];
  const totalSwaps = Number(values.swaps);
  const interval = Number(values['creep-interval-ms']);
  const blockSize = Number(values.block);
  for (let done = 0; done < totalSwaps; done += blockSize) {
    const n = Math.min(blockSize, totalSwaps - done);
    const blockStart = swapsDone;
    const load = lg.run({ ...base, rate: Number(values['creep-rate']), durationMs: n * interval + 1000, warmupMs: 500 }, trafficFile);
    for (let i = 0; i < n; i++) {
      if (values['creep-swaps'] !== 'false') await swap();
      await new Promise((r) => setTimeout(r, interval));
    }
    const r = summary(await load);
    const rss = readProc(server.pid)?.rssKb ?? 0;
    const split = rssSplit(server.pid);
    blocks.push({ swaps: swapsDone - blockStart, latency: r.latency, errors: r.errors, rssMb: Math.round(rss / 1024), ...split });
    console.log(`creep block ${blocks.length}: ${swapsDone} swaps so far, P99 ${r.latency.p99} ms, errors ${JSON.stringify(r.errors)}, RSS ${Math.round(rss / 1024)} MB (anon ${split.anonMb}, file ${split.fileMb})`);
  }
  lg.close();
  await server.stop();

  const report = {
    date: new Date().toISOString(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    offers: OFFERS,
    rate: RATE,
    steady,
    swapping: { ...swapping, swaps: swapsDuring },
    p99Ratio: swapping.latency.p99 / steady.latency.p99,
    creep: blocks,
    totalSwaps: swapsDone,
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/${values.name}.json`, JSON.stringify(report, null, 2));
  const md = [
    `# Model swaps under load (${report.date.slice(0, 10)})`,
    '',
    `${OFFERS} offers, open loop ${RATE}/s from a separate process, 16 connections; ${report.machine.cores} cores (${report.machine.cpu}), Node ${report.machine.node}.`,
    '',
    '| phase | P50 ms | P99 ms | P99.9 ms | max ms | errors | load generator CPU |',
    '|---|---|---|---|---|---|---|',
    `| steady | ${steady.latency.p50} | ${steady.latency.p99} | ${steady.latency.p999} | ${steady.latency.max} | ${JSON.stringify(steady.errors)} | ${steady.loadgenCpu.toFixed(0)}% |`,
    `| swap every ${values['swap-every-ms']} ms (${swapsDuring} swaps) | ${swapping.latency.p50} | ${swapping.latency.p99} | ${swapping.latency.p999} | ${swapping.latency.max} | ${JSON.stringify(swapping.errors)} | ${swapping.loadgenCpu.toFixed(0)}% |`,
    '',
    `P99 while swapping / steady P99 = **${report.p99Ratio.toFixed(2)}x** (target <= 1.2x).`,
    '',
    `Creep: ${swapsDone} swaps in total; per block of ${blockSize} swaps at ${values['creep-rate']}/s:`,
    '',
    '| block | swaps | P99 ms | errors | server RSS MB after | of which anonymous | of which file-backed (LMDB maps) |',
    '|---|---|---|---|---|---|---|',
    ...blocks.map((b, i) => `| ${i + 1} | ${b.swaps} | ${b.latency.p99} | ${JSON.stringify(b.errors)} | ${b.rssMb} | ${b.anonMb} | ${b.fileMb} |`),
  ].join('\n');
  writeFileSync(`bench/results/${values.name}.md`, md + '\n');
  console.log(md);
}

/**
 * RSS split (Linux): anonymous (JS heaps, ONNX Runtime, malloc) versus file-backed (LMDB's memory maps, whose
 * pages count once touched, so the decision log written during a run shows up here, not as a leak).
 */
function rssSplit(pid: number): { anonMb: number; fileMb: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(status)?.[1] ?? 0);
    return { anonMb: Math.round(kb('RssAnon') / 1024), fileMb: Math.round((kb('RssFile') + kb('RssShmem')) / 1024) };
  } catch {
    return { anonMb: 0, fileMb: 0 };
  }
}

/** POSTs and reads the whole answer: an unread body keeps undici's connection busy, so every later request
 * would open a new one (connection churn in this process and the server's, growing with the swap count). */
async function post(url: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
