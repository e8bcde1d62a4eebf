/**
 * Which malloc the serving process runs on. The launcher (src/cli/serve.sh, what `npm start` runs) preloads
 * mimalloc when it is installed; this module is the one place that decides which library that is, and reads
 * back which one the running process actually got.
 *
 * Why not glibc's malloc (bench/RESULTS.md, session 12): every model swap opens and releases ONNX Runtime
 * sessions in each inference worker and the model manager, and frees the previous view's buffers. Under glibc
 * a server swapping ten times a second drifts: its P99 rises by about 1.6x per 1,000 swaps while the same
 * server with no swaps gets faster, and the added time sits in the hand-offs between threads, not in any
 * thread's own work (session 11). On mimalloc the same runs drift far less, with the same time per scoring
 * call and less memory. jemalloc removes the drift too, but doubles the workers' time per scoring call.
 *
 * The choice has to be made before the process starts (LD_PRELOAD is read by the dynamic loader at exec),
 * so it is an environment variable of the launcher, not a server option:
 *
 *   TXRANK_ALLOCATOR=mimalloc   (default) preload mimalloc if one of MIMALLOC_PATHS exists; otherwise run on
 *                               glibc's malloc, and the server warns at start
 *   TXRANK_ALLOCATOR=system     preload nothing: glibc's malloc
 *   TXRANK_ALLOCATOR=/abs/path  preload that library (it must exist)
 *
 * An LD_PRELOAD already set by the caller is left alone: whoever set it chose.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';

/** Where distributions install mimalloc 2 (Debian/Ubuntu package libmimalloc2.0, then the usual prefixes). */
export const MIMALLOC_PATHS: readonly string[] = [
  '/usr/lib/x86_64-linux-gnu/libmimalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libmimalloc.so.2',
  '/usr/lib64/libmimalloc.so.2',
  '/usr/lib/libmimalloc.so.2',
  '/usr/local/lib/libmimalloc.so.2',
];

/**
 * mimalloc's own settings, set for the server unless the caller set them (mimalloc reads them at start).
 *
 * MIMALLOC_DECOMMIT_DELAY (ms, mimalloc 2.0's default 25): how long freed pages stay committed before they are
 * handed back to the OS. A view build frees and reallocates a few MB (the offer side, the scorer graph, ONNX
 * Runtime's buffers); at the default, the pages of one build were returned before the next and faulted in
 * again, and a swap cost 80-84 ms of CPU against glibc's 52-60 (`npm run bench:swap-cpu`, mostly in the
 * inference workers). At 1,000 ms it costs 61 ms, and idle memory still goes back within a second.
 */
export const MIMALLOC_ENV: Readonly<Record<string, string>> = { MIMALLOC_DECOMMIT_DELAY: '1000' };

export interface AllocatorPlan {
  /** The library to preload, or null for glibc's malloc (or for an LD_PRELOAD the caller set). */
  preload: string | null;
  /** What to add to the server's environment: LD_PRELOAD and the allocator's settings the caller left unset. */
  env: Record<string, string>;
  why: string;
}

/**
 * What the launcher should add to the server's environment, from its own. Throws on a TXRANK_ALLOCATOR that
 * is neither a known name nor an existing absolute path: a typo must not silently start the server on
 * another allocator.
 */
export function planAllocator(env: NodeJS.ProcessEnv, exists: (path: string) => boolean = existsSync): AllocatorPlan {
  if (env.LD_PRELOAD) return { preload: null, env: {}, why: `LD_PRELOAD is already set (${env.LD_PRELOAD}); left as it is` };
  if (choosesSystem(env)) return { preload: null, env: {}, why: 'TXRANK_ALLOCATOR=system' };
  const choice = (env.TXRANK_ALLOCATOR ?? 'mimalloc').trim();
  const settings = (lib: string): Record<string, string> =>
    /mimalloc/.test(lib) ? Object.fromEntries(Object.entries(MIMALLOC_ENV).filter(([k]) => env[k] === undefined)) : {};
  if (choice === 'mimalloc' || choice === '') {
    const found = MIMALLOC_PATHS.find((p) => exists(p));
    return found
      ? { preload: found, env: { LD_PRELOAD: found, ...settings(found) }, why: 'mimalloc found' }
      : { preload: null, env: {}, why: `mimalloc is not installed (looked in ${MIMALLOC_PATHS.join(', ')})` };
  }
  if (isAbsolute(choice)) {
    if (!exists(choice)) throw new Error(`TXRANK_ALLOCATOR: ${choice} does not exist`);
    return { preload: choice, env: { LD_PRELOAD: choice, ...settings(choice) }, why: 'TXRANK_ALLOCATOR names it' };
  }
  throw new Error(`TXRANK_ALLOCATOR must be mimalloc, system or an absolute path to a malloc library, got "${choice}"`);
}

/** True when the operator asked for glibc's malloc (TXRANK_ALLOCATOR=system, or its alias glibc). */
function choosesSystem(env: NodeJS.ProcessEnv): boolean {
  const choice = env.TXRANK_ALLOCATOR?.trim();
  return choice === 'system' || choice === 'glibc';
}

/** The plan as shell assignments for the launcher to eval (values single-quoted). */
export function planAsShell(plan: AllocatorPlan): string {
  return Object.entries(plan.env)
    .map(([k, v]) => `${k}='${v.replaceAll("'", "'\\''")}'; export ${k}\n`)
    .join('');
}

export type ActiveAllocator = 'mimalloc' | 'jemalloc' | 'tcmalloc' | 'glibc' | 'unknown';

/**
 * The malloc this process runs on, read from its own memory map: a preloaded allocator is a mapped shared
 * object. 'unknown' off Linux or when the map cannot be read.
 */
export function activeAllocator(maps: () => string = () => readFileSync('/proc/self/maps', 'utf8')): ActiveAllocator {
  let text: string;
  try {
    text = maps();
  } catch {
    return 'unknown';
  }
  if (/\/libmimalloc[^/\s]*\.so/.test(text)) return 'mimalloc';
  if (/\/libjemalloc[^/\s]*\.so/.test(text)) return 'jemalloc';
  if (/\/libtcmalloc[^/\s]*\.so/.test(text)) return 'tcmalloc';
  if (/\/libc(-[\d.]+)?\.so/.test(text)) return 'glibc';
  return 'unknown';
}

/** The start-up line about the allocator: a warning when the server runs on glibc's malloc by accident. */
export function describeAllocator(active: ActiveAllocator, env: NodeJS.ProcessEnv): { warn: boolean; message: string } {
  if (active !== 'glibc') return { warn: false, message: `allocator: ${active}` };
  if (choosesSystem(env)) return { warn: false, message: 'allocator: glibc malloc (TXRANK_ALLOCATOR=system)' };
  let plan: AllocatorPlan;
  try {
    plan = planAllocator({ ...env, LD_PRELOAD: undefined });
  } catch (err) {
    return { warn: true, message: `allocator: glibc malloc (${(err as Error).message})` };
  }
  const fix = plan.preload
    ? `started without the launcher; \`npm start\` or src/cli/serve.sh preloads ${plan.preload}`
    : `${plan.why}; install it (Debian/Ubuntu: libmimalloc2.0)`;
  return { warn: true, message: `allocator: glibc malloc, on which P99 drifts up while models swap often (docs/OPERATIONS.md): ${fix}` };
}
