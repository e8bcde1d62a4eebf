/**
 * Reproducible training of the shipped two-tower model.
 *
 *   npx tsc -p . && node dist/models/train.js --out models/shipped --data ../shared/datasets --seed 7
 *
 * Simulates logged impressions (bench/sim: real baskets when --data holds the shared data sets, else the
 * synthetic generator), trains the two-tower model on the engine's own feature code, evaluates it on
 * held-out impressions against a popularity baseline and the ground-truth oracle, and writes the model
 * directory (manifest.json, txn_tower.onnx, offer_tower.onnx, TRAINING.md) atomically.
 *
 * Everything is a function of the seed and the data: the same command gives byte-identical files, including
 * the manifest (createdAt is derived from the seed, and no wall-clock time is written anywhere).
 */
import path from 'node:path';
import { createGroundTruth } from '../bench/sim/engagement.js';
import { simulateImpressions, type SimulatedImpressions } from '../bench/sim/impressions.js';
import { generateSimOffers } from '../bench/sim/offers.js';
import { loadRealDataIfPresent } from '../bench/sim/real-data.js';
import { createTransactionSource } from '../bench/sim/transactions.js';
import { FEATURE_SPEC_VERSION, OFFER_DIM, TXN_DIM } from '../src/features/spec.js';
import { positiveRate } from '../src/learning/impressions.js';
import { auc, clickMetrics, logLoss, type ClickMetrics } from '../src/learning/metrics.js';
import { popularityScores, predictPopularity } from '../src/learning/popularity.js';
import { Prng } from '../src/learning/prng.js';
import { DEFAULT_TRAIN_OPTIONS, initWeights, offerEmbed, predictImpressions, train, txnEmbed, type TwoTowerWeights } from '../src/learning/two-tower.js';
import { readModelDir } from '../src/model/model-dir.js';
import { modelVersionFor, writeModelDir } from '../src/model/onnx-export.js';
import { TxnTower, computeOfferSide } from '../src/model/scorer.js';

interface Args {
  out: string;
  data: string | undefined;
  seed: number;
  txns: number;
  testTxns: number;
  perTxn: number;
  offers: number;
  epochs: number;
  hidden: number;
  embed: number;
}

const USAGE =
  'usage: node dist/models/train.js --out DIR [--data DATASETS_DIR] [--seed N] [--txns N] [--test-txns N] ' +
  '[--per-txn N] [--offers N] [--epochs N]';

function parseArgs(argv: string[]): Args {
  const a: Args = { out: '', data: undefined, seed: 7, txns: 500_000, testTxns: 40_000, perTxn: 3, offers: 8000, epochs: 6, hidden: 32, embed: 16 };
  const int = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a non-negative integer, got ${v}\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const v = argv[i + 1];
    switch (flag) {
      case '--out':
        a.out = v ?? '';
        break;
      case '--data':
        a.data = v;
        break;
      case '--seed':
        a.seed = int(flag, v);
        break;
      case '--txns':
        a.txns = int(flag, v);
        break;
      case '--test-txns':
        a.testTxns = int(flag, v);
        break;
      case '--per-txn':
        a.perTxn = int(flag, v);
        break;
      case '--offers':
        a.offers = int(flag, v);
        break;
      case '--epochs':
        a.epochs = int(flag, v);
        break;
      default:
        throw new Error(`unknown argument ${flag}\n${USAGE}`);
    }
    i++;
  }
  if (!a.out) throw new Error(`--out is required\n${USAGE}`);
  return a;
}

/**
 * The command that reproduces this model, with every option that differs from its default. The output
 * directory is left out on purpose: where the files go must not change their bytes.
 */
function commandLine(a: Args): string {
  const d = parseArgs(['--out', 'x']);
  const parts = ['node dist/models/train.js --out DIR'];
  if (a.data) parts.push(`--data ${a.data}`);
  parts.push(`--seed ${a.seed}`);
  const flags: Array<[string, keyof Args]> = [
    ['--txns', 'txns'],
    ['--test-txns', 'testTxns'],
    ['--per-txn', 'perTxn'],
    ['--offers', 'offers'],
    ['--epochs', 'epochs'],
  ];
  for (const [flag, key] of flags) if (a[key] !== d[key]) parts.push(`${flag} ${String(a[key])}`);
  return parts.join(' ');
}

const round = (x: number, digits = 5): number => Number(x.toFixed(digits));

