/**
 * `txrank catalog`: load a JSONL catalog into LMDB, write the demo catalog, list retained versions.
 *
 * A load from this CLI while the server runs is safe: it opens the same LMDB environment as a second writer
 * (LMDB's write lock orders the two processes), and the server's catalog poll adopts the new version.
 */
import { writeFile } from 'node:fs/promises';
import { generateDemoCatalog } from '../catalog/demo.js';
import { formatIssue, loadCatalogFile } from '../catalog/load.js';
import { openStorage } from '../catalog/store.js';
import { UsageError, dataDir, guarded, parseCommand, runIfMain, type CliIo } from './cli.js';

export type { CliIo };

export const CATALOG_USAGE = `usage:
  catalog load <file.jsonl> [--data <dir>]     validate and load; prints the new version or every error
  catalog demo [--offers N] [--tenants N] [--seed S] [--out <file.jsonl>]
                                               write the demo catalog (stdout without --out)
  catalog list [--data <dir>]                  list retained catalog versions (* = serving)
The data directory defaults to $TXRANK_DATA_DIR, else ./data.`;

function intFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new Error(`--${name} must be an integer in ${min}..${max}`);
  }
  return n;
}

/** Runs one command; resolves with the process exit code (0 ok, 1 refused or failed, 2 usage). */
export async function runCatalogCli(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('catalog', CATALOG_USAGE, argv, io, {
    data: { type: 'string' },
    offers: { type: 'string' },
    tenants: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
  });
  if (typeof parsed === 'number') return parsed;
  const { command, rest, values } = parsed;
  return guarded('catalog', CATALOG_USAGE, io, async () => {
    switch (command) {
      case 'load': {
        if (rest.length !== 1) throw new UsageError('catalog load takes exactly one file');
        const storage = openStorage(dataDir(values.data, io.env));
        try {
          const result = await loadCatalogFile(storage, rest[0]);
          if (!result.ok) {
            for (const issue of result.errors) io.err(formatIssue(issue));
            io.err(`catalog: refused ${rest[0]}: ${result.errors.length} issue(s); nothing was loaded`);
            return 1;
          }
          const info = storage.catalog.list().find((v) => v.version === result.version);
          io.out(`loaded ${rest[0]} as catalog version ${result.version}` + (info ? ` (${info.offers} offers, ${info.tenants} tenants, ${info.campaigns} campaigns, ${info.rules} rules)` : ''));
          return 0;
        } finally {
          await storage.close();
        }
      }
      case 'demo': {
        if (rest.length !== 0) throw new UsageError('catalog demo takes no positional arguments');
        const text = generateDemoCatalog({
          offers: intFlag('offers', values.offers, 0, 1_000_000),
          tenants: intFlag('tenants', values.tenants, 1, 1000),
          seed: intFlag('seed', values.seed, -(2 ** 31), 2 ** 32 - 1),
        });
        if (values.out === undefined) io.out(text.trimEnd());
        else {
          await writeFile(values.out, text);
          io.err(`wrote ${values.out}`);
        }
        return 0;
      }
      case 'list': {
        if (rest.length !== 0) throw new UsageError('catalog list takes no positional arguments');
        const storage = openStorage(dataDir(values.data, io.env));
        try {
          const current = storage.catalog.currentVersion();
          const versions = storage.catalog.list();
          if (versions.length === 0) io.out('no catalog loaded');
          for (const v of versions) {
            io.out(
              `${v.version === current ? '*' : ' '} v${v.version}  ${new Date(v.loadedAt).toISOString()}  ` +
                `${v.offers} offers  ${v.tenants} tenants  ${v.campaigns} campaigns  ${v.rules} rules  ` +
                `sha256:${v.sha256.slice(0, 12)}  ${v.source}`,
            );
          }
          return 0;
        } finally {
          await storage.close();
        }
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  });
}

runIfMain(import.meta.url, 'catalog', runCatalogCli);
