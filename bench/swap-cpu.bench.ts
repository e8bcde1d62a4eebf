/**
 * What one model swap costs in CPU, by thread of the server, with no traffic: the server (10k offers, learning
 * loop on) is pinned alternately to two registered versions --swaps times, --gap-ms apart, and each thread's
 * CPU time is read from /proc/<pid>/task/<tid>/stat before and after (Linux only).
 *
 * Threads are told apart by what /proc shows: the main thread (tid = pid); the learning threads, by their
 * lowered nice value (--background-nice); every other thread by its CPU rank. With no traffic, the busiest
 * other threads are the inference workers (each rebuilds its scorer per swap); the rest are V8's GC helpers
 * and libuv's pool.
 *
 *   npm run build && node dist/bench/swap-cpu.bench.js [--offers 10000] [--swaps 60] [--gap-ms 250]
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readThreads } from './load/proc-stats.js';
import { prepareCatalog } from './load/servers.js';
import { startSwapTarget } from './load/swap-target.js';

const { values } = parseArgs({
  options: {
    offers: { type: 'string', default: '10000' },
    swaps: { type: 'string', default: '60' },
    'gap-ms': { type: 'string', default: '250' },
    name: { type: 'string', default: 'swap-cpu' },
  },
});
const SWAPS = Number(values.swaps);

async function main(): Promise<void> {
  if (process.platform !== 'linux') throw new Error('this benchmark reads /proc (Linux only)');
  const cat = await prepareCatalog(Number(values.offers));
  const target = await startSwapTarget(cat, 'swap-cpu');
  const { server, versions } = target;
  const pin = async (version: string): Promise<void> => {
    const res = await target.pin(version);
    if (res.status !== 200) throw new Error(`pin ${version}: HTTP ${res.status} ${res.text}`);
  };
  try {
    // Warm-up swaps: first session creations, JIT.
    for (let i = 0; i < 4; i++) await pin(versions[i % 2]);
    await new Promise((r) => setTimeout(r, 1000));
    const before = readThreads(server.pid);
    for (let i = 0; i < SWAPS; i++) {
      await pin(versions[i % 2]);
      await new Promise((r) => setTimeout(r, Number(values['gap-ms'])));
    }
    const after = readThreads(server.pid);
    const per = [...after.values()]
      .map((t) => ({ ...t, perSwap: (t.cpuMs - (before.get(t.tid)?.cpuMs ?? 0)) / SWAPS }))
      .filter((t) => t.perSwap > 0)
      .sort((a, b) => b.perSwap - a.perSwap);
    const round = (x: number): number => Math.round(x * 100) / 100;
    const label = (t: { tid: number; nice: number }, rank: number): string =>
      t.tid === server.pid ? 'main thread' : t.nice > 0 ? `learning thread (nice ${t.nice})` : `other thread #${rank}`;
    let rank = 0;
    const rows = per.map((t) => ({ thread: label(t, t.tid === server.pid || t.nice > 0 ? 0 : ++rank), tid: t.tid, nice: t.nice, msPerSwap: round(t.perSwap) }));
    const total = round(per.reduce((a, t) => a + t.perSwap, 0));
    const report = { date: new Date().toISOString(), offers: Number(values.offers), swaps: SWAPS, gapMs: Number(values['gap-ms']), totalMsPerSwap: total, threads: rows };
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(`bench/results/${values.name}.json`, JSON.stringify(report, null, 2));
    const md = [
      `# CPU per model swap, by thread (${report.date.slice(0, 10)})`,
      '',
      `${report.offers} offers, ${SWAPS} operator pins ${report.gapMs} ms apart, no traffic. Total: **${total} ms of CPU per swap**.`,
      '',
      '| thread | nice | CPU ms per swap |',
      '|---|---|---|',
      ...rows.map((r) => `| ${r.thread} | ${r.nice} | ${r.msPerSwap} |`),
      '',
    ].join('\n');
    writeFileSync(`bench/results/${values.name}.md`, md);
    console.log(md);
  } finally {
    await server.stop();
  }
}

await main();
