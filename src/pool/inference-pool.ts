/**
 * The main thread's side of the inference pool: a bounded admission queue in front of piscina, with
 * adaptive batching.
 *
 * Why our own queue in front of piscina's: on 2 cores a hand-off to a worker costs about as much as a whole
 * decision (~100 us, two cross-thread wake-ups). So at most `poolSize x concurrentTasksPerWorker` tasks are
 * outstanding, and everything that arrives meanwhile waits here and leaves as ONE task of up to `maxBatch`
 * requests. Under light load a batch is one request and adds no delay (it is sent at the end of the same
 * event-loop turn); under heavy load batches grow, the hand-off is amortised and one ONNX Runtime call
 * scores several transactions at once. The queue is bounded by `maxInFlight`; past it `submit` refuses at
 * once (the caller answers `overloaded`), so memory and latency stay bounded instead of queueing forever.
 */
import { Piscina } from 'piscina';
import { TXN_DIM } from '../features/spec.js';
import { toWireError, type WireError } from '../errors/codes.js';
import type { DecideJob, InferenceWorkerData, JobResult, WorkerTask, WorkerTaskResult } from './messages.js';
import { nowMs } from '../observability/clock.js';
import { tuneHeapsForServing } from './heap-tuning.js';
import { ControlBlock } from './control-block.js';
import { rebuildAwareBalancer } from './rebuild-balancer.js';

/**
 * Longest close() waits for the tasks already on the workers and then for the workers to leave ONNX Runtime,
 * before piscina terminates them (ms, counted from the end of the drain). A task takes a few ms, a view build
 * tens of ms at 10k offers and a worker's start-up a few hundred; only a worker that died inside a stretch,
 * or one stuck in native code, uses up the bound.
 */
export const QUIESCE_TIMEOUT_MS = 10_000;

export interface PoolOptions {
  poolSize: number;
  concurrentTasksPerWorker: number;
  maxBatch: number;
  maxInFlight: number;
}

/**
 * Where one task's time went, ms: `queueMs` the oldest of its requests waited here before dispatch (admission
 * queue and batching), `workerMs` the worker spent on it, `handoffMs` the rest of the round trip (piscina's
 * queue, the post to the worker and back, and the wake-ups of both threads).
 */
export interface TaskTiming {
  jobs: number;
  queueMs: number;
  workerMs: number;
  handoffMs: number;
  /** The worker was rebuilding its view when the task reached it (see WorkerTaskResult.duringRebuild). */
  duringRebuild: boolean;
}

/** A request accepted at the edge, waiting for its answer. */
export interface PendingDecision {
  job: Omit<DecideJob, 'row' | 'seq'>;
  /** TXN_DIM features of the transaction. */
  features: Float32Array;
  /** Called exactly once with the outcome. */
  done: (result: JobResult) => void;
  /** True when no one waits for the answer any more (its connection closed): dropped before it uses a
   * worker, so a client that floods and disconnects does not leave its backlog for others to wait behind. */
  abandoned?: () => boolean;
}

export class InferencePool {
  private readonly piscina: Piscina<WorkerTask, WorkerTaskResult>;
  private readonly control: ControlBlock;
  private readonly queue: PendingDecision[] = [];
  private queueHead = 0;
  private outstandingTasks = 0;
  private inFlightCount = 0;
  private nextSeq = 1;
  private flushScheduled = false;
  private closing: Promise<void> | null = null;
  private readonly maxOutstanding: number;
  private idleWaiters: (() => void)[] = [];

  constructor(
    filename: string,
    workerData: InferenceWorkerData,
    private readonly opts: PoolOptions,
    private readonly onWorkerError: (err: Error) => void,
    private readonly onTask: (t: TaskTiming) => void = () => {},
  ) {
    this.maxOutstanding = opts.poolSize * opts.concurrentTasksPerWorker;
    this.control = new ControlBlock(workerData.control, workerData.poolSize);
    // Before the first worker exists: its isolate reads the V8 flags when it is created (heap-tuning.ts).
    tuneHeapsForServing();
    this.piscina = new Piscina<WorkerTask, WorkerTaskResult>({
      filename,
      workerData,
      minThreads: opts.poolSize,
      maxThreads: opts.poolSize,
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: opts.concurrentTasksPerWorker,
      // 'async' keeps an idle worker's event loop running, so it hears catalog-change broadcasts and builds
      // the new view before traffic needs it (see workers/inference/worker.ts).
      atomics: 'async',
      // We never exceed maxOutstanding tasks, so piscina's own queue stays empty; the bound is a guard.
      maxQueue: this.maxOutstanding,
      recordTiming: false,
      // A worker rebuilding its view gets no new task while another can take it (rebuild-balancer.ts).
      loadBalancer: rebuildAwareBalancer(this.control, opts.concurrentTasksPerWorker),
    });
    this.piscina.on('error', (err: Error) => this.onWorkerError(err));
  }

  /** Requests accepted and not yet answered (queued here or running in a worker). */
  get inFlight(): number {
    return this.inFlightCount;
  }

  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  /** Share of worker capacity in use since the pool started, 0..1 (piscina's measure). */
  get utilization(): number {
    return this.piscina.utilization;
  }

  get threads(): number {
    return this.piscina.threads.length;
  }

