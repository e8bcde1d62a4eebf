/**
 * Checkout traffic for the load benchmark: transactions from the simulator's generator (real Instacart
 * baskets with Complete Journey prices when ../shared/datasets is there, the seeded synthetic generator with
 * the same statistics otherwise), recorded once to a traffic file and replayed exactly.
 *
 * A traffic file is JSONL: a header line {"kind":"txrank-traffic","version":1,...} with the provenance, then
 * one Transaction per line in send order. It holds data derived from the datasets, so it is written outside
 * the repository by default (or under bench/traffic/, which is git-ignored) and never committed.
 *
 *   node dist/bench/load/traffic.js record --out /tmp/traffic.jsonl [--count 5000] [--seed 1] [--data ../shared/datasets]
 *   node dist/bench/load/traffic.js stats /tmp/traffic.jsonl
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { Transaction } from '../../src/protocol/messages.js';
import { loadRealDataIfPresent } from '../sim/real-data.js';
import { createTransactionSource } from '../sim/transactions.js';

export interface TrafficHeader {
  kind: 'txrank-traffic';
  version: 1;
  seed: number;
  count: number;
  provenance: 'real' | 'synthetic';
  sources: string[];
  /** ISO date the file was written. */
  recordedAt: string;
}

export interface Traffic {
  header: TrafficHeader;
  txns: Transaction[];
}

/** ../shared/datasets relative to the repository root (the process's working directory), if present. */
export function defaultDataDir(): string | undefined {
  const candidate = path.resolve('../shared/datasets');
  return existsSync(candidate) ? candidate : undefined;
}

/** Generates `count` transactions; the same (seed, data) gives the same transactions. */
export async function generateTraffic(count: number, seed: number, dataDir: string | undefined): Promise<Traffic & { note: string }> {
  const { data, note } = await loadRealDataIfPresent(dataDir);
  const source = createTransactionSource(seed, data);
  const txns: Transaction[] = [];
  for (let i = 0; i < count; i++) txns.push(source.next());
  return {
    header: {
      kind: 'txrank-traffic',
      version: 1,
      seed,
      count,
      provenance: source.provenance,
      sources: source.description,
      recordedAt: new Date().toISOString(),
    },
    txns,
    note,
  };
}

export function serializeTraffic(t: Traffic): string {
  return [JSON.stringify(t.header), ...t.txns.map((x) => JSON.stringify(x))].join('\n') + '\n';
}

export function parseTraffic(text: string, where = '<traffic>'): Traffic {
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (lines.length === 0) throw new Error(`${where}: empty traffic file`);
  const header = JSON.parse(lines[0]) as TrafficHeader;
  if (header.kind !== 'txrank-traffic' || header.version !== 1) throw new Error(`${where}: not a txrank traffic file (version 1)`);
  const txns = lines.slice(1).map((l) => JSON.parse(l) as Transaction);
  if (txns.length !== header.count) throw new Error(`${where}: header says ${header.count} transactions, file has ${txns.length}`);
  return { header, txns };
}

export async function writeTraffic(file: string, t: Traffic): Promise<void> {
  await writeFile(file, serializeTraffic(t));
}

export async function readTraffic(file: string): Promise<Traffic> {
  return parseTraffic(await readFile(file, 'utf8'), file);
}

/** Basket statistics of a traffic set, for the report (what the engine was fed). */
export function trafficStats(t: Traffic): Record<string, number | string> {
  const sizes = t.txns.map((x) => x.items.length).sort((a, b) => a - b);
  const totals = t.txns.map((x) => x.total).sort((a, b) => a - b);
  const q = (a: number[], p: number): number => a[Math.min(a.length - 1, Math.floor(p * a.length))];
  return {
    provenance: t.header.provenance,
    transactions: t.txns.length,
    linesMedian: q(sizes, 0.5),
    linesP90: q(sizes, 0.9),
    linesMax: sizes[sizes.length - 1],
    totalMedian: q(totals, 0.5),
    totalP90: q(totals, 0.9),
  };
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { out: { type: 'string' }, count: { type: 'string' }, seed: { type: 'string' }, data: { type: 'string' } },
  });
  const [cmd, file] = positionals;
  if (cmd === 'record') {
    if (!values.out) throw new Error('record needs --out <file>');
    const t = await generateTraffic(Number(values.count ?? 5000), Number(values.seed ?? 1), values.data ?? defaultDataDir());
    await writeTraffic(values.out, t);
    console.error(`traffic: ${t.note}`);
    console.log(JSON.stringify(trafficStats(t)));
    return 0;
  }
  if (cmd === 'stats' && file) {
    console.log(JSON.stringify(trafficStats(await readTraffic(file))));
    return 0;
  }
  console.error('usage: traffic.js record --out <file> [--count N] [--seed S] [--data dir] | traffic.js stats <file>');
  return 2;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((c) => (process.exitCode = c), (e: unknown) => {
    console.error(`traffic: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
}
