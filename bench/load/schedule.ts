/**
 * The open-loop schedule: request i of a step is due at start + i / rate, whatever happened to the requests
 * before it. Latency is measured from this intended time, not from when the request actually left, so a
 * server stall that delays sending (a connection at its in-flight limit, a busy load generator) shows up in
 * the percentiles instead of silently lowering the offered load (coordinated omission).
 */

export interface OpenLoopSchedule {
  /** Requests per second. */
  rate: number;
  /** Absolute start, ms (same clock as `now` passed to dueCount). */
  startMs: number;
  /** Total requests in the step (bounded by count and by duration). */
  count: number;
}

export function openLoopSchedule(rate: number, startMs: number, durationMs: number, maxRequests = Number.POSITIVE_INFINITY): OpenLoopSchedule {
  if (!(rate > 0)) throw new RangeError(`rate must be > 0, got ${rate}`);
  if (!(durationMs > 0)) throw new RangeError(`duration must be > 0 ms, got ${durationMs}`);
  const byTime = Math.floor((rate * durationMs) / 1000);
  return { rate, startMs, count: Math.max(0, Math.min(byTime, maxRequests)) };
}

/** Intended send time of request i (0-based), ms. */
export function intendedTime(s: OpenLoopSchedule, i: number): number {
  return s.startMs + (i * 1000) / s.rate;
}

/** How many requests are due by `nowMs` (requests 0 .. n-1 are due), never more than the schedule holds. */
export function dueCount(s: OpenLoopSchedule, nowMs: number): number {
  if (nowMs < s.startMs) return 0;
  const n = Math.floor(((nowMs - s.startMs) * s.rate) / 1000) + 1;
  return n > s.count ? s.count : n;
}

/** Connection that carries request i: round robin, so every connection sees rate / connections. */
export function connectionFor(i: number, connections: number): number {
  return i % connections;
}
