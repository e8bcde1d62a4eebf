/**
 * Wall-clock milliseconds with microsecond resolution, comparable across threads: each thread's
 * performance.timeOrigin is the epoch time of its own start, so timeOrigin + now() is a shared clock.
 * Deadlines and server_us are measured on it.
 */
import { performance } from 'node:perf_hooks';

const origin = performance.timeOrigin;

export function nowMs(): number {
  return origin + performance.now();
}
