/**
 * The naive baseline: what a typical team would write first. `ws` for the socket, JSON for the messages
 * (the same keys as docs/PROTOCOL.md, as text frames), and the model run on the main thread with ONNX
 * Runtime's DEFAULT session options over the full per-candidate features of every offer, for every request:
 * no worker pool, no precomputed offer embeddings, no batching.
 *
 * Kept fair on purpose: the offer feature rows are built once at start (a catalog is static), ranking uses a
 * linear top-k rather than a sort of the whole catalog, and the catalog, eligibility rules, bid scaling, model
 * weights and answer fields are txrank's. It is only the serving design that differs.
 *
 *   node dist/bench/baselines/naive-server.js --port P --catalog file.jsonl --key KEY [--model-dir models/shipped]
 *
 * Listens on 127.0.0.1 only: ws://127.0.0.1:P/v1/ws (Authorization: Bearer KEY), GET /readyz.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { WebSocketServer } from 'ws';
import { parseCatalogJsonl } from '../../src/catalog/jsonl.js';
import type { Offer, Tenant } from '../../src/catalog/types.js';
import { offerMatrix } from '../../src/features/offer.js';
import { OFFER_DIM, TXN_DIM } from '../../src/features/spec.js';
import { transactionFeatures } from '../../src/features/transaction.js';
import { readModelDir } from '../../src/model/model-dir.js';
import { weightsFromModel } from '../../src/model/onnx-weights.js';
import type { Transaction } from '../../src/protocol/messages.js';
import { bidScale } from '../../src/ranking/bid-scale.js';
import { topK, type EligibilityColumns } from '../../src/ranking/top-k.js';
import { NAIVE_ROW, buildPerCandidateModel } from './naive-model.js';

interface TenantState {
  tenant: Tenant;
  offers: Offer[];
  offerRows: Float32Array;
  scale: Float32Array;
  elig: EligibilityColumns;
  /** Candidate matrices not in use. */
  free: Float32Array[];
}

export interface NaiveEngine {
  modelVersion: string;
  tenants: Map<string, TenantState>;
  session: ort.InferenceSession;
}

export async function createNaiveEngine(catalogText: string, modelDir: string, sessionOptions?: ort.InferenceSession.SessionOptions): Promise<NaiveEngine> {
  const parsed = parseCatalogJsonl(catalogText);
  if (!parsed.ok) throw new Error(`catalog invalid: ${parsed.errors.length} issue(s), first: ${JSON.stringify(parsed.errors[0])}`);
  const model = await readModelDir(modelDir);
  const bytes = buildPerCandidateModel(weightsFromModel(model));
  // Default options on purpose: this is what a team that does not tune ONNX Runtime gets.
  const session = sessionOptions ? await ort.InferenceSession.create(bytes, sessionOptions) : await ort.InferenceSession.create(bytes);
  const tenants = new Map<string, TenantState>();
  for (const tenant of parsed.tenants) {
    const offers = parsed.offers.filter((o) => o.tenant === tenant.id);
    const n = offers.length;
    tenants.set(tenant.id, {
      tenant,
      offers,
      offerRows: offerMatrix(offers, tenant.currency),
      scale: Float32Array.from(offers, (o) => bidScale(o.bid)),
      elig: {
        active: Uint8Array.from(offers, (o) => (o.status === 'active' ? 1 : 0)),
        start: Float64Array.from(offers, (o) => o.start),
        end: Float64Array.from(offers, (o) => o.end),
      },
      free: [],
    });
    void n;
  }
  return { modelVersion: `${model.manifest.version}-naive`, tenants, session };
}

/** p for every offer of the tenant: builds all n candidate rows and runs both towers on each. */
export async function scoreAll(engine: NaiveEngine, t: TenantState, txn: Transaction): Promise<Float32Array> {
  const n = t.offers.length;
  const f = new Float32Array(TXN_DIM);
  transactionFeatures(txn, f);
  // Candidate matrices are reused through a free list (one per request in flight): a fresh 3.4 MB matrix per
  // request at 10k offers costs more in page faults than the model itself, which would make the baseline look
  // worse for a reason that has nothing to do with its design. The offer part is rewritten anyway: no
  // precomputation is kept across requests beyond the catalog's feature rows.
  const x = t.free.pop() ?? new Float32Array(n * NAIVE_ROW);
  try {
    const rows = t.offerRows;
    for (let i = 0; i < n; i++) {
      x.set(f, i * NAIVE_ROW);
      x.set(rows.subarray(i * OFFER_DIM, (i + 1) * OFFER_DIM), i * NAIVE_ROW + TXN_DIM);
    }
    const out = await engine.session.run({ x: new ort.Tensor('float32', x, [n, NAIVE_ROW]) });
    return out.p.data as Float32Array;
  } finally {
    t.free.push(x);
  }
}

