/**
 * Runs a catalog load on a one-shot worker thread (workers/catalog-loader), so the caller's event loop stays
 * free while a large catalog is parsed, validated and encoded.
 */
import { Worker } from 'node:worker_threads';
import { TxrankError } from '../errors/codes.js';
import type { CatalogLoaderData, CatalogLoaderResult } from '../pool/messages.js';
import { workerPath } from '../pool/worker-path.js';
import type { LoadResult } from './load.js';

export function loadCatalogInThread(dataDir: string, text: string, source: string): Promise<LoadResult> {
  const data: CatalogLoaderData = { dataDir, text, source };
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerPath('catalog-loader'), { workerData: data });
    let answered = false;
    worker.once('message', (msg: CatalogLoaderResult) => {
      answered = true;
      switch (msg.type) {
        case 'loaded':
          resolve({ ok: true, version: msg.version });
          break;
        case 'invalid':
          resolve({ ok: false, errors: msg.errors });
          break;
        case 'failed':
          reject(new TxrankError(msg.error.code, msg.error.message));
          break;
        default: {
          const never: never = msg;
          reject(new Error(`unknown catalog loader message ${JSON.stringify(never)}`));
        }
      }
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!answered) reject(new TxrankError('internal', `the catalog loader exited with code ${code} before answering`));
    });
  });
}
