/**
 * Starts a real txrank server for a test: real uWebSockets.js on an ephemeral loopback port, a real LMDB
 * environment in a temp dir, real inference worker threads running the compiled worker, real ONNX sessions
 * with the shipped model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage, loadCatalogText } from '../../src/catalog/store.js';
import { generateDemoCatalog } from '../../src/catalog/demo.js';
import { resolveOptions, type Options } from '../../src/config/options.js';
import { TxrankServer } from '../../src/server.js';
import { DecisionClient, type Answer } from '../../src/client/client.js';

export const MODEL_DIR = 'models/shipped';

export interface TestServer {
  server: TxrankServer;
  dataDir: string;
  url: string;
  http: string;
  keys: Record<string, string>;
  adminKey: string;
  connect(tenant?: string): Promise<DecisionClient>;
  close(): Promise<void>;
}

export function demoCatalog(offers = 600, seed = 11): string {
  return generateDemoCatalog({ offers, seed, tenants: 2 });
}

export async function startTestServer(opts: { catalog?: string | null; overrides?: Partial<Options>; tenants?: string[] } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'txrank-test-'));
  const storage = openStorage(dataDir);
  const keys: Record<string, string> = {};
  let adminKey: string;
  try {
    const catalog = opts.catalog === undefined ? demoCatalog() : opts.catalog;
    if (catalog !== null) {
      const loaded = await loadCatalogText(storage, catalog, 'test');
      if (!loaded.ok) throw new Error(`test catalog invalid: ${JSON.stringify(loaded.errors.slice(0, 3))}`);
    }
    for (const tenant of opts.tenants ?? ['freshmart', 'hometown']) keys[tenant] = await storage.keys.mint('tenant', tenant, 'test');
    adminKey = await storage.keys.mint('admin', null, 'test');
  } finally {
    await storage.close();
  }
  const options = resolveOptions({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    modelDir: MODEL_DIR,
    demo: false,
    poolSize: 2,
    catalogPollMs: 50,
    learning: false,
    ...opts.overrides,
  });
  const server = await TxrankServer.start(options);
  if (opts.catalog !== null) await server.waitReady(20_000);
  const http = `http://127.0.0.1:${server.port}`;
  return {
    server,
    dataDir,
    url: server.url,
    http,
    keys,
    adminKey,
    connect: (tenant = 'freshmart') => DecisionClient.connect(server.url, keys[tenant]),
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let txnSeq = 0;

/** A realistic small basket; `overrides` patches the request. */
export function decideRequest(overrides: Record<string, unknown> = {}) {
  txnSeq++;
  return {
    tenant: 'freshmart',
    placement: 'checkout',
    k: 3,
    txn: {
      id: `t-${txnSeq}`,
      ts: Date.UTC(2026, 10, 27, 18, 30),
      currency: 'USD',
      channel: 'web' as const,
      country: 'US',
      items: [
        { sku: 'diapers-3', category: 'baby/diapers', price: 24.99, quantity: 1 },
        { sku: 'wipes', category: 'baby/wipes', price: 6.49, quantity: 2 },
        { sku: 'milk', category: 'dairy_eggs/milk', price: 3.79, quantity: 1 },
      ],
      total: 41.76,
    },
    ...overrides,
  };
}

/**
 * Keeps `lanes` decide requests in flight on `client` until stopped (each lane sends its next request when
 * its answer arrives): continuous pipelined load for swap tests. `answers` fills as they come.
 */
export function pipelinedLoad(client: DecisionClient, lanes = 32): { answers: Answer[]; stop: () => Promise<void> } {
  const answers: Answer[] = [];
  let running = true;
  let id = 0;
  const lane = async (): Promise<void> => {
    while (running) answers.push(await client.decide(decideRequest({ id: id++, deadline_ms: 5000 })));
  };
  const all = Array.from({ length: lanes }, lane);
  return {
    answers,
    stop: async () => {
      running = false;
      await Promise.all(all);
    },
  };
}
