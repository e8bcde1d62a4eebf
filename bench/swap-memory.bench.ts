/**
 * What model swaps leave in a worker thread's memory, with no server around it. One worker thread does what an
 * inference worker does per swap, again and again, alternating two models over one catalog: run the offer
 * tower over the catalog, build the scorer graph, open and warm its session, release the old scorer, then
 * serve 30 scores (batch 1). Each configuration runs in a fresh process (glibc's arenas outlive a thread)
 * with the serving process's heap tuning, and reports, per block of swaps, the process's anonymous memory, the
 * threads' malloc arenas (bench/load/memory-split.ts), the worker's V8 heap and ArrayBuffers, and the scores'
 * P50 / P99 from an HDR histogram.
 *
 * Configurations (--builds, comma-separated):
 *   view    the serving code: computeOfferSide + Scorer.create (two ONNX sessions opened per swap);
 *   bytes   the scorer graph's bytes only (buildScorerModel), scoring on one scorer opened at start: does the
 *           memory step need ONNX sessions at all?
 *   life    the design of bench/RESULTS.md session 9 (sessions for a worker's life): both towers' weights and
 *           the offer side fed as inputs to two sessions opened once, so a swap opens no session;
 * each with and without a scavenge after every build (src/runtime/collect.ts, what the workers ship).
 *
 *   npm run bench:swap-memory [-- --swaps 1000 --block 100 --offers 10000 --builds view,bytes,life --name swap-memory]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { OFFER_DIM, TXN_DIM } from '../src/features/spec.js';
import { initWeights } from '../src/learning/two-tower.js';
import { readModelDir, type LoadedModel } from '../src/model/model-dir.js';
import { writeModelDir } from '../src/model/onnx-export.js';
import { decodeModel, encodeModel, floatValueInfo, node, tensorDims, tensorFloats, type GraphProto } from '../src/model/onnx-util.js';
import { computeOfferSide, Scorer, SESSION_OPTIONS } from '../src/model/scorer.js';
import { buildScorerModel } from '../src/model/scorer-graph.js';
import { tuneHeapsForServing } from '../src/pool/heap-tuning.js';
import { collectYoung } from '../src/runtime/collect.js';
import { newHistogram, recordMs, summarize } from './load/histogram.js';
import { memorySplit } from './load/memory-split.js';
import { readRssSplit } from './load/proc-stats.js';

type Build = 'view' | 'bytes' | 'life';
interface Config {
  build: Build;
  scavenge: boolean;
  swaps: number;
  block: number;
  offers: number;
  modelDirs: string[];
}
interface BlockRecord {
  swaps: number;
  anonMb: number;
  arenasMb: number;
  heapTotalMb: number;
  arrayBuffersMb: number;
  buildMsMean: number;
  scoreP50Us: number;
  scoreP99Us: number;
}
interface RunRecord {
  build: Build;
  scavenge: boolean;
  blocks: BlockRecord[];
}

const SCORES_PER_SWAP = 30;
const MB = 2 ** 20;
const self = fileURLToPath(import.meta.url);

/** The process's anonymous memory and its threads' malloc arenas, MB. */
function memory(): { anonMb: number; arenasMb: number } {
  return { anonMb: readRssSplit(process.pid).anonMb, arenasMb: memorySplit(process.pid)?.arenasMb ?? NaN };
}

/** A graph with its initializers turned into inputs, and the feeds that carry them. */
function weightsAsInputs(bytes: Uint8Array): { graph: GraphProto; feeds: Record<string, ort.Tensor> } {
  const graph = decodeModel(bytes).graph as GraphProto;
  const feeds: Record<string, ort.Tensor> = {};
  for (const t of graph.initializer) feeds[t.name ?? ''] = new ort.Tensor('float32', tensorFloats(t), tensorDims(t));
  return { graph, feeds };
}

/** The "life" design: the scorer graph with the txn tower's weights and the offer side as inputs. */
function lifeScorerGraph(txnTower: Uint8Array, d: number): Uint8Array {
  const { graph, feeds } = weightsAsInputs(txnTower);
  return encodeModel(
    {
      name: 'scorer_inputs',
      node: [
        ...graph.node,
        node('MatMul', ['u', 'offer_emb_t'], ['logit_dot'], 'mm'),
        node('Add', ['logit_dot', 'offer_bias'], ['logit'], 'add'),
        node('Sigmoid', ['logit'], ['p'], 'sigmoid'),
        node('Mul', ['p', 'bid_scale'], ['ev'], 'ev'),
      ],
      initializer: [],
      input: [
        floatValueInfo('txn', ['batch', TXN_DIM]),
        ...Object.entries(feeds).map(([name, t]) => floatValueInfo(name, t.dims as number[])),
        floatValueInfo('offer_emb_t', [d, 'n']),
        floatValueInfo('offer_bias', ['n']),
        floatValueInfo('bid_scale', ['n']),
      ],
      output: [floatValueInfo('ev', ['batch', 'n'])],
    },
    'scorer with its weights as inputs',
  );
}

