/**
 * The demos' traffic: simulated checkouts started open loop at a fixed rate (checkout i is due at
 * start + i / rate, whether or not earlier ones have finished), bounded by time and by the checkouts in
 * flight, so a slow server is not buried in an unbounded backlog. Resolves when the last one has finished.
 */
export async function runOpenLoop(opts: {
  seconds: number;
  rate: number;
  /** Most checkouts in flight; a due checkout waits for a free one. */
  maxInFlight: number;
  checkout: () => Promise<void>;
  /** Called every ~5 ms tick with the elapsed ms (progress lines). */
  onTick?: (elapsedMs: number) => void;
}): Promise<void> {
  const t0 = Date.now();
  const inflight = new Set<Promise<void>>();
  let sent = 0;
  while (Date.now() - t0 < opts.seconds * 1000) {
    const due = Math.floor(((Date.now() - t0) / 1000) * opts.rate);
    while (sent < due && inflight.size < opts.maxInFlight) {
      sent++;
      const p: Promise<void> = opts.checkout().finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await new Promise((r) => setTimeout(r, 5));
    opts.onTick?.(Date.now() - t0);
  }
  await Promise.all(inflight);
}
