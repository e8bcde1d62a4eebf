/**
 * One absolute clock for the load generator and its ticker thread: epoch milliseconds with sub-millisecond
 * precision. performance.now() alone cannot be compared across threads (each has its own timeOrigin);
 * timeOrigin + now() can.
 */
export function clockMs(): number {
  return performance.timeOrigin + performance.now();
}