/** The offer tower with its weights as inputs. */
function lifeOfferGraph(offerTower: Uint8Array): Uint8Array {
  const { graph, feeds } = weightsAsInputs(offerTower);
  return encodeModel(
    {
      name: 'offer_inputs',
      node: graph.node,
      initializer: [],
      input: [...graph.input, ...Object.entries(feeds).map(([name, t]) => floatValueInfo(name, t.dims as number[]))],
      output: graph.output,
    },
    'offer tower with its weights as inputs',
  );
}

async function workerLoop(cfg: Config): Promise<BlockRecord[]> {
  const models: LoadedModel[] = await Promise.all(cfg.modelDirs.map((dir) => readModelDir(dir)));
  const n = cfg.offers;
  const d = models[0].manifest.dims.embed;
  // Offer rows shaped like the feature pipeline's: one department, one advertiser bucket, a price.
  const offers = new Float32Array(n * OFFER_DIM);
  for (let i = 0; i < n; i++) {
    offers[i * OFFER_DIM + (i % 21)] = 1;
    offers[i * OFFER_DIM + 21 + (i % 16)] = 1;
    offers[i * OFFER_DIM + 40] = (i % 97) / 97;
  }
  const bidScale = new Float32Array(n).map((_, i) => 0.5 + (i % 7) / 7);
  const txn = new Float32Array(TXN_DIM).map((_, i) => ((i * 7919) % 13) / 13);

  let scorer: Scorer | null = null;
  let score: () => Promise<unknown>;
  let swapTo: (m: number) => Promise<void>;
  if (cfg.build === 'life') {
    const scorerSession = await ort.InferenceSession.create(lifeScorerGraph(models[0].txnTower, d), SESSION_OPTIONS);
    const offerSession = await ort.InferenceSession.create(lifeOfferGraph(models[0].offerTower), SESSION_OPTIONS);
    const weights = models.map((m) => ({ txn: weightsAsInputs(m.txnTower).feeds, offer: weightsAsInputs(m.offerTower).feeds }));
    let feeds: Record<string, ort.Tensor> = {};
    swapTo = async (m) => {
      const out = await offerSession.run({ offer: new ort.Tensor('float32', offers, [n, OFFER_DIM]), ...weights[m].offer });
      const emb = out.e.data as Float32Array;
      const embT = new Float32Array(d * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) embT[j * n + i] = emb[i * d + j];
      feeds = {
        ...weights[m].txn,
        offer_emb_t: new ort.Tensor('float32', embT, [d, n]),
        offer_bias: new ort.Tensor('float32', (out.b.data as Float32Array).slice(), [n]),
        bid_scale: new ort.Tensor('float32', bidScale.slice(), [n]),
      };
    };
    score = () => scorerSession.run({ txn: new ort.Tensor('float32', txn, [1, TXN_DIM]), ...feeds }, ['ev']);
  } else {
    const sides = cfg.build === 'bytes' ? await Promise.all(models.map((m) => computeOfferSide(m, offers, n))) : [];
    swapTo = async (m) => {
      if (cfg.build === 'bytes') {
        buildScorerModel(models[m].txnTower, sides[m].emb, sides[m].bias, bidScale, n, d);
        scorer ??= await Scorer.create(models[m], sides[m].emb, sides[m].bias, bidScale, n);
        return;
      }
      const { emb, bias } = await computeOfferSide(models[m], offers, n);
      const next = await Scorer.create(models[m], emb, bias, bidScale, n);
      const old = scorer;
      scorer = next;
      await old?.release();
    };
    score = () => scorer!.score(txn, 1, false);
  }

  const blocks: BlockRecord[] = [];
  let hist = newHistogram();
  let buildMs = 0;
  const record = (swaps: number, builds: number): void => {
    const s = summarize(hist);
    const mem = memory();
    const mu = process.memoryUsage();
    blocks.push({
      swaps,
      ...mem,
      heapTotalMb: mu.heapTotal / MB,
      arrayBuffersMb: mu.arrayBuffers / MB,
      buildMsMean: builds > 0 ? buildMs / builds : 0,
      scoreP50Us: s.p50 * 1000,
      scoreP99Us: s.p99 * 1000,
    });
    hist = newHistogram();
    buildMs = 0;
  };
  for (let swap = 0; swap <= cfg.swaps; swap++) {
    const t0 = performance.now();
    await swapTo(swap % 2);
    if (cfg.scavenge) collectYoung();
    buildMs += performance.now() - t0;
    for (let k = 0; k < SCORES_PER_SWAP; k++) {
      const s = performance.now();
      await score();
      recordMs(hist, performance.now() - s);
    }
    if (swap % cfg.block === 0) record(swap, swap === 0 ? 1 : cfg.block);
  }
  await (scorer as Scorer | null)?.release();
  return blocks;
}

