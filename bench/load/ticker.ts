/**
 * The open-loop ticker thread. Node's timers have 1 ms granularity, which at 5,000 requests/s would send in
 * bursts of five and add up to a millisecond of the load generator's own lag to every latency measured from
 * the intended send time. This thread sleeps in Atomics.wait (sub-millisecond, no CPU while waiting) until
 * the next request is due and then wakes the load generator's event loop with one message.
 *
 * Why a "pending" flag and not a message per request: when the main thread is busy, ticks would pile up in
 * its queue and each would cost a wake-up; one pending tick makes the main thread send everything due.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { clockMs } from './clock.js';

export interface TickerData {
  startMs: number;
  rate: number;
  count: number;
  /** Shortest sleep between ticks, ms: above this rate requests leave in small batches. */
  minGapMs: number;
  /** Int32Array over a SharedArrayBuffer: [0] = stop (1 stops), [1] = a tick is pending in the main thread. */
  control: SharedArrayBuffer;
}

export const CTL_STOP = 0;
export const CTL_PENDING = 1;

function run(data: TickerData): void {
  const ctl = new Int32Array(data.control);
  const { startMs, rate, count, minGapMs } = data;
  let next = 0; // index of the first request not yet due
  while (next < count && Atomics.load(ctl, CTL_STOP) === 0) {
    const due = startMs + (next * 1000) / rate;
    const wait = due - clockMs();
    if (wait > 0) Atomics.wait(ctl, CTL_STOP, 0, wait);
    if (Atomics.load(ctl, CTL_STOP) !== 0) break;
    const now = clockMs();
    if (Atomics.compareExchange(ctl, CTL_PENDING, 0, 1) === 0) parentPort?.postMessage(0);
    next = Math.min(count, Math.floor(((now - startMs) * rate) / 1000) + 1);
    // Above 1 / minGapMs requests per second, sleep minGapMs and let the main thread send a small batch.
    const gap = startMs + (next * 1000) / rate - clockMs();
    if (gap < minGapMs && next < count) Atomics.wait(ctl, CTL_STOP, 0, minGapMs);
  }
  parentPort?.postMessage(1);
}

// Imported by the main thread for the constants above; runs only as the worker.
if (!isMainThread) run(workerData as TickerData);
