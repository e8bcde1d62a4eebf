/**
 * File or text -> validated catalog -> one new LMDB version. Validation runs to completion before anything
 * is written, so a refused catalog changes nothing: the serving version and the retained history stay as
 * they were.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { parseCatalogJsonl, type CatalogIssue } from './jsonl.js';
import { CATALOG_LIMITS } from './schema.js';
import type { Storage } from './store.js';

export type LoadResult = { ok: true; version: number } | { ok: false; errors: CatalogIssue[] };

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Validates `text` and, only when it is valid, loads it as a new current version. */
export async function loadCatalogText(
  storage: Storage,
  text: string,
  source: string,
  now: number = Date.now(),
): Promise<LoadResult> {
  return loadParsed(storage, text, sha256Hex(text), source, now);
}

/** Reads, hashes (the file's bytes) and validates a JSONL file; loads it only when it is valid. */
export async function loadCatalogFile(storage: Storage, path: string, now: number = Date.now()): Promise<LoadResult> {
  let bytes: Buffer;
  try {
    const size = (await stat(path)).size;
    if (size > CATALOG_LIMITS.maxFileBytes) {
      return fileIssue(`the file is ${size} bytes; at most ${CATALOG_LIMITS.maxFileBytes}`);
    }
    bytes = await readFile(path);
  } catch (err) {
    return fileIssue(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return loadParsed(storage, bytes.toString('utf8'), sha256Hex(bytes), path, now);
}

async function loadParsed(
  storage: Storage,
  text: string,
  sha256: string,
  source: string,
  now: number,
): Promise<LoadResult> {
  const parsed = parseCatalogJsonl(text, now);
  if (!parsed.ok) return parsed;
  const { tenants, offers, campaigns, rules } = parsed;
  const version = await storage.catalog.load({ tenants, offers, campaigns, rules, source, sha256 });
  return { ok: true, version };
}

function fileIssue(message: string): LoadResult {
  return { ok: false, errors: [{ line: 0, field: '', message }] };
}

/** The report line format the CLI and the admin endpoint print: `line N: field: message`. */
export function formatIssue(issue: CatalogIssue): string {
  if (issue.line === 0) return issue.field === '' ? `file: ${issue.message}` : `file: ${issue.field}: ${issue.message}`;
  return issue.field === '' ? `line ${issue.line}: ${issue.message}` : `line ${issue.line}: ${issue.field}: ${issue.message}`;
}
