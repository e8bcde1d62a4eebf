/**
 * File or text -> validated catalog -> one new LMDB version. Validation runs to completion before anything
 * is written, so a refused catalog changes nothing: the serving version and the retained history stay as
 * they were.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { parseCatalogJsonl } from './jsonl.js';
import { CATALOG_LIMITS } from './schema.js';
export function sha256Hex(bytes) {
    return createHash('sha256').update(bytes).digest('hex');
}
/** Validates `text` and, only when it is valid, loads it as a new current version. */
export async function loadCatalogText(storage, text, source, now = Date.now()) {
    return loadParsed(storage, text, sha256Hex(text), source, now);
}
/** Reads, hashes (the file's bytes) and validates a JSONL file; loads it only when it is valid. */
export async function loadCatalogFile(storage, path, now = Date.now()) {
    let bytes;
    try {
        const size = (await stat(path)).size;
        if (size > CATALOG_LIMITS.maxFileBytes) {
            return fileIssue(`the file is ${size} bytes; at most ${CATALOG_LIMITS.maxFileBytes}`);
        }
        bytes = await readFile(path);
    }
    catch (err) {
        return fileIssue(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return loadParsed(storage, bytes.toString('utf8'), sha256Hex(bytes), path, now);
}
async function loadParsed(storage, text, sha256, source, now) {
    const parsed = parseCatalogJsonl(text, now);
    if (!parsed.ok)
        return parsed;
    const version = await storage.catalog.load({ tenants: parsed.tenants, offers: parsed.offers, source, sha256 });
    return { ok: true, version };
}
function fileIssue(message) {
    return { ok: false, errors: [{ line: 0, field: '', message }] };
}
/** The report line format the CLI and the admin endpoint print: `line N: field: message`. */
export function formatIssue(issue) {
    if (issue.line === 0)
        return issue.field === '' ? `file: ${issue.message}` : `file: ${issue.field}: ${issue.message}`;
    return issue.field === '' ? `line ${issue.line}: ${issue.message}` : `line ${issue.line}: ${issue.field}: ${issue.message}`;
}
