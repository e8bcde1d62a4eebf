/**
 * Puts several swap-twin runs side by side: the runs where A was swapped against the sham runs where it was
 * not (`npm run bench:swap-twin -- --sham`). One run's reading of a 10-20% effect is within this VM's noise;
 * the sham runs show what the method reads when the swaps do nothing, and the comparison asks whether the
 * swap runs read more than that.
 *
 * Usage: npm run bench:swap-twin-summary -- --name NAME RUN.json [RUN.json ...]   (or a directory of runs)
 *        ... --against RUN.json|DIR [--against ...]: compare with these runs instead of the shams, e.g. swap runs
 *        of the code before a change ("do the given runs read more than the --against runs?").
 * Writes bench/results/NAME.md and .json.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mean, median, permutationTest } from 'simple-statistics';
import type { Interval } from './load/twin-stats.js';
import { Prng } from './sim/prng.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { name: { type: 'string', default: 'swap-twin-summary' }, against: { type: 'string', multiple: true } },
});

/** The fields of a swap-twin report (swap-twin.bench.ts) that the summary reads. */
interface TwinReport {
  date: string;
  sham?: boolean;
  swaps: number;
  leftBehind: { p99: number };
  creep: { ratio: number };
  intervals?: {
    leftBehindP99: Interval;
    creepP99Per1000: Interval;
    memoryMbPer1000: Interval;
    memoryMbPer1000SecondHalf: Interval;
  };
}

interface Run {
  file: string;
  report: TwinReport;
}

/** A measure read from every run, and whether it is a ratio (compared in logs) or a difference. */
interface Measure {
  label: string;
  ratio: boolean;
  read: (r: TwinReport) => number | undefined;
}

const MEASURES: Measure[] = [
  { label: 'P99 left behind, windows (difference in differences)', ratio: true, read: (r) => r.intervals?.leftBehindP99.estimate },
  { label: 'P99 left behind, pooled requests', ratio: true, read: (r) => r.leftBehind.p99 },
  { label: 'creep: A/B P99 per 1,000 swaps (slope)', ratio: true, read: (r) => r.intervals?.creepP99Per1000.estimate },
  { label: 'creep: A/B P99, last third over first', ratio: true, read: (r) => r.creep.ratio },
  { label: 'A - B anonymous memory, MB per 1,000 swaps', ratio: false, read: (r) => r.intervals?.memoryMbPer1000.estimate },
  { label: 'the same, second half of the blocks', ratio: false, read: (r) => r.intervals?.memoryMbPer1000SecondHalf.estimate },
];

/** n choose k, for the permutation test's resolution. */
function choose(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

function files(args: string[]): string[] {
  return args.flatMap((a) =>
    statSync(a).isDirectory()
      ? readdirSync(a)
          .filter((f) => f.endsWith('.json'))
          .map((f) => join(a, f))
      : [a],
  );
}

function main(): void {
  const read = (args: string[]): Run[] =>
    files(args)
      .map((file) => ({ file, report: JSON.parse(readFileSync(file, 'utf8')) as TwinReport }))
      .filter((r) => r.report.intervals !== undefined && typeof r.report.creep?.ratio === 'number');
  const given = read(positionals);
  // The second group: the shams among the given runs, or the --against runs (swap runs of another build).
  const against = values.against !== undefined && values.against.length > 0;
  const swap = against ? given : given.filter((r) => !r.report.sham);
  const sham = against ? read(values.against ?? []) : given.filter((r) => r.report.sham);
  const runs = against ? [...swap, ...sham] : given;
  const other = against ? 'control' : 'sham';
  if (swap.length === 0 || sham.length === 0) throw new Error(`need runs in both groups, with intervals; got ${swap.length} and ${sham.length} ${other} runs`);

  const rng = new Prng(20261129);
  const random = (): number => rng.next();
  const fmt = (m: Measure, v: number): string => (m.ratio ? `${v.toFixed(2)}x` : `${v.toFixed(1)}`);
  const rows = MEASURES.map((m) => {
    const x = swap.map((r) => m.read(r.report)).filter((v): v is number => v !== undefined && Number.isFinite(v));
    const y = sham.map((r) => m.read(r.report)).filter((v): v is number => v !== undefined && Number.isFinite(v));
    const tx = m.ratio ? x.map(Math.log) : x;
    const ty = m.ratio ? y.map(Math.log) : y;
    // One-sided: do the swap runs read more (more left behind, more creep, more memory) than the shams?
    const p = permutationTest(tx, ty, 'greater', 20_000, random);
    const gap = mean(tx) - mean(ty);
    return {
      measure: m.label,
      swap: x,
      sham: y,
      swapMedian: median(x),
      shamMedian: median(y),
      difference: m.ratio ? Math.exp(gap) : gap,
      pGreater: p,
      text: `| ${m.label} | ${x.map((v) => fmt(m, v)).join(', ')} | ${y.map((v) => fmt(m, v)).join(', ')} | ${fmt(m, m.ratio ? Math.exp(gap) : gap)} | ${p.toFixed(3)} |`,
    };
  });

  const list = (rs: Run[]): string => rs.map((r) => `${r.file} (${r.report.sham ? 'sham' : `${r.report.swaps} swaps`})`).join('; ');
  const md = [
    `# Swap-twin runs against ${other} runs (${swap.length} against ${sham.length})`,
    '',
    `Runs: ${list(swap)}.`,
    '',
    `${other[0].toUpperCase()}${other.slice(1)} runs: ${list(sham)}.`,
    '',
    `Each run reads A (swapped, or not in a sham) against its twin B. "Runs over ${other}" is the ratio of the geometric means (a difference of means for memory); p is a one-sided permutation test that the runs read more than the ${other} runs (20,000 random permutations; with ${swap.length} runs against ${sham.length} the smallest p possible is ${(1 / choose(swap.length + sham.length, swap.length)).toFixed(3)}).`,
    '',
    `| measure | runs | ${other} runs | runs over ${other} | p |`,
    '|---|---|---|---|---|',
    ...rows.map((r) => r.text),
  ].join('\n');
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/${values.name}.md`, md + '\n');
  writeFileSync(`bench/results/${values.name}.json`, JSON.stringify({ runs: runs.map((r) => ({ file: r.file, sham: r.report.sham === true })), against: against ? sham.map((r) => r.file) : [], rows: rows.map(({ text: _, ...r }) => r) }, null, 2));
  console.log(md);
}

main();
