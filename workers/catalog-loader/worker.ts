/**
 * A one-shot worker thread that validates and loads one catalog (the admin endpoint's upload) into LMDB.
 *
 * Why a thread: parsing, validating and encoding a catalog is CPU work proportional to its size (about 4 s
 * for 100,000 offers); on the main thread it would stall every connection's decisions for that long. Here it
 * runs beside the event loop, and LMDB's write lock orders it with any other writer (the CLI). The thread
 * opens the environment by path, loads, closes, and exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadCatalogText, openStorage } from '../../src/catalog/store.js';
import { toWireError } from '../../src/errors/codes.js';
import type { CatalogLoaderData, CatalogLoaderResult } from '../../src/pool/messages.js';

const data = workerData as CatalogLoaderData;
const storage = openStorage(data.dataDir);
let result: CatalogLoaderResult;
try {
  const loaded = await loadCatalogText(storage, data.text, data.source);
  result = loaded.ok ? { type: 'loaded', version: loaded.version } : { type: 'invalid', errors: loaded.errors };
} catch (err) {
  result = { type: 'failed', error: toWireError(err) };
} finally {
  await storage.close();
}
parentPort?.postMessage(result);