interface DecideJson {
  v?: unknown;
  type?: unknown;
  id?: unknown;
  tenant?: unknown;
  placement?: unknown;
  txn?: Transaction;
  k?: unknown;
}

async function decide(engine: NaiveEngine, tenantOfKey: string, raw: string, receivedAt: number): Promise<string> {
  let req: DecideJson;
  try {
    req = JSON.parse(raw) as DecideJson;
  } catch {
    return JSON.stringify({ v: 1, type: 'error', code: 'malformed', message: 'not JSON' });
  }
  const id = req.id;
  const err = (code: string, message: string): string => JSON.stringify({ v: 1, type: 'error', id, code, message });
  if (req.v !== 1) return err('unsupported_version', 'v must be 1');
  if (req.type !== 'decide') return err('unknown_type', 'type must be decide');
  if (req.tenant !== tenantOfKey) return err('forbidden', 'wrong tenant');
  const t = engine.tenants.get(req.tenant);
  if (!t) return err('unknown_tenant', 'no such tenant');
  const placement = t.tenant.placements.find((p) => p.id === req.placement);
  if (!placement) return err('unknown_placement', 'no such placement');
  if (!req.txn || !Array.isArray(req.txn.items) || req.txn.items.length === 0) return err('bad_request', '/txn');
  const k = Math.min(typeof req.k === 'number' ? req.k : 1, placement.slots);
  const p = await scoreAll(engine, t, req.txn);
  const n = t.offers.length;
  const ev = new Float32Array(n);
  for (let i = 0; i < n; i++) ev[i] = p[i] * t.scale[i];
  const picked = new Int32Array(k);
  const pickedEv = new Float64Array(k);
  const found = topK(ev, 0, n, t.elig, Date.now(), k, picked, pickedEv);
  const offers = [];
  for (let j = 0; j < found; j++) {
    const o = t.offers[picked[j]];
    offers.push({ offer_id: o.id, campaign_id: o.campaign, advertiser_id: o.advertiser, p: p[picked[j]], ev: pickedEv[j], position: j + 1, creative: o.creative });
  }
  return JSON.stringify({
    v: 1,
    type: 'decision',
    id,
    decision_id: randomUUID(),
    offers,
    model_version: engine.modelVersion,
    catalog_version: 1,
    server_us: Math.round((performance.now() - receivedAt) * 1000),
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string' }, catalog: { type: 'string' }, key: { type: 'string' }, tenant: { type: 'string' }, 'model-dir': { type: 'string' } },
  });
  if (!values.catalog || !values.key || !values.tenant) throw new Error('usage: naive-server.js --port P --catalog f.jsonl --key KEY --tenant ID [--model-dir dir]');
  const key = values.key;
  const tenantOfKey = values.tenant;
  let engine: NaiveEngine | null = null;
  const server = http.createServer((req, res) => {
    if (req.url === '/readyz') {
      res.writeHead(engine ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ready: engine !== null }));
      return;
    }
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('upgrade', (req, socket, head) => {
    if (req.url !== '/v1/ws' || req.headers.authorization !== `Bearer ${key}` || !engine) {
      socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => {
        const receivedAt = performance.now();
        const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString();
        decide(engine as NaiveEngine, tenantOfKey, text, receivedAt).then(
          (answer) => ws.send(answer),
          (e: unknown) => ws.send(JSON.stringify({ v: 1, type: 'error', code: 'internal', message: String(e) })),
        );
      });
    });
  });
  await new Promise<void>((r) => server.listen(Number(values.port ?? 0), '127.0.0.1', () => r()));
  const addr = server.address();
  engine = await createNaiveEngine(await readFile(values.catalog, 'utf8'), values['model-dir'] ?? 'models/shipped');
  console.log(`naive baseline listening on ws://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : '?'}/v1/ws`);
  const stop = (): void => {
    for (const c of wss.clients) c.terminate();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1]?.endsWith('naive-server.js')) {
  main().catch((e: unknown) => {
    console.error(`naive-server: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
