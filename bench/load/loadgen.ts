/**
 * The load generator: persistent WebSockets to one server, many requests in flight per connection, open-loop
 * or closed-loop, every latency into an HDR histogram.
 *
 *   open loop   requests are due on a fixed schedule (rate per second); latency = answer time - INTENDED send
 *               time. A connection at its in-flight limit holds due requests in a local queue, and their
 *               wait counts, so a slow server cannot hide its queueing by slowing the generator down.
 *   closed loop each connection keeps `depth` requests in flight and sends the next as soon as one is
 *               answered; latency = answer time - actual send time. Measures capacity, not latency under load.
 *
 * Bounded in time (duration + drain) and count (maxRequests). It runs in its own process
 * (loadgen-process.ts) so its CPU is separate from the server's and can be reported beside every figure.
 */
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import type { Transaction } from '../../src/protocol/messages.js';
import { clockMs } from './clock.js';
import { encodeHistogram, newHistogram, recordMs, type Histogram } from './histogram.js';
import { connectionFor, dueCount, intendedTime, openLoopSchedule } from './schedule.js';
import { CTL_PENDING, CTL_STOP, type TickerData } from './ticker.js';
import { frameFactory, type ParsedAnswer, type RequestShape, type WireFormat } from './wire.js';

export type LoadMode = 'open' | 'closed';

export interface LoadConfig extends RequestShape {
  url: string;
  key: string;
  format: WireFormat;
  mode: LoadMode;
  connections: number;
  /** Requests in flight per connection (the pipelining depth). */
  depth: number;
  /** Open loop: requests per second sent by this process. */
  rate?: number;
  /** Sending lasts this long, warm-up included. */
  durationMs: number;
  /** Requests intended in the first warmupMs are sent but not measured. */
  warmupMs: number;
  /** Most requests to send (open and closed). */
  maxRequests?: number;
  /** After the last send, wait at most this long for answers; the rest count as `timeout`. */
  drainMs: number;
  /** Transaction i of the step is txns[(i * stride + offset) % txns.length]: splits one traffic file over processes. */
  stride?: number;
  offset?: number;
  /**
   * Open loop: the ticker's shortest sleep, ms. Each tick is a cross-thread wake-up (~40-100 us of CPU on
   * this VM), so above 1 / tickMs requests per second requests leave in small batches; their wait counts.
   */
  tickMs?: number;
  /** Keep one record per request (tests). */
  keepSamples?: boolean;
  /** Open loop: where the ticker thread's compiled file is (default: next to this file). */
  tickerUrl?: URL;
}

export interface RequestSample {
  index: number;
  connection: number;
  intendedMs: number;
  sentMs: number;
  answeredMs: number;
  code: string;
  /** The server's own time for a decision (server_us), when it reported one. */
  serverUs?: number;
}

export interface LoadResult {
  mode: LoadMode;
  /** Requests per second offered (open loop), or achieved (closed loop). */
  offeredRate: number;
  /** Requests sent / intended in the measured window. */
  measured: number;
  sent: number;
  /** Measured requests answered with a decision. */
  ok: number;
  /** Measured requests by outcome other than a decision: error codes, `timeout`, `unsent`, `connection_closed`. */
  errors: Record<string, number>;
  /** Decisions answered per second during the measured window. */
  throughput: number;
  /** Latency histogram (us) from the intended send time (open) or the send (closed), encoded. */
  latency: string;
  /** Latency from the actual send (us). */
  service: string;
  /** Actual send - intended send (us): the generator's own lag plus time queued behind a full connection. */
  sendLag: string;
  /** server_us of the decisions. */
  serverUs: string;
  /** Offers per decision, mean. */
  offersMean: number;
  /** This process's CPU over the step, % of one core, and wall time of the step. */
  cpuPercent: number;
  wallMs: number;
  samples?: RequestSample[];
}

interface Pending {
  index: number;
  connection: number;
  intendedMs: number;
  sentMs: number;
  measured: boolean;
}

