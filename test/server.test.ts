/**
 * The decision path end to end, with real parts only: uWS on port 0, LMDB in a temp dir, worker threads,
 * ONNX Runtime sessions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { decideRequest, demoCatalog, startTestServer, MODEL_DIR, type TestServer } from './helpers/harness.js';
import { encodeFrame, type Answer } from '../src/client/client.js';
import { parseCatalogJsonl } from '../src/catalog/jsonl.js';
import type { DecisionAnswer, ErrorAnswer } from '../src/protocol/messages.js';
import { bidScale } from '../src/ranking/bid-scale.js';

const manifest = JSON.parse(readFileSync(`${MODEL_DIR}/manifest.json`, 'utf8')) as { version: string };

function asDecision(a: Answer): DecisionAnswer {
  if (a.type !== 'decision') throw new Error(`expected a decision, got ${JSON.stringify(a)}`);
  return a;
}

function asError(a: Answer): ErrorAnswer {
  if (a.type !== 'error') throw new Error(`expected an error, got ${JSON.stringify(a).slice(0, 300)}`);
  return a;
}

describe('decision path', () => {
  let t: TestServer;
  const catalogText = demoCatalog(600, 11);
  const parsed = parseCatalogJsonl(catalogText);
  if (!parsed.ok) throw new Error('demo catalog invalid');
  const offerById = new Map(parsed.offers.map((o) => [o.id, o]));

  beforeAll(async () => {
    t = await startTestServer({ catalog: catalogText });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers a decision: ranked, eligible offers of the tenant, priced, with versions', async () => {
    const c = await t.connect();
    // order_confirmation neither explores nor holds out: the answer is the model's greedy ranking.
    const d = asDecision(await c.decide(decideRequest({ id: 'r1', placement: 'order_confirmation' })));
    expect(d.id).toBe('r1');
    expect(d.policy).toBe('ai');
    expect(d.offers.length).toBe(3);
    expect(d.model_version).toBe(manifest.version);
    expect(d.catalog_version).toBe(1);
    expect(d.server_us).toBeGreaterThan(0);
    expect(d.decision_id).toMatch(/^[0-9a-f-]{36}$/);
    const now = Date.now();
    d.offers.forEach((o, i) => {
      expect(o.position).toBe(i + 1);
      expect(o.p).toBeGreaterThan(0);
      expect(o.p).toBeLessThan(1);
      const offer = offerById.get(o.offer_id);
      expect(offer?.tenant).toBe('freshmart');
      expect(offer?.status).toBe('active');
      expect(offer!.start <= now && now < offer!.end).toBe(true);
      expect(o.campaign_id).toBe(offer?.campaign);
      expect(o.advertiser_id).toBe(offer?.advertiser);
      expect(o.creative).toEqual(offer?.creative);
      // ev = p x the bid on the per-click scale.
      expect(o.ev / o.p).toBeCloseTo(bidScale(offer!.bid), 4);
      if (i > 0) expect(o.ev).toBeLessThanOrEqual(d.offers[i - 1].ev);
      // Billed as bid, second price: never above the bid; no exploration, so every slot is certain.
      expect(o.bid_type).toBe(offer!.bid.type);
      expect(o.price).toBeGreaterThanOrEqual(0);
      expect(o.price).toBeLessThanOrEqual(offer!.bid.amount);
      expect(o.propensity).toBe(1);
    });
    await c.close();
  });

  it('caps k by the placement slots', async () => {
    const c = await t.connect();
    const d = asDecision(await c.decide(decideRequest({ k: 20 })));
    const slots = parsed.tenants.find((x) => x.id === 'freshmart')!.placements.find((p) => p.id === 'checkout')!.slots;
    expect(d.offers.length).toBe(slots);
    await c.close();
  });

  it('answers 1,000 pipelined requests on one socket, each matched by id', async () => {
    const c = await t.connect();
    // A generous deadline: this checks correlation, not speed (the burst shares 2 cores with the client).
    const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => c.decide(decideRequest({ id: `p-${i}`, deadline_ms: 10_000 }))));
    const ids = new Set<string>();
    answers.forEach((a, i) => {
      expect(a.id).toBe(`p-${i}`);
      ids.add(asDecision(a).decision_id);
    });
    expect(ids.size).toBe(1000);
    await c.close();
  });

  it('the same basket gets the same ranking from any worker (on a placement that does not explore)', async () => {
    const c = await t.connect();
    const req = decideRequest({ placement: 'order_confirmation' });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => c.decide({ ...req, id: i })));
    const first = asDecision(answers[0]).offers.map((o) => o.offer_id);
    for (const a of answers) expect(asDecision(a).offers.map((o) => o.offer_id)).toEqual(first);
    await c.close();
  });

  it('different baskets get different offers (the model reads the basket)', async () => {
    const c = await t.connect();
    const baby = asDecision(await c.decide(decideRequest()));
    const pets = asDecision(
      await c.decide(
        decideRequest({
          txn: { ...decideRequest().txn, items: [{ sku: 'kibble', category: 'pets/dog-food', price: 39.99, quantity: 2 }], total: 79.98 },
        }),
      ),
    );
    expect(pets.offers.map((o) => o.offer_id)).not.toEqual(baby.offers.map((o) => o.offer_id));
    await c.close();
  });

  it('answers every bad input with a typed error and keeps the connection open', async () => {
    const c = await t.connect();
    const ws = c.ws;
    // Malformed MessagePack: no id can be read.
    ws.send(Uint8Array.from([0xc1]));
    expect(asError(await c.nextUnmatched()).code).toBe('malformed');
    // A text frame.
    ws.send('{"v":1}');
    expect(asError(await c.nextUnmatched()).code).toBe('malformed');
    // Oversized frame (over maxFrameBytes, under the hard limit).
    ws.send(new Uint8Array(70_000));
    const big = asError(await c.nextUnmatched());
    expect(big.code).toBe('frame_too_large');
    // Unknown type, unsupported version, missing and mistyped fields.
    expect(asError(await c.sendRaw({ v: 1, type: 'purchase', id: 'x1' }, 'x1')).code).toBe('unknown_type');
    expect(asError(await c.sendRaw({ ...decideRequest(), v: 9, type: 'decide', id: 'x2' }, 'x2')).code).toBe('unsupported_version');
    const missing = asError(await c.sendRaw({ v: 1, type: 'decide', id: 'x3', tenant: 'freshmart' }, 'x3'));
    expect(missing.code).toBe('bad_request');
    const req = decideRequest();
    const nan = asError(await c.sendRaw({ v: 1, type: 'decide', id: 'x4', ...req, txn: { ...req.txn, items: [{ ...req.txn.items[0], price: NaN }] } }, 'x4'));
    expect(nan.code).toBe('bad_request');
    expect(nan.message).toContain('/txn/items/0/price');
    const neg = asError(await c.sendRaw({ v: 1, type: 'decide', id: 'x5', ...req, txn: { ...req.txn, items: [{ ...req.txn.items[0], price: -2 }] } }, 'x5'));
    expect(neg.code).toBe('bad_request');
    const many = asError(await c.sendRaw({ v: 1, type: 'decide', id: 'x6', ...req, txn: { ...req.txn, items: Array(201).fill(req.txn.items[0]) } }, 'x6'));
    expect(many.code).toBe('bad_request');
    expect(asError(await c.decide(decideRequest({ id: 'x7', placement: 'footer' }))).code).toBe('unknown_placement');
    expect(asError(await c.decide(decideRequest({ id: 'x8', tenant: 'hometown' }))).code).toBe('forbidden');
    // Still open and serving.
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    expect(asDecision(await c.decide(decideRequest({ id: 'after' }))).offers.length).toBe(3);
    await c.close();
  });

  it('refuses a missing or wrong API key at the upgrade with 401', async () => {
    for (const headers of [{}, { authorization: 'Bearer txr_not_a_key' }, { authorization: `Bearer ${t.adminKey}` }]) {
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(t.url, { headers });
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => reject(new Error('upgrade should have been refused')));
        ws.once('error', () => undefined);
      });
      expect(status).toBe(401);
    }
  });

  it('answers a request past its deadline with deadline_exceeded, not a decision', async () => {
    const c = await t.connect();
    const a = asError(await c.decide(decideRequest({ deadline_ms: 0.001 })));
    expect(a.code).toBe('deadline_exceeded');
    await c.close();
  });

  it('serves health, readiness, info and Prometheus metrics over plain HTTP', async () => {
    expect((await fetch(`${t.http}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.http}/readyz`);
    expect(ready.status).toBe(200);
    const info = (await (await fetch(`${t.http}/v1/info`)).json()) as Record<string, any>;
    expect(info.model.version).toBe(manifest.version);
    expect(info.catalog.offers).toBe(parsed.offers.length);
    expect(info.pool.size).toBe(2);
    expect(info.uwsNative).toBe(true);
    const metrics = await (await fetch(`${t.http}/metrics`)).text();
    expect(metrics).toMatch(/txrank_decision_seconds_bucket\{le="0.001",outcome="ok"\} \d+/);
    expect(metrics).toMatch(/txrank_answers_total\{code="bad_request"\} [1-9]/);
    expect(metrics).toContain('txrank_queue_depth');
    expect(metrics).toContain('txrank_pool_utilization');
    // The pool's split of each task: every part observed once per task, and a worker's own time is real time.
    const value = (name: string) => Number(new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(metrics)?.[1]);
    const tasks = value('txrank_pool_task_seconds_count{part="worker"}');
    expect(tasks).toBeGreaterThan(0);
    expect(value('txrank_pool_task_seconds_count{part="queue"}')).toBe(tasks);
    expect(value('txrank_pool_task_seconds_count{part="handoff"}')).toBe(tasks);
    expect(value('txrank_pool_task_seconds_sum{part="worker"}')).toBeGreaterThan(0);
    expect(value('txrank_pool_task_seconds_sum{part="handoff"}')).toBeGreaterThanOrEqual(0);
    expect(metrics).toContain(`txrank_model_info{version="${manifest.version}"} 1`);
    expect(metrics).toMatch(/txrank_catalog_version 1/);
    expect((await fetch(`${t.http}/nope`)).status).toBe(404);
  });

  it('admin endpoints need the admin key and report every invalid record', async () => {
    expect((await fetch(`${t.http}/admin/catalog`)).status).toBe(401);
    const tenantKey = await fetch(`${t.http}/admin/catalog`, { headers: { authorization: `Bearer ${t.keys.freshmart}` } });
    expect(tenantKey.status).toBe(401);
    const bad = await fetch(`${t.http}/admin/catalog`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminKey}` },
      body: '{"kind":"offer","id":"x"}\nnot json\n',
    });
    expect(bad.status).toBe(422);
    const body = (await bad.json()) as { code: string; errors: { line: number }[] };
    expect(body.code).toBe('invalid_catalog');
    expect(body.errors.map((e) => e.line)).toEqual(expect.arrayContaining([1, 2]));
    // Nothing changed.
    const c = await t.connect();
    expect(asDecision(await c.decide(decideRequest())).catalog_version).toBe(1);
    await c.close();
  });
});
