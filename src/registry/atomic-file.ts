/**
 * Durable, atomic file and directory replacement for the model registry.
 *
 * Every file the registry owns is written to a sibling temp name, fsynced, renamed over the target, and then
 * the directory is fsynced. rename(2) is atomic within a file system, so a reader (the manager's poll, the
 * trainer, the CLI in another process) sees either the old bytes or the new bytes, never a prefix; the fsyncs
 * make the new bytes survive a power cut once the call resolves, and make the rename itself durable.
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { threadId } from 'node:worker_threads';

/** Temp and doomed names carry these markers; a directory scan must skip them (see isTransientName). */
export const TMP_MARKER = '.tmp-';
export const OLD_MARKER = '.old-';

export function isTransientName(name: string): boolean {
  return name.includes(TMP_MARKER) || name.includes(OLD_MARKER);
}

/** A suffix unique across processes and threads, so two writers never share a temp name. */
export function uniqueSuffix(): string {
  return `${process.pid}-${threadId}-${randomBytes(4).toString('hex')}`;
}

export async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes `data` to `file` atomically and durably (temp + fsync + rename + fsync of the directory). */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}${TMP_MARKER}${uniqueSuffix()}`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncPath(path.dirname(file));
}

/** fsyncs every regular file directly inside `dir`, then `dir` itself (model directories are flat). */
export async function fsyncDirTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile()) await fsyncPath(path.join(dir, entry.name));
  }
  await fsyncPath(dir);
}

/**
 * Copies directory `from` to `to` atomically: into a sibling temp directory, fsynced, renamed into place.
 * Fails if `to` exists (the registry never overwrites a model directory).
 */
export async function copyDirAtomic(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  const tmp = `${to}${TMP_MARKER}${uniqueSuffix()}`;
  try {
    await cp(from, tmp, { recursive: true, errorOnExist: true, force: false });
    await fsyncDirTree(tmp);
    const exists = await stat(to).then(
      () => true,
      () => false,
    );
    if (exists) throw new Error(`${to} already exists`);
    await rename(tmp, to);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  await fsyncPath(path.dirname(to));
}

/**
 * Removes a directory so that no scan ever sees it half-deleted: it is renamed to a doomed name first (which
 * scans skip), then deleted.
 */
export async function removeDirAtomic(dir: string): Promise<void> {
  const doomed = `${dir}${OLD_MARKER}${uniqueSuffix()}`;
  try {
    await rename(dir, doomed);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  await rm(doomed, { recursive: true, force: true });
}
