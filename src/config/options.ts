/**
 * Every operator-facing option: its default, unit and meaning, in one place. The README's options table is
 * generated from OPTION_SPECS (`node dist/src/cli/serve.js --help-markdown`) and a test keeps the two equal.
 *
 * Each option can be set by a flag (--pool-size 2) or an environment variable (TXRANK_POOL_SIZE=2); a flag
 * wins over the environment, the environment over the default. Every value is validated at start and a bad
 * one stops the process with a message naming the option and the expected form.
 */
import { availableParallelism } from 'node:os';
import { TxrankError } from '../errors/codes.js';

export interface Options {
  host: string;
  port: number;
  dataDir: string;
  modelDir: string;
  demo: boolean;
  poolSize: number;
  concurrentTasksPerWorker: number;
  maxBatch: number;
  maxInFlight: number;
  maxInFlightPerConnection: number;
  maxFrameBytes: number;
  maxBackpressureBytes: number;
  idleTimeoutSeconds: number;
  defaultDeadlineMs: number;
  drainTimeoutMs: number;
  catalogPollMs: number;
  adminKey: string;
  allowJsFallback: boolean;
  learning: boolean;
  clickWindowMs: number;
  exportEveryExamples: number;
  exportEverySeconds: number;
  backgroundNice: number;
}

type Kind =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'bool' }
  | { kind: 'string'; allowEmpty: boolean }
  | { kind: 'host' };

interface OptionSpec<K extends keyof Options> {
  key: K;
  default: Options[K];
  /** Shown in the README instead of the literal default when the default depends on the machine. */
  defaultText?: string;
  unit: string;
  doc: string;
  type: Kind;
}

type Specs = { [K in keyof Options]: OptionSpec<K> };

/**
 * The inference pool defaults to one worker per core, less one for the main thread when there are more than
 * two. On 2 cores two workers win: the main thread's share (socket I/O, decode, encode) is small and the
 * workers block in ONNX Runtime, so the OS interleaves them well (see bench/RESULTS.md).
 */
function defaultPoolSize(): number {
  const cores = availableParallelism();
  return cores <= 2 ? Math.max(1, cores) : Math.min(cores - 1, 8);
}

export const OPTION_SPECS: Specs = {
  host: { key: 'host', default: '127.0.0.1', unit: 'address', doc: 'Interface to listen on; 0.0.0.0 for all.', type: { kind: 'host' } },
  port: { key: 'port', default: 7070, unit: 'port', doc: 'TCP port for WebSocket and HTTP; 0 picks a free one.', type: { kind: 'int', min: 0, max: 65535 } },
  dataDir: { key: 'dataDir', default: './data', unit: 'path', doc: 'LMDB environment directory (catalog, keys).', type: { kind: 'string', allowEmpty: false } },
  modelDir: { key: 'modelDir', default: 'models/shipped', unit: 'path', doc: 'Model directory (manifest.json + ONNX towers) served at start.', type: { kind: 'string', allowEmpty: false } },
  demo: { key: 'demo', default: true, unit: 'bool', doc: 'Seed the demo catalog into an empty data dir and mint fresh development keys at start (printed once). Turn off in production.', type: { kind: 'bool' } },
  poolSize: { key: 'poolSize', default: defaultPoolSize(), defaultText: 'cores (<=2), else cores-1 (max 8)', unit: 'threads', doc: 'Inference worker threads.', type: { kind: 'int', min: 1, max: 64 } },
  concurrentTasksPerWorker: { key: 'concurrentTasksPerWorker', default: 2, unit: 'tasks', doc: 'Batches a worker may hold at once; >1 hides the hand-off wake-up cost.', type: { kind: 'int', min: 1, max: 16 } },
  maxBatch: { key: 'maxBatch', default: 16, unit: 'requests', doc: 'Most decisions sent to a worker in one task (batches form only from requests already waiting).', type: { kind: 'int', min: 1, max: 256 } },
  maxInFlight: { key: 'maxInFlight', default: 4096, unit: 'requests', doc: 'Accepted but unanswered decisions, server-wide; beyond it requests are answered `overloaded` at once.', type: { kind: 'int', min: 1, max: 1_000_000 } },
  maxInFlightPerConnection: { key: 'maxInFlightPerConnection', default: 1024, unit: 'requests', doc: 'The same bound per connection, so one gateway cannot take the whole server.', type: { kind: 'int', min: 1, max: 1_000_000 } },
  maxFrameBytes: { key: 'maxFrameBytes', default: 65536, unit: 'bytes', doc: 'Largest accepted request frame; larger ones are answered `frame_too_large`. Frames over 16x this close the connection (1009).', type: { kind: 'int', min: 1024, max: 16 * 1024 * 1024 } },
  maxBackpressureBytes: { key: 'maxBackpressureBytes', default: 4 * 1024 * 1024, unit: 'bytes', doc: 'Answers buffered for a client that does not read; past it the connection is closed.', type: { kind: 'int', min: 65536, max: 1024 * 1024 * 1024 } },
  idleTimeoutSeconds: { key: 'idleTimeoutSeconds', default: 120, unit: 's', doc: 'Close a WebSocket silent for this long (uWS sends pings automatically); 0 disables.', type: { kind: 'int', min: 0, max: 960 } },
  defaultDeadlineMs: { key: 'defaultDeadlineMs', default: 100, unit: 'ms', doc: 'Deadline of a request that names none; past it the request is answered `deadline_exceeded`, not computed.', type: { kind: 'int', min: 1, max: 10_000 } },
  drainTimeoutMs: { key: 'drainTimeoutMs', default: 5000, unit: 'ms', doc: 'On SIGTERM/SIGINT, how long queued requests may wait to be served before they are failed with shutting_down; requests already on a worker always finish.', type: { kind: 'int', min: 0, max: 120_000 } },
  catalogPollMs: { key: 'catalogPollMs', default: 500, unit: 'ms', doc: 'How often the server checks LMDB for a catalog loaded by another process (the CLI).', type: { kind: 'int', min: 10, max: 60_000 } },
  adminKey: { key: 'adminKey', default: '', unit: 'secret', doc: 'Extra admin API key accepted besides those in the key store (empty: none).', type: { kind: 'string', allowEmpty: true } },
  learning: { key: 'learning', default: true, unit: 'bool', doc: 'Run the online learning loop: the trainer thread (engagement -> new candidate models) and the model manager thread (validate, promote, hot-swap). Off: serve --model-dir as is.', type: { kind: 'bool' } },
  clickWindowMs: { key: 'clickWindowMs', default: 3_600_000, unit: 'ms', doc: 'Click attribution window: a click within it labels the impression 1; when it closes without one, 0.', type: { kind: 'int', min: 1000, max: 30 * 86_400_000 } },
  exportEveryExamples: { key: 'exportEveryExamples', default: 20_000, unit: 'examples', doc: 'The trainer exports a candidate model after this many new labelled examples...', type: { kind: 'int', min: 1, max: 100_000_000 } },
  exportEverySeconds: { key: 'exportEverySeconds', default: 60, unit: 's', doc: '...or after this long, whichever comes first (with at least 1,000 new examples, or exportEveryExamples if smaller).', type: { kind: 'int', min: 1, max: 86_400 } },
  backgroundNice: { key: 'backgroundNice', default: 10, unit: 'nice', doc: 'OS priority of the learning threads (model manager, trainer) on Linux: 0 leaves it unchanged, 19 is lowest. Above 0, serving threads win the cores when a swap or training competes with decisions.', type: { kind: 'int', min: 0, max: 19 } },
  allowJsFallback: { key: 'allowJsFallback', default: false, unit: 'bool', doc: 'Start even when uWebSockets.js runs its slow pure-JS fallback instead of the native server.', type: { kind: 'bool' } },
};

