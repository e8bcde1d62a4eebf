/**
 * Micro-benchmarks of the per-decision hot paths outside the model (tinybench; not tests, timings never go
 * in tests):
 *   - transaction features (src/features/transaction.ts) for real-looking baskets;
 *   - top-k over the whole catalog's ev row (src/ranking/top-k.ts) at 1k, 10k and 100k offers;
 *   - the wire codec: decode + validate a decide frame (src/protocol/validate.ts), encode a decision answer
 *     (src/protocol/codec.ts).
 *
 * Run: npm run bench:micro  (or npx tsc -p . && node dist/bench/micro.bench.js [--time-ms 500])
 */
import { Bench } from 'tinybench';
import { Packr } from 'msgpackr';
import { TXN_DIM } from '../src/features/spec.js';
import { transactionFeatures } from '../src/features/transaction.js';
import { Prng } from '../src/learning/prng.js';
import { encodeMessage } from '../src/protocol/codec.js';
import type { DecisionAnswer, Transaction } from '../src/protocol/messages.js';
import { parseInbound } from '../src/protocol/validate.js';
import { topK, type EligibilityColumns } from '../src/ranking/top-k.js';
import { defaultDataDir, generateTraffic } from './load/traffic.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

async function main(): Promise<void> {
  const timeMs = Number(arg('--time-ms', '500'));
  const traffic = await generateTraffic(2000, 1, defaultDataDir());
  const txns: Transaction[] = traffic.txns;
  const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false, variableMapSize: true });
  const frames = txns.map((txn, i) => new Uint8Array(packr.pack({ v: 1, type: 'decide', id: i + 1, tenant: 'freshmart', placement: 'checkout', txn, k: 3 })));
  const answer: DecisionAnswer = {
    v: 1,
    type: 'decision',
    id: 42,
    decision_id: '0b6c3f0e-8d1a-4c57-9a43-2f5d7e1b9c10',
    offers: [1, 2, 3].map((j) => ({
      offer_id: `freshmart-o-0000${j}`,
      campaign_id: 'freshmart:adv-1:core',
      advertiser_id: 'adv-1',
      p: 0.031 * j,
      ev: 0.0465 * j,
      position: j,
      bid_type: 'cpc' as const,
      price: 0.5 * j,
      propensity: 1,
      creative: { headline: 'Save $1.50 today', body: 'On any two', image_url: 'https://freshmart.example/i/1.png', cta: 'Add to order', landing_url: 'https://freshmart.example/o/1' },
    })),
    policy: 'ai',
    model_version: 'tt-1-3f9a2c1d',
    catalog_version: 7,
    server_us: 180,
  };

  const features = new Float32Array(TXN_DIM);
  let t = 0;
  const bench = new Bench({ time: timeMs, warmupTime: 100 });
  bench.add(`transactionFeatures (${traffic.header.provenance} baskets, median ${[...txns].map((x) => x.items.length).sort((a, b) => a - b)[txns.length >> 1]} lines)`, () => {
    transactionFeatures(txns[t++ % txns.length], features);
  });
  for (const n of [1000, 10_000, 100_000]) {
    const rng = new Prng(n);
    const ev = Float32Array.from({ length: n }, () => rng.next() * 0.05);
    const elig: EligibilityColumns = { active: new Uint8Array(n).fill(1), start: new Float64Array(n), end: new Float64Array(n).fill(8.64e15) };
    const out = new Int32Array(20);
    const outEv = new Float64Array(20);
    const now = Date.now();
    bench.add(`topK k=3 over ${n.toLocaleString('en-US')} offers`, () => {
      topK(ev, 0, n, elig, now, 3, out, outEv);
    });
  }
  let f = 0;
  bench.add('parseInbound (decode + validate a decide frame)', () => {
    const r = parseInbound(frames[f++ % frames.length], 65536);
    if (!r.ok) throw new Error(r.message);
  });
  bench.add('encodeMessage (decision, 3 offers with creatives)', () => {
    encodeMessage(answer);
  });
  await bench.run();
  const rows = bench.tasks.map((task) => {
    const r = task.result as unknown as { latency?: { mean: number; p50?: number; p99?: number }; throughput?: { mean: number } } | undefined;
    return {
      task: task.name,
      'mean us': r?.latency ? Math.round(r.latency.mean * 1000 * 100) / 100 : NaN,
      'p50 us': r?.latency?.p50 !== undefined ? Math.round(r.latency.p50 * 1000 * 100) / 100 : NaN,
      'p99 us': r?.latency?.p99 !== undefined ? Math.round(r.latency.p99 * 1000 * 100) / 100 : NaN,
      'ops/s': r?.throughput ? Math.round(r.throughput.mean) : NaN,
    };
  });
  console.table(rows);
  console.log(`node ${process.version}; ${traffic.note}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