/** One configuration, in this (fresh) process: the serving heap tuning, then one worker thread. */
async function child(cfg: Config): Promise<void> {
  tuneHeapsForServing();
  const worker = new Worker(self, { workerData: cfg });
  const blocks = await new Promise<BlockRecord[]>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  process.stdout.write(JSON.stringify(blocks));
}

function fmtRun(r: RunRecord): string {
  const rows = r.blocks.map(
    (b) =>
      `| ${b.swaps} | ${b.anonMb.toFixed(0)} | ${b.arenasMb.toFixed(0)} | ${b.heapTotalMb.toFixed(0)} | ${b.arrayBuffersMb.toFixed(0)} | ${b.buildMsMean.toFixed(1)} | ${b.scoreP50Us.toFixed(0)} / ${b.scoreP99Us.toFixed(0)} |`,
  );
  return [
    `### ${r.build}, ${r.scavenge ? 'a scavenge after every build' : 'no explicit collection'}`,
    '',
    '| swaps | anonymous MB | arenas MB | worker V8 heap MB | ArrayBuffers MB | build ms (mean) | score P50 / P99 µs |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      swaps: { type: 'string', default: '1000' },
      block: { type: 'string', default: '100' },
      offers: { type: 'string', default: '10000' },
      builds: { type: 'string', default: 'view,bytes,life' },
      name: { type: 'string', default: 'swap-memory' },
    },
  });
  const builds = values.builds.split(',') as Build[];
  for (const b of builds) if (!['view', 'bytes', 'life'].includes(b)) throw new Error(`unknown build ${b}`);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'txrank-swap-memory-'));
  try {
    const modelDirs: string[] = [];
    for (const seed of [3, 4]) {
      const dir = path.join(tmp, `m${seed}`);
      const w = initWeights({ txn: TXN_DIM, offer: OFFER_DIM, hidden: 32, embed: 16 }, seed);
      await writeModelDir(dir, w, { parent: null, createdAt: '2025-01-01T00:00:00.000Z', training: {}, metrics: {} });
      modelDirs.push(dir);
    }
    const runs: RunRecord[] = [];
    for (const build of builds) {
      for (const scavenge of [false, true]) {
        const cfg: Config = { build, scavenge, swaps: Number(values.swaps), block: Number(values.block), offers: Number(values.offers), modelDirs };
        const out = execFileSync(process.execPath, [self, '--child', JSON.stringify(cfg)], { encoding: 'utf8', maxBuffer: 16 * MB });
        const run: RunRecord = { build, scavenge, blocks: JSON.parse(out) as BlockRecord[] };
        runs.push(run);
        const first = run.blocks[0];
        const last = run.blocks[run.blocks.length - 1];
        console.log(
          `${build.padEnd(5)} ${scavenge ? 'scavenge' : 'none    '}: anonymous ${first.anonMb.toFixed(0)} -> ${last.anonMb.toFixed(0)} MB, arenas ${first.arenasMb.toFixed(0)} -> ${last.arenasMb.toFixed(0)} MB, build ${last.buildMsMean.toFixed(1)} ms, score P99 ${last.scoreP99Us.toFixed(0)} µs`,
        );
      }
    }
    const md = [
      `# What model swaps leave in a worker thread's memory (${new Date().toISOString().slice(0, 10)})`,
      '',
      `${values.offers} offers, ${values.swaps} swaps between two models, ${SCORES_PER_SWAP} scores (batch 1) after each; ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}. Each configuration in a fresh process; memory read after the block's last swap.`,
      '',
      ...runs.map(fmtRun).flatMap((t) => [t, '']),
    ].join('\n');
    mkdirSync(path.dirname(`bench/results/${values.name}`), { recursive: true });
    writeFileSync(`bench/results/${values.name}.json`, JSON.stringify({ offers: Number(values.offers), swaps: Number(values.swaps), runs }, null, 2));
    writeFileSync(`bench/results/${values.name}.md`, md);
    console.log(`wrote bench/results/${values.name}.md`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

if (!isMainThread) {
  parentPort!.postMessage(await workerLoop(workerData as Config));
} else if (process.argv[2] === '--child') {
  await child(JSON.parse(process.argv[3]) as Config);
} else {
  await main();
}
