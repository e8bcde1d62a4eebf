/**
 * What the operator CLIs (catalog, keys, models) share: their I/O, the data-dir default, the exit-code
 * convention (0 ok, 1 refused or failed, 2 usage) and how a module runs when it is the started script.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

export const processIo: CliIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  env: process.env,
};

/** A mistake in the command line: answered with the usage text and exit code 2. */
export class UsageError extends Error {}

export function dataDir(flag: string | undefined, env: CliIo['env']): string {
  return flag ?? (env.TXRANK_DATA_DIR || './data');
}

/** Runs a command body with the shared exit-code convention. */
export async function guarded(name: string, usage: string, io: CliIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${name}: ${err.message}\n${usage}`);
      return 2;
    }
    io.err(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/** True when `moduleUrl` is the script node was started with (so importing a CLI module runs nothing). */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === moduleUrl;
  } catch {
    return false;
  }
}

/** Runs `run` on the process's arguments when `moduleUrl` is the started script, setting the exit code. */
export function runIfMain(moduleUrl: string, name: string, run: (argv: string[], io: CliIo) => Promise<number>): void {
  if (!isMain(moduleUrl)) return;
  run(process.argv.slice(2), processIo).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses `<command> [args] [--flags]`. Returns the command, its positional arguments and the flag values; or,
 * when the line is a usage error or a request for help, prints the usage and returns the exit code (2 for an
 * error, 0 for --help or `help`).
 */
export function parseCommand<O extends OptionSpecs>(
  name: string,
  usage: string,
  argv: string[],
  io: CliIo,
  options: O,
): { command: string; rest: string[]; values: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; strict: true; options: O }>>['values'] } | number {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...options, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    io.err(`${name}: ${err instanceof Error ? err.message : String(err)}\n${usage}`);
    return 2;
  }
  const [command, ...rest] = parsed.positionals;
  const asked = (parsed.values as { help?: boolean }).help === true || command === 'help';
  if (asked || command === undefined) {
    (asked ? io.out : io.err)(usage);
    return asked ? 0 : 2;
  }
  return { command, rest, values: parsed.values as never };
}
