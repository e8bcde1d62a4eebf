/**
 * Micro-benchmark of the selection stage (src/delivery/select.ts) against the plain top-k it replaces
 * (src/ranking/top-k.ts), on the same data: 10,000 offers, half of them eligible, 300 advertisers, 21
 * departments, mixed bid types, k = 3 and 5, epsilon 0 and 0.05. Each iteration takes the next of 16
 * request rows of one ev matrix (as the worker does for a batch), so the data is not one hot row.
 *
 * Run: npx tsc -p . && node dist/bench/select.bench.js [--time-ms 500]
 * Writes bench/results/select.json and prints a table. Timings never go in tests.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import type { BidType } from '../src/catalog/types.js';
import { setRow, wordsFor } from '../src/delivery/bitset.js';
import { Selector, selectedBuffer, type SelectionPlacement, type SelectorInput } from '../src/delivery/select.js';
import { DEPARTMENT_COUNT } from '../src/features/taxonomy.js';
import { Prng } from '../src/learning/prng.js';
import { bidScale } from '../src/ranking/bid-scale.js';
import { topK, type EligibilityColumns } from '../src/ranking/top-k.js';

const N = 10_000;
const ADVERTISERS = 300;
const REQUESTS = 16;
const ELIGIBLE_SHARE = 0.5;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

interface Data {
  ev: Float32Array;
  mult: Float32Array;
  bidScale: Float32Array;
  bidAmount: Float64Array;
  eligible: Uint32Array;
  elig: EligibilityColumns;
  advertiserOf: Int32Array;
  departmentOf: Uint8Array;
}

function makeData(seed: number): Data {
  const rng = new Prng(seed);
  const types: BidType[] = ['cpm', 'cpc', 'cpa'];
  const scale = new Float32Array(N);
  const amount = new Float64Array(N);
  const advertiserOf = new Int32Array(N);
  const departmentOf = new Uint8Array(N);
  const mult = new Float32Array(N);
  const eligible = new Uint32Array(wordsFor(N));
  const active = new Uint8Array(N);
  for (let i = 0; i < N; i++) {
    const type = types[rng.int(3)];
    amount[i] = type === 'cpm' ? rng.uniform(2, 40) : type === 'cpc' ? rng.uniform(0.1, 2) : rng.uniform(2, 30);
    scale[i] = bidScale({ type, amount: amount[i] });
    advertiserOf[i] = rng.int(ADVERTISERS);
    departmentOf[i] = rng.int(DEPARTMENT_COUNT);
    mult[i] = rng.uniform(0.8, 1.5);
    if (rng.bernoulli(ELIGIBLE_SHARE)) {
      setRow(eligible, i);
      active[i] = 1;
    }
  }
  // p = sigmoid(logit): CTR around 2% with a spread like the shipped model's.
  const ev = new Float32Array(REQUESTS * N);
  for (let r = 0; r < REQUESTS; r++) {
    for (let i = 0; i < N; i++) {
      const p = 1 / (1 + Math.exp(-(-3.9 + rng.normal() * 0.8)));
      ev[r * N + i] = p * scale[i];
    }
  }
  const elig: EligibilityColumns = { active, start: new Float64Array(N), end: new Float64Array(N).fill(8.64e15) };
  return { ev, mult, bidScale: scale, bidAmount: amount, eligible, elig, advertiserOf, departmentOf };
}

async function main(): Promise<void> {
  const timeMs = Number(arg('--time-ms', '500'));
  const data = makeData(7);
  const bench = new Bench({ time: timeMs, warmupTime: 100 });
  const now = Date.now();
  const picked = new Int32Array(20);
  const pickedEv = new Float64Array(20);
  let r = 0;
  for (const k of [3, 5]) {
    bench.add(`topK k=${k} (status/flight columns, no exclusion, no pricing)`, () => {
      topK(data.ev, (r++ % REQUESTS) * N, N, data.elig, now, k, picked, pickedEv);
    });
  }
  const selector = new Selector(ADVERTISERS);
  const out = selectedBuffer(20);
  const rng = new Prng(1);
  const random = (): number => rng.next();
  const cases: { k: number; epsilon: number; exclusive: boolean; mult: boolean }[] = [
    { k: 3, epsilon: 0, exclusive: false, mult: false },
    { k: 3, epsilon: 0.05, exclusive: false, mult: false },
    { k: 5, epsilon: 0, exclusive: false, mult: false },
    { k: 5, epsilon: 0.05, exclusive: false, mult: false },
    { k: 5, epsilon: 0.05, exclusive: false, mult: true },
    { k: 5, epsilon: 0.05, exclusive: true, mult: false },
    { k: 5, epsilon: 0.05, exclusive: true, mult: true },
  ];
  for (const c of cases) {
    const placement: SelectionPlacement = {
      floorCpm: 1,
      minRelevance: 0.002,
      pricing: 'gsp',
      exploration: { epsilon: c.epsilon, pool: 10 },
      categoryExclusivity: c.exclusive,
    };
    const input: SelectorInput = {
      ev: data.ev,
      offset: 0,
      n: N,
      mult: c.mult ? data.mult : null,
      bidScale: data.bidScale,
      bidAmount: data.bidAmount,
      eligible: data.eligible,
      advertiserOf: data.advertiserOf,
      departmentOf: data.departmentOf,
      advertiserCount: ADVERTISERS,
      placement,
      k: c.k,
      random,
    };
    const extras = [c.exclusive ? 'category exclusivity' : '', c.mult ? 'mult' : ''].filter(Boolean).join(', ');
    bench.add(`select k=${c.k} epsilon=${c.epsilon} gsp${extras ? `, ${extras}` : ''}`, () => {
      input.offset = (r++ % REQUESTS) * N;
      if (selector.select(input, out) !== c.k) throw new Error('fewer offers than k');
    });
  }
  await bench.run();
  const results = bench.tasks.map((task) => {
    const res = task.result as unknown as { latency?: { mean: number; p50?: number; p99?: number }; throughput?: { mean: number } } | undefined;
    const us = (ms: number | undefined): number => (ms === undefined ? NaN : Math.round(ms * 1000 * 100) / 100);
    return {
      task: task.name,
      meanUs: us(res?.latency?.mean),
      p50Us: us(res?.latency?.p50),
      p99Us: us(res?.latency?.p99),
      opsPerSec: res?.throughput ? Math.round(res.throughput.mean) : NaN,
    };
  });
  console.table(results.map((x) => ({ task: x.task, 'mean us': x.meanUs, 'p50 us': x.p50Us, 'p99 us': x.p99Us, 'ops/s': x.opsPerSec })));
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    rows: N,
    eligibleShare: ELIGIBLE_SHARE,
    advertisers: ADVERTISERS,
    departments: DEPARTMENT_COUNT,
    timeMs,
    results,
  };
  // dist/bench/select.bench.js -> <repo>/bench/results
  const outFile = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results', 'select.json');
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(report, null, 2) + '\n');
  console.log(`node ${process.version}; wrote ${outFile}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