export const OPTION_KEYS = Object.keys(OPTION_SPECS) as (keyof Options)[];

export function defaultOptions(): Options {
  const out = {} as Record<keyof Options, unknown>;
  for (const key of OPTION_KEYS) out[key] = OPTION_SPECS[key].default;
  return out as Options;
}

/** pool-size */
export function flagName(key: keyof Options): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** TXRANK_POOL_SIZE */
export function envName(key: keyof Options): string {
  return 'TXRANK_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

function bad(key: keyof Options, source: string, raw: unknown, expected: string): never {
  throw new TxrankError('bad_request', `option ${flagName(key)} (${source}): got ${JSON.stringify(raw)}, expected ${expected}`);
}

function parseValue<K extends keyof Options>(key: K, raw: unknown, source: string): Options[K] {
  const t = OPTION_SPECS[key].type;
  switch (t.kind) {
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isInteger(n) || n < t.min || n > t.max) bad(key, source, raw, `an integer from ${t.min} to ${t.max}`);
      return n as Options[K];
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw as Options[K];
      const s = String(raw).trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(s)) return true as Options[K];
      if (['0', 'false', 'no', 'off'].includes(s)) return false as Options[K];
      return bad(key, source, raw, 'true or false');
    }
    case 'string': {
      if (typeof raw !== 'string' || (!t.allowEmpty && raw.length === 0)) bad(key, source, raw, 'a non-empty string');
      return raw as Options[K];
    }
    case 'host': {
      if (typeof raw !== 'string' || !/^[A-Za-z0-9.:\-[\]]+$/.test(raw)) bad(key, source, raw, 'a hostname or IP address');
      return raw as Options[K];
    }
    default: {
      const never: never = t;
      throw new Error(`unhandled option kind ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Resolves options from (highest first) explicit overrides (flags, or a test's object), the environment,
 * then defaults. Unknown keys in `overrides` are refused, as are unknown TXRANK_* variables, so that a typo
 * does not silently leave a default in force.
 */
export function resolveOptions(overrides: Partial<Record<keyof Options, unknown>> = {}, env: NodeJS.ProcessEnv = {}): Options {
  const out = defaultOptions() as Record<keyof Options, unknown>;
  // TXRANK_ALLOCATOR is read by the launcher before the process starts (src/runtime/allocator.ts), not here.
  const known = new Set([...OPTION_KEYS.map(envName), 'TXRANK_ALLOCATOR']);
  for (const name of Object.keys(env)) {
    if (name.startsWith('TXRANK_') && !known.has(name)) {
      throw new TxrankError('bad_request', `unknown environment variable ${name}; known: ${[...known].join(', ')}`);
    }
  }
  for (const key of OPTION_KEYS) {
    const fromEnv = env[envName(key)];
    if (fromEnv !== undefined) out[key] = parseValue(key, fromEnv, `env ${envName(key)}`);
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in OPTION_SPECS)) throw new TxrankError('bad_request', `unknown option ${k}`);
    if (v === undefined) continue;
    const key = k as keyof Options;
    out[key] = parseValue(key, v, `--${flagName(key)}`);
  }
  return out as Options;
}

/** The options table of the README, generated from OPTION_SPECS. */
export function optionsMarkdown(): string {
  const rows = OPTION_KEYS.map((key) => {
    const s = OPTION_SPECS[key];
    const def = s.defaultText ?? (typeof s.default === 'string' ? (s.default === '' ? '(empty)' : s.default) : String(s.default));
    return `| \`--${flagName(key)}\` | \`${envName(key)}\` | ${def} | ${s.unit} | ${s.doc} |`;
  });
  return ['| flag | environment | default | unit | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}
