/**
 * The main-thread side of a long-lived control thread (the model manager, the online trainer): requests
 * carry an id and are answered by exactly one reply with that id; everything else the thread posts is an
 * event for the listeners. close() asks the thread to stop, waits for its 'stopped' (or exit), and
 * terminates it after a timeout. Idempotent and memoised, like every close() in txrank.
 */
import { EventEmitter } from 'node:events';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { TxrankError, isErrorCode, type WireError } from '../errors/codes.js';

type Reply = { type: 'reply'; id: number; ok: true } | { type: 'reply'; id: number; ok: false; error: WireError };
type Stopped = { type: 'stopped'; id: number | null };

/** Omit over each member of a union (the built-in Omit collapses a union to its common keys). */
export type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** Rebuilds a TxrankError from its wire form (Error objects do not survive postMessage). */
export function fromWireError(e: WireError): TxrankError {
  return new TxrankError(isErrorCode(e.code) ? e.code : 'internal', e.message);
}

export class ThreadClient<Req extends { type: string; id: number }, Rep extends Reply, Ev extends { type: string }> {
  readonly worker: Worker;
  readonly #pending = new Map<number, { resolve: (r: Rep & { ok: true }) => void; reject: (e: Error) => void }>();
  readonly #events = new EventEmitter();
  readonly #name: string;
  readonly #stopTimeoutMs: number;
  #nextId = 1;
  #exited = false;
  #exit: Promise<number>;
  #closing: Promise<void> | null = null;

  /** `resourceLimits`: the thread's own V8 heap limits (Node's Worker option), when it needs any. */
  constructor(name: string, file: string, workerData: unknown, stopTimeoutMs: number, resourceLimits?: ResourceLimits) {
    this.#name = name;
    this.#stopTimeoutMs = stopTimeoutMs;
    this.worker = new Worker(file, { workerData, ...(resourceLimits ? { resourceLimits } : {}) });
    this.worker.on('message', (msg: Rep | Ev | Stopped) => {
      if (msg.type === 'reply') {
        const r = msg as Rep;
        const p = this.#pending.get(r.id);
        if (!p) return;
        this.#pending.delete(r.id);
        if (r.ok) p.resolve(r as Rep & { ok: true });
        else p.reject(fromWireError((r as { error: WireError }).error));
        return;
      }
      this.#events.emit('event', msg);
    });
    this.worker.on('error', (err) => {
      this.#events.emit('event', { type: 'error', error: { code: 'internal', message: `${name} thread crashed: ${err.message}` } });
    });
    this.#exit = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.#exited = true;
        for (const p of this.#pending.values()) p.reject(new TxrankError('internal', `${name} thread exited (code ${code}) before answering`));
        this.#pending.clear();
        this.#events.emit('exit', code);
        resolve(code);
      });
    });
  }

  /** Every event the thread posts (not replies). Returns an unsubscribe function. */
  onEvent(listener: (event: Ev | Stopped) => void): () => void {
    this.#events.on('event', listener);
    return () => this.#events.off('event', listener);
  }

  /** Resolves with the first event satisfying `pred`; rejects if the thread exits first. */
  waitFor<E extends Ev | Stopped>(pred: (e: Ev | Stopped) => e is E, what: string): Promise<E> {
    return new Promise((resolve, reject) => {
      const off = this.onEvent((e) => {
        if (pred(e)) {
          off();
          this.#events.off('exit', onExit);
          resolve(e);
        }
      });
      const onExit = (code: number): void => {
        off();
        reject(new TxrankError('internal', `${this.#name} thread exited (code ${code}) before ${what}`));
      };
      this.#events.once('exit', onExit);
    });
  }

  /** Sends a request and resolves with its reply (rejects with the rebuilt error on ok: false). */
  request(req: WithoutId<Req>): Promise<Rep & { ok: true }> {
    if (this.#exited || this.#closing) return Promise.reject(new TxrankError('shutting_down', `${this.#name} thread is stopped`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id } as Req);
    });
  }

  /** Stops the thread: 'stop', then wait for it to exit, terminating it after stopTimeoutMs. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#exited) return;
      this.worker.postMessage({ type: 'stop', id: this.#nextId++ });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), this.#stopTimeoutMs)));
      const res = await Promise.race([this.#exit, timeout]);
      clearTimeout(timer);
      if (res === 'timeout') await this.worker.terminate();
    })();
    return this.#closing;
  }
}