function connect(url: string, key: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${key}` }, perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

export async function runLoad(config: LoadConfig, txns: readonly Transaction[]): Promise<LoadResult> {
  if (!config.url.startsWith('ws://127.0.0.1:') && !config.url.startsWith('ws://localhost:')) {
    throw new Error(`the load generator only drives loopback servers (ws://127.0.0.1:PORT/...), got ${config.url}`);
  }
  if (config.mode === 'open' && !(config.rate && config.rate > 0)) throw new Error('open loop needs a rate > 0');
  if (txns.length === 0) throw new Error('no transactions to send');
  const C = config.connections;
  const depth = config.depth;
  const stride = config.stride ?? 1;
  const offset = config.offset ?? 0;
  const frames = frameFactory(config.format, txns, config);
  const sockets = await Promise.all(Array.from({ length: C }, () => connect(config.url, config.key)));

  const latency = newHistogram();
  const service = newHistogram();
  const sendLag = newHistogram();
  const serverUs = newHistogram();
  const errors: Record<string, number> = {};
  const samples: RequestSample[] | undefined = config.keepSamples ? [] : undefined;
  const pending = new Map<number, Pending>();
  const inFlight = new Int32Array(C);
  const queues: number[][] = Array.from({ length: C }, () => []);
  let queueHeads = new Int32Array(C);
  let sent = 0;
  let measured = 0;
  let ok = 0;
  let offersTotal = 0;
  let answeredInWindow = 0;

  const cpu0 = process.cpuUsage();
  const startMs = clockMs() + 50; // a little slack so the first requests are not already late
  // Closed loop starts sending at once (no schedule), so its warm-up counts from now, not from startMs.
  const measureFromMs = (config.mode === 'open' ? startMs : clockMs()) + config.warmupMs;
  const sendEndMs = startMs + config.durationMs;
  const maxRequests = config.maxRequests ?? Number.POSITIVE_INFINITY;
  const schedule = config.mode === 'open' ? openLoopSchedule(config.rate as number, startMs, config.durationMs, maxRequests) : null;
  let scheduled = 0; // open loop: requests handed to connection queues
  let nextIndex = 0; // closed loop: next request index
  let sendingDone = false;
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => (finish = r));

  const bump = (code: string): void => {
    errors[code] = (errors[code] ?? 0) + 1;
  };

  const send = (index: number, connection: number, intendedMs: number): void => {
    const now = clockMs();
    const id = index + 1;
    const p: Pending = { index, connection, intendedMs, sentMs: now, measured: intendedMs >= measureFromMs };
    pending.set(id, p);
    inFlight[connection]++;
    sent++;
    if (p.measured) {
      measured++;
      recordMs(sendLag, now - intendedMs);
    }
    sockets[connection].send(frames.frame(id, index * stride + offset));
  };

  const drainQueue = (c: number): void => {
    const q = queues[c];
    while (inFlight[c] < depth && queueHeads[c] < q.length) {
      const index = q[queueHeads[c]++];
      send(index, c, intendedTime(schedule!, index));
    }
    if (queueHeads[c] > 1024 && queueHeads[c] * 2 > q.length) {
      q.splice(0, queueHeads[c]);
      queueHeads[c] = 0;
    }
  };

  const pump = (): void => {
    if (!schedule) return;
    const due = dueCount(schedule, clockMs());
    for (; scheduled < due; scheduled++) queues[connectionFor(scheduled, C)].push(scheduled);
    for (let c = 0; c < C; c++) drainQueue(c);
    if (scheduled >= schedule.count) sendingDone = true;
    checkDone();
  };

  const checkDone = (): void => {
    if (sendingDone && pending.size === 0 && queues.every((q, c) => queueHeads[c] >= q.length)) finish();
  };

  const onAnswer = (c: number, data: Buffer | string): void => {
    const now = clockMs();
    let a: ParsedAnswer;
    try {
      a = frames.parse(data);
    } catch {
      bump('unparseable_answer');
      return;
    }
    const p = a.id === undefined ? undefined : pending.get(a.id);
    if (!p || a.id === undefined) {
      bump(`unmatched_${a.code}`);
      return;
    }
    pending.delete(a.id);
    inFlight[c]--;
    if (p.measured) {
      if (a.ok) {
        ok++;
        offersTotal += a.offers;
        recordMs(latency, now - (config.mode === 'open' ? p.intendedMs : p.sentMs));
        recordMs(service, now - p.sentMs);
        if (a.serverUs !== undefined) serverUs.recordValue(Math.max(1, Math.min(a.serverUs, 120_000_000)));
        if (now <= sendEndMs) answeredInWindow++;
      } else {
        bump(a.code);
      }
      samples?.push({ index: p.index, connection: c, intendedMs: p.intendedMs, sentMs: p.sentMs, answeredMs: now, code: a.code, serverUs: a.serverUs });
    }
    if (schedule) {
      drainQueue(c);
    } else if (!sendingDone) {
      if (now < sendEndMs && nextIndex < maxRequests) {
        const i = nextIndex++;
        send(i, c, clockMs());
      } else {
        sendingDone = true;
      }
    }
    checkDone();
  };

  sockets.forEach((ws, c) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => onAnswer(c, isBinary ? data : data.toString('utf8')));
    ws.on('close', () => {
      for (const [id, p] of pending) {
        if (p.connection !== c) continue;
        pending.delete(id);
        if (p.measured) bump('connection_closed');
      }
      checkDone();
    });
  });

  let ticker: Worker | null = null;
  let control: Int32Array | null = null;
  if (schedule) {
    const shared = new SharedArrayBuffer(8);
    control = new Int32Array(shared);
    const data: TickerData = { startMs, rate: schedule.rate, count: schedule.count, minGapMs: config.tickMs ?? 0.25, control: shared };
    ticker = new Worker(config.tickerUrl ?? new URL('./ticker.js', import.meta.url), { workerData: data });
    ticker.on('message', (m: number) => {
      Atomics.store(control as Int32Array, CTL_PENDING, 0);
      pump();
      if (m === 1) {
        // The ticker is done; requests still due (rounding) go now.
        pump();
      }
    });
    // A coarse safety net in case a tick is lost: the schedule is still honoured, only later.
    const safety = setInterval(pump, 20);
    void finished.then(() => clearInterval(safety));
    if (schedule.count === 0) {
      sendingDone = true;
      checkDone();
    }
  } else {
    const wait = startMs - clockMs();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (let c = 0; c < C; c++) {
      for (let d = 0; d < depth && nextIndex < maxRequests; d++) send(nextIndex++, c, clockMs());
    }
    const endTimer = setTimeout(() => {
      sendingDone = true;
      checkDone();
    }, Math.max(0, sendEndMs - clockMs()));
    void finished.then(() => clearTimeout(endTimer));
  }

  // Hard bound: sending time + drain, whatever the server does.
  const hardStop = setTimeout(() => finish(), Math.max(0, sendEndMs - clockMs()) + config.drainMs);
  await finished;
  clearTimeout(hardStop);
  const endMs = clockMs();
  if (ticker && control) {
    Atomics.store(control, CTL_STOP, 1);
    Atomics.notify(control, CTL_STOP);
    await ticker.terminate();
  }

  // Whatever is left is counted, and its latency is at least its age: dropping it would flatter the tail.
  for (const p of pending.values()) {
    if (!p.measured) continue;
    bump('timeout');
    recordMs(latency, endMs - (config.mode === 'open' ? p.intendedMs : p.sentMs));
  }
  // Counted once: the sockets' close handlers below must not count them again.
  pending.clear();
  if (schedule) {
    for (let c = 0; c < C; c++) {
      for (let h = queueHeads[c]; h < queues[c].length; h++) {
        const t = intendedTime(schedule, queues[c][h]);
        if (t < measureFromMs) continue;
        measured++;
        bump('unsent');
        recordMs(latency, endMs - t);
      }
    }
    // Requests never even handed to a queue (the generator fell behind its own schedule).
    for (let i = scheduled; i < schedule.count; i++) {
      const t = intendedTime(schedule, i);
      if (t < measureFromMs) continue;
      measured++;
      bump('unsent');
      recordMs(latency, Math.max(0, endMs - t));
    }
  }
  queueHeads = new Int32Array(0);
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((r) => {
          if (ws.readyState === WebSocket.CLOSED) return r();
          ws.once('close', () => r());
          ws.close();
          setTimeout(() => {
            ws.terminate();
            r();
          }, 1000).unref();
        }),
    ),
  );
  const cpu = process.cpuUsage(cpu0);
  const wallMs = endMs - (startMs - 50);
  const windowS = (Math.min(endMs, sendEndMs) - measureFromMs) / 1000;
  return {
    mode: config.mode,
    offeredRate: schedule ? schedule.rate : windowS > 0 ? answeredInWindow / windowS : 0,
    measured,
    sent,
    ok,
    errors,
    throughput: windowS > 0 ? answeredInWindow / windowS : 0,
    latency: encodeHistogram(latency),
    service: encodeHistogram(service),
    sendLag: encodeHistogram(sendLag),
    serverUs: encodeHistogram(serverUs),
    offersMean: ok > 0 ? offersTotal / ok : 0,
    cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    wallMs,
    ...(samples ? { samples } : {}),
  };
}

