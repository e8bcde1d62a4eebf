/**
 * The module the learning threads load to read labelled examples (src/learning/online-source.ts):
 *
 *   createExampleSource(dataDir) -> ExampleSource & { latestSeq(), close() }
 *
 * It opens the storage environment at dataDir read-only, in the calling thread (LMDB handles are per
 * thread; a Database cannot be posted). The writer (the server's main thread) may not have created the
 * event DBs yet when a trainer starts; until it has, read() returns nothing and latestSeq() 0, and the DBs
 * are looked for again at most once a second.
 */
import { openStorage, type Storage } from '../catalog/store.js';
import type { ExampleSource, LabelledExample } from '../learning/labelled-example.js';
import { TxrankError } from '../errors/codes.js';
import { ExampleStream } from './example-stream.js';

const RETRY_MS = 1_000;

export class ReadOnlyExampleSource implements ExampleSource {
  readonly #storage: Storage;
  #stream: ExampleStream | null = null;
  #nextTry = 0;
  #closed = false;

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  read(afterSeq: number, limit: number): LabelledExample[] {
    return this.#ready()?.read(afterSeq, limit) ?? [];
  }

  latestSeq(): number {
    return this.#ready()?.latestSeq() ?? 0;
  }

  /** Closes this thread's read-only environment. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream = null;
    await this.#storage.close();
  }

  #ready(): ExampleStream | null {
    if (this.#closed) throw new TxrankError('shutting_down', 'the example source is closed');
    if (this.#stream !== null) return this.#stream;
    const now = Date.now();
    if (now < this.#nextTry) return null;
    try {
      this.#storage.root.resetReadTxn();
      this.#stream = new ExampleStream(this.#storage.root);
    } catch (err) {
      if (!(err instanceof TxrankError && err.code === 'not_ready')) throw err;
      this.#nextTry = now + RETRY_MS;
    }
    return this.#stream;
  }
}

/** Opens `dataDir` read-only in this thread; throws `not_ready` when no storage exists there yet. */
export function createExampleSource(dataDir: string): ReadOnlyExampleSource {
  return new ReadOnlyExampleSource(openStorage(dataDir, { readOnly: true }));
}
