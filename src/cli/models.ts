/**
 * `txrank models`: inspect and steer the model registry directly (no server needed). A running server's model
 * manager notices a change at its next poll (pollIntervalMs) and announces it to the inference workers, after
 * the chosen version passes its load check (a version that fails is put back to the previous one).
 */
import path from 'node:path';
import { openRegistry } from '../registry/registry.js';
import type { RegistryEntry, RegistryState } from '../registry/state.js';
import { UsageError, dataDir, guarded, parseCommand, runIfMain, type CliIo } from './cli.js';

export const MODELS_USAGE = `usage:
  models list [--data <dir>] [--registry <dir>]       every version: status, generation, metrics (* = serving)
  models pin [<version>] [--data <dir>]               serve <version> (default: the serving one) and stop promotions
  models unpin [--data <dir>]                          let the manager promote validated candidates again
  models rollback [--pin] [--data <dir>]              back to the previous good version (--pin: and pin it)
The registry is <data>/models unless --registry names it; the data directory defaults to $TXRANK_DATA_DIR, else ./data.`;

function fmt(x: number | undefined, digits = 4): string {
  return x === undefined ? '-' : x.toFixed(digits);
}

function line(e: RegistryEntry, s: RegistryState): string {
  const star = e.version === s.serving ? '*' : ' ';
  const m = e.validation ?? {};
  const gen = e.servedGeneration === null ? '' : ` gen ${e.servedGeneration}`;
  const quality = m.logLoss !== undefined ? ` logloss ${fmt(m.logLoss, 5)} (serving ${fmt(m.servingLogLoss, 5)}) auc ${fmt(m.auc)}` : '';
  const prog = e.metrics.progressiveLogLoss !== undefined ? ` progressive logloss ${fmt(e.metrics.progressiveLogLoss, 5)}` : '';
  return `${star} ${e.version.padEnd(16)} ${e.status.padEnd(11)}${gen}  parent ${e.parent ?? '-'}  ${e.updatedAt}${quality}${prog}${e.pruned ? ' [pruned]' : ''}\n      ${e.reason}`;
}

function print(io: CliIo, s: RegistryState): void {
  io.out(`serving ${s.serving}  generation ${s.generation}${s.pinned ? '  PINNED' : ''}`);
  for (const e of [...s.entries].reverse()) io.out(line(e, s));
}

/** Runs one command; resolves with the exit code (0 ok, 1 refused or failed, 2 usage). */
export async function runModelsCli(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('models', MODELS_USAGE, argv, io, { data: { type: 'string' }, registry: { type: 'string' }, pin: { type: 'boolean' } });
  if (typeof parsed === 'number') return parsed;
  const { command, rest, values } = parsed;
  const dir = values.registry ?? path.join(dataDir(values.data, io.env), 'models');
  return guarded('models', MODELS_USAGE, io, async () => {
    const reg = await openRegistry(dir);
    switch (command) {
      case 'list':
        if (rest.length !== 0) throw new UsageError('models list takes no arguments');
        print(io, await reg.state());
        return 0;
      case 'pin': {
        if (rest.length > 1) throw new UsageError('models pin takes at most one version');
        const s = await reg.pin(rest[0]);
        io.out(`pinned ${s.serving} (generation ${s.generation}); no candidate is promoted until \`models unpin\``);
        return 0;
      }
      case 'unpin': {
        if (rest.length !== 0) throw new UsageError('models unpin takes no arguments');
        const s = await reg.unpin();
        io.out(`unpinned; serving ${s.serving} (generation ${s.generation})`);
        return 0;
      }
      case 'rollback': {
        if (rest.length !== 0) throw new UsageError('models rollback takes no arguments');
        const before = (await reg.state()).serving;
        const s = await reg.rollback({ pin: values.pin === true });
        io.out(`rolled back ${before} -> ${s.serving} (generation ${s.generation})${s.pinned ? '; pinned' : ''}`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  });
}

runIfMain(import.meta.url, 'models', runModelsCli);
