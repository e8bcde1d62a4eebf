/**
 * A benchmark's HTTP calls to the txrank server under test: the pool split and main-thread figures scraped
 * from /metrics (and their difference between two scrapes), and admin POSTs.
 */

/** Sums and counts of the server's pool split (txrank_pool_task_seconds) and main-thread GC, and the main
 * thread's V8 heap (gauges), from /metrics. */
export type MetricSums = Record<string, number>;

export async function scrape(http: string): Promise<MetricSums> {
  const text = await (await fetch(`${http}/metrics`)).text();
  const out: MetricSums = {};
  for (const line of text.split('\n')) {
    const m = /^(txrank_pool_task_seconds_(?:sum|count)\{part="\w+"\}|txrank_process_nodejs_gc_duration_seconds_sum\{kind="\w+"\}|txrank_pool_tasks_during_rebuild_total|txrank_process_nodejs_eventloop_lag_(?:p99|max)_seconds|txrank_process_nodejs_heap_size_(?:used|total)_bytes) (\S+)$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/**
 * Between two scrapes: the mean µs per pool task of each part (queue, worker, hand-off), and the main
 * thread's GC pauses in ms per second of the phase.
 */
export interface PhaseSplit {
  queueUs: number;
  workerUs: number;
  handoffUs: number;
  tasks: number;
  /** Tasks that reached a worker while it rebuilt its view (txrank_pool_tasks_during_rebuild_total). */
  duringRebuild: number;
  /** The main thread's event-loop delay over the phase, P99 and max, ms (prom-client resets it at each
   * scrape, so the closing scrape covers the phase): stalls that happen before a frame is read, which the
   * server-side time cannot see. */
  loopP99Ms: number;
  loopMaxMs: number;
  mainGcMsPerS: number;
}

export const NO_SPLIT: PhaseSplit = { queueUs: NaN, workerUs: NaN, handoffUs: NaN, tasks: 0, duringRebuild: 0, loopP99Ms: NaN, loopMaxMs: NaN, mainGcMsPerS: NaN };

const round = (x: number): number => Math.round(x * 10) / 10;

export function split(a: MetricSums, b: MetricSums, seconds: number): PhaseSplit {
  const d = (k: string): number => (b[k] ?? 0) - (a[k] ?? 0);
  const mean = (part: string): number => {
    const n = d(`txrank_pool_task_seconds_count{part="${part}"}`);
    return n > 0 ? Math.round((d(`txrank_pool_task_seconds_sum{part="${part}"}`) / n) * 1e6) : NaN;
  };
  const gc = ['minor', 'major', 'incremental', 'weakcb'].reduce((x, k) => x + d(`txrank_process_nodejs_gc_duration_seconds_sum{kind="${k}"}`), 0);
  return {
    queueUs: mean('queue'),
    workerUs: mean('worker'),
    handoffUs: mean('handoff'),
    tasks: d('txrank_pool_task_seconds_count{part="worker"}'),
    duringRebuild: d('txrank_pool_tasks_during_rebuild_total'),
    loopP99Ms: round((b.txrank_process_nodejs_eventloop_lag_p99_seconds ?? NaN) * 1000),
    loopMaxMs: round((b.txrank_process_nodejs_eventloop_lag_max_seconds ?? NaN) * 1000),
    mainGcMsPerS: round((gc * 1000) / seconds),
  };
}

/** POSTs and reads the whole answer: an unread body keeps undici's connection busy, so every later request
 * would open a new one (connection churn in this process and the server's, growing with the swap count). */
export async function post(url: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

/** The server's V8 heaps by thread, MB committed (in use): the main thread from /metrics, the inference
 * workers (summed) from /readyz, the model manager from /admin/models, the trainer from /admin/learning. */
export interface ThreadHeaps {
  mainMb: number;
  mainUsedMb: number;
  workersMb: number;
  workersUsedMb: number;
  managerMb: number;
  managerUsedMb: number;
  trainerMb: number;
  trainerUsedMb: number;
}

export async function readHeaps(http: string, admin: Record<string, string>): Promise<ThreadHeaps> {
  const mb = (x: number): number => Math.round(x * 10) / 10;
  const m = await scrape(http);
  const ready = (await (await fetch(`${http}/readyz`)).json()) as { workers: { heapUsedMb: number; heapTotalMb: number }[] };
  const models = (await (await fetch(`${http}/admin/models`, { headers: admin })).json()) as { manager: { heapUsedMb: number; heapTotalMb: number } };
  const trainer = (await (await fetch(`${http}/admin/learning`, { headers: admin })).json()) as { heapUsedMb: number; heapTotalMb: number };
  return {
    mainMb: mb((m.txrank_process_nodejs_heap_size_total_bytes ?? NaN) / 2 ** 20),
    mainUsedMb: mb((m.txrank_process_nodejs_heap_size_used_bytes ?? NaN) / 2 ** 20),
    workersMb: mb(ready.workers.reduce((a, w) => a + w.heapTotalMb, 0)),
    workersUsedMb: mb(ready.workers.reduce((a, w) => a + w.heapUsedMb, 0)),
    managerMb: mb(models.manager.heapTotalMb),
    managerUsedMb: mb(models.manager.heapUsedMb),
    trainerMb: mb(trainer.heapTotalMb),
    trainerUsedMb: mb(trainer.heapUsedMb),
  };
}

/** Pool tasks between two bucket reads whose part took longer than 2 ms and than 5 ms. */
export type TaskTails = Record<'queue' | 'worker' | 'handoff', { over2ms: number; over5ms: number }>;

/** Cumulative counts of the txrank_pool_task_seconds buckets, keyed `part le` (e.g. `handoff 0.005`). */
export async function taskBuckets(http: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${http}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^txrank_pool_task_seconds_bucket\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    out.set(`${labels.part} ${labels.le}`, Number(m[2]));
  }
  return out;
}

export function taskTails(a: Map<string, number>, b: Map<string, number>): TaskTails {
  const d = (k: string): number => (b.get(k) ?? 0) - (a.get(k) ?? 0);
  const part = (p: string) => ({ over2ms: d(`${p} +Inf`) - d(`${p} 0.002`), over5ms: d(`${p} +Inf`) - d(`${p} 0.005`) });
  return { queue: part('queue'), worker: part('worker'), handoff: part('handoff') };
}