function table(rows: Array<[string, ClickMetrics | null, number]>): string {
  const lines = ['| predictor | log loss | AUC | calibration (mean p / rate) |', '|---|---|---|---|'];
  for (const [name, m, a] of rows) {
    lines.push(m ? `| ${name} | ${m.logLoss.toFixed(5)} | ${m.auc.toFixed(4)} | ${m.calibration.toFixed(3)} |` : `| ${name} | — | ${a.toFixed(4)} | — |`);
  }
  return lines.join('\n');
}

/** Max |p_ORT - p_TS| over some test impressions, through the exported files: proves the export is faithful. */
async function exportCheck(dir: string, w: TwoTowerWeights, test: SimulatedImpressions): Promise<number> {
  const model = await readModelDir(dir);
  const { emb, bias } = await computeOfferSide(model, test.offer, test.offerCount);
  const tower = await TxnTower.create(model);
  const rows = Math.min(64, test.txnCount);
  const u = await tower.run(test.txn.subarray(0, rows * TXN_DIM), rows);
  await tower.release();
  const uTs = txnEmbed(w, test.txn, rows);
  const side = offerEmbed(w, test.offer, test.offerCount);
  const d = w.dims.embed;
  let maxDiff = 0;
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < test.offerCount; o++) {
      let z1 = bias[o];
      let z2 = side.bias[o];
      for (let j = 0; j < d; j++) {
        z1 += u[r * d + j] * emb[o * d + j];
        z2 += uTs[r * d + j] * side.emb[o * d + j];
      }
      maxDiff = Math.max(maxDiff, Math.abs(1 / (1 + Math.exp(-z1)) - 1 / (1 + Math.exp(-z2))));
    }
  }
  return maxDiff;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const log = (msg: string): void => console.log(`[train ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);

  const { data: real, note } = await loadRealDataIfPresent(args.data);
  log(note);
  // One seed, split into independent streams so that changing one part (say, test size) leaves the others.
  const seeds = new Prng(args.seed);
  const offerSeed = seeds.nextU32();
  const truthSeed = seeds.nextU32();
  const trainTxnSeed = seeds.nextU32();
  const testTxnSeed = seeds.nextU32();
  const trainImpSeed = seeds.nextU32();
  const testImpSeed = seeds.nextU32();
  const initSeed = seeds.nextU32();
  const shuffleSeed = seeds.nextU32();

  const offers = generateSimOffers(offerSeed, { count: args.offers });
  const truth = createGroundTruth(truthSeed);
  const trainSource = createTransactionSource(trainTxnSeed, real);
  const testSource = createTransactionSource(testTxnSeed, real);
  const common = { offers, currency: 'USD', truth, perTxn: args.perTxn };
  const trainSet = simulateImpressions({ ...common, source: trainSource, transactions: args.txns, seed: trainImpSeed });
  const testSet = simulateImpressions({ ...common, source: testSource, transactions: args.testTxns, seed: testImpSeed });
  const baseRate = positiveRate(trainSet);
  log(`simulated ${trainSet.count} train / ${testSet.count} test impressions, engagement rate ${(baseRate * 100).toFixed(2)}%`);

  const dims = { txn: TXN_DIM, offer: OFFER_DIM, hidden: args.hidden, embed: args.embed };
  const w = initWeights(dims, initSeed, baseRate);
  const opts = { ...DEFAULT_TRAIN_OPTIONS, epochs: args.epochs, seed: shuffleSeed };
  const history = train(w, trainSet, { ...opts, onEpoch: (e, l) => log(`epoch ${e + 1}/${opts.epochs}: train log loss ${l.toFixed(5)}`) });

  const pTest = predictImpressions(w, testSet);
  const model = clickMetrics(pTest, testSet.label);
  const oracle = clickMetrics(testSet.trueP, testSet.label);
  const popularity = predictPopularity(popularityScores(trainSet), testSet);
  const popularityMetrics = clickMetrics(popularity, testSet.label);
  const constant = new Float64Array(testSet.count).fill(baseRate);
  const constantLogLoss = logLoss(constant, testSet.label);
  // Label-noise-free view of the fit: cross-entropy of the model's p against the true p (minimised, at the
  // truth's own entropy, only by p = trueP).
  let trueCrossEntropy = 0;
  for (let k = 0; k < testSet.count; k++) {
    const p = Math.min(1 - 1e-7, Math.max(1e-7, pTest[k]));
    trueCrossEntropy -= testSet.trueP[k] * Math.log(p) + (1 - testSet.trueP[k]) * Math.log(1 - p);
  }
  trueCrossEntropy /= testSet.count;
  log(`held-out: log loss ${model.logLoss.toFixed(5)} AUC ${model.auc.toFixed(4)} calibration ${model.calibration.toFixed(3)}; ` +
    `popularity AUC ${popularityMetrics.auc.toFixed(4)}; oracle AUC ${oracle.auc.toFixed(4)}`);

  const version = modelVersionFor(w);
  const createdAt = new Date(Date.UTC(2025, 0, 1) + args.seed * 1000).toISOString();
  const dataUsed = real ? 'real' : 'synthetic';
  const sources = real ? (trainSource.description as string[]) : [...trainSource.description, note];
  const training = {
    script: 'models/train.ts',
    command: commandLine(args),
    seed: args.seed,
    data: dataUsed,
    sources,
    simulator: 'bench/sim (ground truth: bench/sim/engagement.ts), uniform random logging policy, slot 1',
    offers: args.offers,
    trainImpressions: trainSet.count,
    testImpressions: testSet.count,
    impressionsPerTransaction: args.perTxn,
    hidden: args.hidden,
    embed: args.embed,
    optimizer: 'adam',
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    learningRate: opts.learningRate,
    l2: opts.l2,
    trainLogLossByEpoch: history.map((x) => round(x)),
  };
  const metrics = {
    logLoss: round(model.logLoss),
    auc: round(model.auc),
    calibration: round(model.calibration),
    meanPredicted: round(model.meanPredicted, 6),
    observedRate: round(model.observedRate, 6),
    popularityAuc: round(popularityMetrics.auc),
    popularityLogLoss: round(popularityMetrics.logLoss),
    constantLogLoss: round(constantLogLoss),
    oracleAuc: round(oracle.auc),
    oracleLogLoss: round(oracle.logLoss),
    crossEntropyVsTrueP: round(trueCrossEntropy),
  };

  const report = `# Training report: ${version}

Produced by \`models/train.ts\`; rebuild with (DIR is the output directory: models/shipped for the shipped model)

    npx tsc -p . && ${training.command}

Same seed and same data give byte-identical files (see docs/MODEL.md, "Reproducibility").

## Data

- Data: **${dataUsed}**${real ? ' (the shared data sets were present and used)' : ' (no real data: synthetic fallback)'}.
${sources.map((s) => `- ${s}`).join('\n')}
- Offers: ${args.offers} simulated offers (bench/sim/offers.ts), all USD.
- Impressions: ${trainSet.count} train, ${testSet.count} held-out (independent transaction streams), ${args.perTxn} uniformly random offers per transaction, all in slot 1; labels drawn from the ground truth in bench/sim/engagement.ts.
- Engagement rate: ${(baseRate * 100).toFixed(2)}% train, ${(model.observedRate * 100).toFixed(2)}% held-out.

## Model and training

- Two-tower: txn ${TXN_DIM} → ${args.hidden} (ReLU) → ${args.embed}; offer ${OFFER_DIM} → ${args.hidden} (ReLU) → ${args.embed}, plus a linear bias head ${OFFER_DIM} → 1. Feature spec version ${FEATURE_SPEC_VERSION}.
- Adam, learning rate ${opts.learningRate}, batch ${opts.batchSize}, L2 ${opts.l2}, ${opts.epochs} epochs, seed ${args.seed}.
- Train log loss by epoch: ${training.trainLogLossByEpoch.join(', ')}.

## Held-out metrics

${table([
  ['two-tower (this model)', model, model.auc],
  ['popularity baseline (per-offer smoothed CTR)', popularityMetrics, popularityMetrics.auc],
  ['constant (train rate)', { ...model, logLoss: constantLogLoss, auc: 0.5, calibration: baseRate / model.observedRate }, 0.5],
  ['oracle (ground-truth p)', oracle, oracle.auc],
])}

Cross-entropy of the model's p against the true p: ${trueCrossEntropy.toFixed(5)} (the oracle's log loss on the drawn labels is ${oracle.logLoss.toFixed(5)}).
`;

  await writeModelDir(args.out, w, {
    version,
    parent: null,
    createdAt,
    training,
    metrics,
    extraFiles: { 'TRAINING.md': report },
  });
  const diff = await exportCheck(args.out, w, testSet);
  log(`wrote ${path.resolve(args.out)} (${version}); ONNX vs TypeScript max |Δp| = ${diff.toExponential(2)}`);
  if (!(diff < 1e-5)) throw new Error(`exported model disagrees with the trained weights (max |Δp| = ${diff})`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
