/**
 * A lock file that serialises read-modify-write of registry.json between every writer: the model manager
 * thread, the trainer thread (publishing candidates) and `txrank models` CLI processes.
 *
 * Why a lock and not a single writer: the CLI must work while the server runs (and when it does not), so
 * the registry has writers in several processes. Each critical section only reads a few kilobytes of JSON,
 * changes it and writes it back (milliseconds); the expensive parts (writing ONNX files, validating) happen
 * outside the lock.
 *
 * The lock is `registry.lock`, created with O_EXCL ('wx'), holding the owner's pid, thread and a random token.
 * A holder that died leaves the file behind; it is broken when its pid no longer exists or when it is older
 * than `staleMs` (a live holder never keeps it nearly that long). Breaking renames the file to a unique name
 * before deleting it, so two waiters that both judge it stale cannot delete each other's fresh lock.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { threadId } from 'node:worker_threads';
import { TxrankError } from '../errors/codes.js';
import { uniqueSuffix } from './atomic-file.js';

export interface LockOptions {
  /** Give up waiting after this long (ms). */
  timeoutMs: number;
  /** A lock file older than this (ms) is considered abandoned. */
  staleMs: number;
}

interface LockRecord {
  pid: number;
  threadId: number;
  token: string;
  at: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readRecord(file: string): Promise<LockRecord | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LockRecord;
  } catch {
    return null;
  }
}

async function isStale(file: string, staleMs: number): Promise<boolean> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(file)).mtimeMs;
  } catch {
    return false; // gone already: just retry the create
  }
  const rec = await readRecord(file);
  // A record from another process whose pid is gone is stale at once; in our own process a dead thread's
  // lock can only be judged by age (threads of one process share the pid).
  if (rec && rec.pid !== process.pid && !pidAlive(rec.pid)) return true;
  return Date.now() - mtimeMs > staleMs;
}

/** In-process queue per lock path: threads of this process still contend through the file. */
const localQueues = new Map<string, Promise<void>>();

export async function withFileLock<T>(file: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const prev = localQueues.get(file) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const tail = prev.then(() => mine);
  localQueues.set(file, tail);
  await prev;
  try {
    return await lockedSection(file, opts, fn);
  } finally {
    release();
    if (localQueues.get(file) === tail) localQueues.delete(file);
  }
}

async function lockedSection<T>(file: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const token = randomBytes(8).toString('hex');
  const deadline = Date.now() + opts.timeoutMs;
  let wait = 2;
  for (;;) {
    try {
      const fh = await open(file, 'wx');
      try {
        const rec: LockRecord = { pid: process.pid, threadId, token, at: Date.now() };
        await fh.writeFile(JSON.stringify(rec));
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStale(file, opts.staleMs)) {
      const grave = `${file}.stale-${uniqueSuffix()}`;
      await rename(file, grave).catch(() => undefined);
      await rm(grave, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      const holder = await readRecord(file);
      throw new TxrankError(
        'internal',
        `model registry lock ${file} is held by pid ${holder?.pid ?? '?'} thread ${holder?.threadId ?? '?'} ` +
          `for more than ${opts.timeoutMs} ms`,
      );
    }
    await sleep(wait);
    wait = Math.min(50, wait * 2);
  }
  try {
    return await fn();
  } finally {
    // Remove only our own lock: if it was broken as stale meanwhile, the file is someone else's now.
    const rec = await readRecord(file);
    if (rec?.token === token) await rm(file, { force: true });
  }
}
