/**
 * The load generator's arithmetic and scheduling, against a stub WebSocket server that answers every request
 * after a fixed delay. Nothing here asserts speed: only counts, order, and lower bounds that hold by
 * construction (a request cannot be answered before the server's delay has passed).
 *
 * The open-loop ticker runs as a worker thread from dist/ (npm test builds first).
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Packr, Unpackr } from 'msgpackr';
import { WebSocketServer } from 'ws';
import { decodeHistogram, encodeHistogram, mergeHistograms, newHistogram, recordMs, summarize } from '../bench/load/histogram.js';
import { runLoad, type LoadConfig } from '../bench/load/loadgen.js';
import { connectionFor, dueCount, intendedTime, openLoopSchedule } from '../bench/load/schedule.js';
import { generateTraffic, parseTraffic, serializeTraffic } from '../bench/load/traffic.js';
import type { Transaction } from '../src/protocol/messages.js';

const tickerUrl = new URL('../dist/bench/load/ticker.js', import.meta.url);
const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

const DELAY_MS = 30;

describe('HDR percentiles', () => {
  it('summarises known values exactly enough (3 significant digits)', () => {
    const h = newHistogram();
    for (let us = 1; us <= 10_000; us++) recordMs(h, us / 1000);
    const s = summarize(h);
    expect(s.count).toBe(10_000);
    expect(s.p50).toBeGreaterThanOrEqual(4.995);
    expect(s.p50).toBeLessThanOrEqual(5.005);
    expect(s.p90).toBeGreaterThanOrEqual(8.99);
    expect(s.p90).toBeLessThanOrEqual(9.01);
    expect(s.p99).toBeGreaterThanOrEqual(9.89);
    expect(s.p99).toBeLessThanOrEqual(9.91);
    expect(s.p999).toBeGreaterThanOrEqual(9.98);
    expect(s.max).toBeGreaterThanOrEqual(9.995);
    expect(s.max).toBeLessThanOrEqual(10.005);
  });

  it('merges exactly across processes (encode, decode, add)', () => {
    const a = newHistogram();
    const b = newHistogram();
    for (let i = 0; i < 990; i++) recordMs(a, 1);
    for (let i = 0; i < 10; i++) recordMs(b, 100);
    const m = mergeHistograms([decodeHistogram(encodeHistogram(a)), decodeHistogram(encodeHistogram(b))]);
    const s = summarize(m);
    expect(s.count).toBe(1000);
    expect(s.p50).toBeCloseTo(1, 2);
    // 99% of the values are 1 ms: P99 is 1 ms and P99.9 is in the 100 ms tail.
    expect(s.p99).toBeCloseTo(1, 2);
    expect(s.p999).toBeGreaterThan(99);
  });
});

describe('open-loop schedule', () => {
  it('spaces requests 1/rate apart and counts due requests', () => {
    const s = openLoopSchedule(1000, 100, 1000);
    expect(s.count).toBe(1000);
    expect(intendedTime(s, 0)).toBe(100);
    expect(intendedTime(s, 250)).toBe(350);
    expect(dueCount(s, 99.9)).toBe(0);
    expect(dueCount(s, 100)).toBe(1);
    expect(dueCount(s, 100.999)).toBe(1);
    expect(dueCount(s, 101)).toBe(2);
    expect(dueCount(s, 1e9)).toBe(1000);
    expect(openLoopSchedule(1000, 0, 1000, 10).count).toBe(10);
    expect([0, 1, 2, 3, 4].map((i) => connectionFor(i, 2))).toEqual([0, 1, 0, 1, 0]);
  });
});

describe('traffic files', () => {
  it('replay exactly what was recorded', async () => {
    const t = await generateTraffic(50, 3, undefined);
    expect(t.header.provenance).toBe('synthetic');
    const back = parseTraffic(serializeTraffic(t));
    expect(back.txns).toEqual(t.txns);
    const again = await generateTraffic(50, 3, undefined);
    expect(again.txns).toEqual(t.txns);
  });
});

describe.skipIf(!existsSync(tickerUrl))('load generator on a stub server', () => {
  let wss: WebSocketServer;
  let url = '';
  const arrivals: number[] = [];
  let maxInFlightPerConn = 0;
  let txns: Transaction[] = [];

  beforeAll(async () => {
    txns = (await generateTraffic(20, 1, undefined)).txns;
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    wss.on('connection', (ws) => {
      let inFlight = 0;
      ws.on('message', (data: Buffer) => {
        const req = unpackr.unpack(data) as { id: number; type: string };
        arrivals.push(req.id);
        inFlight++;
        maxInFlightPerConn = Math.max(maxInFlightPerConn, inFlight);
        setTimeout(() => {
          inFlight--;
          ws.send(packr.pack({ v: 1, type: 'decision', id: req.id, decision_id: 'x', offers: [{}, {}], model_version: 'm', catalog_version: 1, server_us: 250 }));
        }, DELAY_MS);
      });
    });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/v1/ws`;
  });

  afterAll(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });

  const base = (): Omit<LoadConfig, 'mode'> => ({
    url,
    key: 'k',
    format: 'msgpack',
    tenant: 't',
    placement: 'checkout',
    k: 2,
    connections: 1,
    depth: 1,
    durationMs: 40,
    warmupMs: 0,
    drainMs: 10_000,
    keepSamples: true,
    tickerUrl,
  });

  it('open loop: sends the scheduled count in order and counts latency from the intended time', async () => {
    arrivals.length = 0;
    // 200/s for 40 ms = 8 requests due every 5 ms, but one connection with depth 1 and a 30 ms server:
    // request i cannot be answered before (i + 1) x 30 ms, though it was due at i x 5 ms.
    const r = await runLoad({ ...base(), mode: 'open', rate: 200 }, txns);
    expect(r.sent).toBe(8);
    expect(r.ok).toBe(8);
    expect(r.errors).toEqual({});
    expect(arrivals).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const samples = r.samples ?? [];
    expect(samples.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const start = samples[0].intendedMs;
    for (const [i, s] of samples.entries()) {
      expect(s.intendedMs).toBeCloseTo(start + i * 5, 6);
      // Queued behind the previous answer: never sent before it came back.
      if (i > 0) expect(s.sentMs).toBeGreaterThanOrEqual(samples[i - 1].answeredMs);
      // The recorded latency includes the time spent waiting for a free slot.
      expect(s.answeredMs - s.intendedMs).toBeGreaterThanOrEqual((i + 1) * DELAY_MS - i * 5 - 1);
    }
    const lat = summarize(decodeHistogram(r.latency));
    const svc = summarize(decodeHistogram(r.service));
    expect(lat.count).toBe(8);
    // The worst request waited for seven others: its latency from the schedule is far above the 30 ms service.
    expect(lat.max).toBeGreaterThanOrEqual(8 * DELAY_MS - 7 * 5 - 1);
    expect(lat.max).toBeCloseTo(Math.max(...samples.map((s) => s.answeredMs - s.intendedMs)), 0);
    expect(svc.count).toBe(8);
    expect(svc.p50).toBeGreaterThanOrEqual(DELAY_MS - 1);
    expect(lat.max).toBeGreaterThan(svc.max);
    expect(summarize(decodeHistogram(r.serverUs)).p50).toBeCloseTo(0.25, 2);
    expect(r.offersMean).toBe(2);
  });

  it('closed loop: keeps at most depth in flight per connection and stops at maxRequests', async () => {
    arrivals.length = 0;
    maxInFlightPerConn = 0;
    const r = await runLoad({ ...base(), mode: 'closed', connections: 2, depth: 3, durationMs: 60_000, maxRequests: 20 }, txns);
    expect(r.sent).toBe(20);
    expect(r.ok).toBe(20);
    expect(maxInFlightPerConn).toBeLessThanOrEqual(3);
    expect(new Set(arrivals).size).toBe(20);
    for (const s of r.samples ?? []) expect(s.answeredMs - s.sentMs).toBeGreaterThanOrEqual(DELAY_MS - 1);
  });
});