  /** Accepts the request, or returns false at once when the pool is at its in-flight bound or closing. */
  submit(p: PendingDecision): boolean {
    if (this.closing || this.inFlightCount >= this.opts.maxInFlight) return false;
    this.inFlightCount++;
    this.queue.push(p);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // End of this event-loop turn: every frame that arrived in the same I/O poll joins one batch.
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
    return true;
  }

  private take(): PendingDecision | undefined {
    if (this.queueHead >= this.queue.length) return undefined;
    const p = this.queue[this.queueHead];
    this.queue[this.queueHead++] = undefined as unknown as PendingDecision;
    // Compact now and then so the array does not grow with the total ever queued.
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    return p;
  }

  private flush(): void {
    while (this.outstandingTasks < this.maxOutstanding && this.queued > 0) {
      const batch: PendingDecision[] = [];
      const now = nowMs();
      while (batch.length < this.opts.maxBatch) {
        const p = this.take();
        if (!p) break;
        if (p.abandoned?.()) {
          this.finish(p, { seq: 0, ok: false, error: { code: 'cancelled', message: 'the connection closed before the request started' } });
          continue;
        }
        if (now > p.job.deadline) {
          // Expired while waiting here: answer without spending a worker on it.
          this.finish(p, { seq: 0, ok: false, error: { code: 'deadline_exceeded', message: `waited ${Math.round(now - p.job.receivedAt)} ms in the queue, past its deadline` } });
          continue;
        }
        batch.push(p);
      }
      if (batch.length > 0) this.dispatch(batch);
    }
  }

  private dispatch(batch: PendingDecision[]): void {
    const features = new Float32Array(batch.length * TXN_DIM);
    const jobs: DecideJob[] = new Array(batch.length);
    const bySeq = new Map<number, PendingDecision>();
    for (let i = 0; i < batch.length; i++) {
      const seq = this.nextSeq++;
      jobs[i] = { ...batch[i].job, seq, row: i };
      features.set(batch[i].features, i * TXN_DIM);
      bySeq.set(seq, batch[i]);
    }
    this.outstandingTasks++;
    const dispatchedAt = nowMs();
    let oldest = dispatchedAt;
    for (const p of batch) oldest = Math.min(oldest, p.job.receivedAt);
    this.piscina
      .run({ type: 'decide', jobs, features }, { transferList: [features.buffer] })
      .then(
        (res) => {
          const workerMs = res.workerUs / 1000;
          this.onTask({ jobs: jobs.length, queueMs: dispatchedAt - oldest, workerMs, handoffMs: Math.max(0, nowMs() - dispatchedAt - workerMs), duringRebuild: res.duringRebuild });
          for (const r of res.results) {
            const p = bySeq.get(r.seq);
            if (p) {
              bySeq.delete(r.seq);
              this.finish(p, r);
            }
          }
          // A worker that forgot a job must not leave its request hanging.
          this.failAll(bySeq, { code: 'internal', message: 'the worker returned no result for this request' });
        },
        (err: unknown) => this.failAll(bySeq, toWireError(err)),
      )
      .finally(() => {
        this.outstandingTasks--;
        this.flush();
      });
  }

  /** Resolves once nothing is in flight, or after `ms`. */
  private async waitIdle(ms: number): Promise<void> {
    if (this.inFlightCount === 0) return;
    await new Promise<void>((resolveIdle) => {
      const timer = setTimeout(resolveIdle, ms);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolveIdle();
      });
    });
  }

  private failAll(bySeq: Map<number, PendingDecision>, error: WireError): void {
    for (const [seq, p] of bySeq) this.finish(p, { seq, ok: false, error });
    bySeq.clear();
  }

  private finish(p: PendingDecision, r: JobResult): void {
    this.inFlightCount--;
    try {
      p.done(r);
    } finally {
      if (this.inFlightCount === 0 && this.idleWaiters.length > 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  /**
   * Stops accepting, lets in-flight requests finish for up to `drainMs`, fails what is still queued here with
   * `shutting_down`, lets the tasks already on the workers finish, waits for the workers to leave ONNX Runtime
   * (ControlBlock.quiesce), then terminates them. The last two waits share QUIESCE_TIMEOUT_MS. Idempotent:
   * later calls return the same promise.
   */
  close(drainMs: number): Promise<void> {
    if (!this.closing) this.closing = this.doClose(drainMs);
    return this.closing;
  }

  private async doClose(drainMs: number): Promise<void> {
    await this.waitIdle(drainMs);
    const deadline = performance.now() + QUIESCE_TIMEOUT_MS;
    for (let p = this.take(); p; p = this.take()) {
      this.finish(p, { seq: 0, ok: false, error: { code: 'shutting_down', message: 'the server is shutting down' } });
    }
    // What is left was already handed to piscina (at most poolSize x concurrentTasksPerWorker tasks, a few ms
    // each): it runs to its end and is answered for real. Failing it would not save the work, and destroy()
    // would cut a running task off inside ONNX Runtime or fail a task still in piscina's queue.
    await this.waitIdle(Math.max(0, deadline - performance.now()));
    // piscina.destroy() terminates each worker; one terminated inside ONNX Runtime aborts the process.
    if (!(await this.control.quiesce(Math.max(0, deadline - performance.now())))) {
      this.onWorkerError(new Error(`an inference worker was still inside a native call ${QUIESCE_TIMEOUT_MS} ms after the drain ended; terminating anyway`));
    }
    await this.piscina.destroy();
  }
}

