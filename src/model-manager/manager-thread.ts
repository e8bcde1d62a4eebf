/**
 * The main thread's handle on the model manager thread (workers/model-manager).
 *
 *   const manager = await ModelManagerThread.start({ registryDir, dataDir });   // resolves at 'ready'
 *   manager.ready                       // {version, dir, generation}: what the inference workers serve first
 *   manager.onEvent((e) => { switch (e.type) { case 'promoted': ...; case 'rejected': ...; ... } });
 *   await manager.pin('tt-1-…'); await manager.unpin(); await manager.rollback(); await manager.list();
 *   await manager.close();              // idempotent
 */
import { workerPath } from '../pool/worker-path.js';
import type { ManagerEvent, ManagerReply, ManagerRequest, ManagerWorkerData, RegistrySummary } from './messages.js';
import { resolveManagerOptions, type ManagerOptions } from './options.js';
import { ThreadClient, fromWireError } from './thread-client.js';

export interface ModelManagerThreadOptions {
  registryDir: string;
  dataDir: string | null;
  /** Module exporting createExampleSource(dataDir); default src/events/example-source.js when built. */
  exampleSourceModule?: string | null;
  options?: Partial<ManagerOptions>;
}

type Ready = Extract<ManagerEvent, { type: 'ready' }>;

/**
 * The manager thread's young generation, MB (V8 splits it into two semi-spaces and a large-object space: 12 MB
 * is 4 MB semi-spaces). Why: under back-to-back swaps V8 grows the semi-spaces of a thread that allocates as
 * much as a validation does. Uncapped, the manager's committed heap stepped up by 16 MB around its 1,500th
 * validation while 15 MB stayed in use (bench/RESULTS.md session 8). With a 24 MB cap it still filled from 19
 * to 32 MB within the first few hundred swaps; with 12 MB it stays at 23-24 MB (session 9). The manager answers
 * no request on the decision path; its scavenges become more frequent and smaller. The pin round trip, which
 * includes a validation, read 59 ms mean over 1,000 pins against 46-61 ms with 24 MB, and the twin
 * benchmark's latency stayed in its range.
 */
const MANAGER_YOUNG_GENERATION_MB = 12;

export class ModelManagerThread {
  private constructor(
    private readonly client: ThreadClient<ManagerRequest, ManagerReply, ManagerEvent>,
    readonly ready: Ready,
  ) {}

  /** Starts the thread; resolves once it announced the serving model, rejects if it fails first. */
  static async start(opts: ModelManagerThreadOptions): Promise<ModelManagerThread> {
    const options = resolveManagerOptions(opts.options);
    const data: ManagerWorkerData = { registryDir: opts.registryDir, dataDir: opts.dataDir, exampleSourceModule: opts.exampleSourceModule ?? null, options };
    const client = new ThreadClient<ManagerRequest, ManagerReply, ManagerEvent>('model manager', workerPath('model-manager'), data, options.stopTimeoutMs, {
      maxYoungGenerationSizeMb: MANAGER_YOUNG_GENERATION_MB,
    });
    try {
      const first = await client.waitFor((e): e is Ready | Extract<ManagerEvent, { type: 'error' }> => e.type === 'ready' || e.type === 'error', "announcing 'ready'");
      if (first.type === 'error') throw fromWireError(first.error);
      return new ModelManagerThread(client, first);
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  /** Every event: promoted, rejected, error, stopped. Returns an unsubscribe function. */
  onEvent(listener: (event: ManagerEvent) => void): () => void {
    return this.client.onEvent(listener);
  }

  async pin(version?: string): Promise<RegistrySummary> {
    return (await this.client.request(version === undefined ? { type: 'pin' } : { type: 'pin', version })).registry;
  }

  async unpin(): Promise<RegistrySummary> {
    return (await this.client.request({ type: 'unpin' })).registry;
  }

  async rollback(opts: { pin?: boolean } = {}): Promise<RegistrySummary> {
    return (await this.client.request({ type: 'rollback', pin: opts.pin === true })).registry;
  }

  async list(): Promise<RegistrySummary> {
    return (await this.client.request({ type: 'list' })).registry;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
