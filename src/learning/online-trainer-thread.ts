/**
 * The main thread's handle on the online trainer thread (workers/trainer).
 *
 *   const trainer = await TrainerThread.start({ registryDir, dataDir });  // resolves at 'started' or 'idle'
 *   trainer.onEvent((e) => { switch (e.type) { case 'exported': ...; case 'reset': ...; ... } });
 *   await trainer.status(); await trainer.exportNow();
 *   await trainer.close();                                                // idempotent
 */
import { workerPath } from '../pool/worker-path.js';
import { ThreadClient, fromWireError } from '../model-manager/thread-client.js';
import type { TrainerEvent, TrainerReply, TrainerRequest, TrainerThreadStatus, TrainerWorkerData } from './online-messages.js';
import { resolveTrainerOptions, type TrainerOptions } from './online-options.js';

export interface TrainerThreadOptions {
  registryDir: string;
  dataDir: string;
  /** Module exporting createExampleSource(dataDir); default src/events/example-source.js when built. */
  exampleSourceModule?: string | null;
  options?: Partial<TrainerOptions>;
  /** close(): how long the thread may take to finish its step before it is terminated (ms). */
  stopTimeoutMs?: number;
}

type First = Extract<TrainerEvent, { type: 'started' | 'idle' | 'error' }>;

export class TrainerThread {
  private constructor(
    private readonly client: ThreadClient<TrainerRequest, TrainerReply, TrainerEvent>,
    readonly started: Extract<TrainerEvent, { type: 'started' | 'idle' }>,
  ) {}

  static async start(opts: TrainerThreadOptions): Promise<TrainerThread> {
    const data: TrainerWorkerData = {
      registryDir: opts.registryDir,
      dataDir: opts.dataDir,
      exampleSourceModule: opts.exampleSourceModule ?? null,
      options: resolveTrainerOptions(opts.options),
    };
    const client = new ThreadClient<TrainerRequest, TrainerReply, TrainerEvent>('trainer', workerPath('trainer'), data, opts.stopTimeoutMs ?? 10_000);
    try {
      const first = await client.waitFor((e): e is First => e.type === 'started' || e.type === 'idle' || e.type === 'error', "'started'");
      if (first.type === 'error') throw fromWireError(first.error);
      return new TrainerThread(client, first);
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  onEvent(listener: (event: TrainerEvent) => void): () => void {
    return this.client.onEvent(listener);
  }

  async status(): Promise<TrainerThreadStatus> {
    return (await this.client.request({ type: 'status' })).status;
  }

  /** Exports a candidate now (when anything was trained since the last export); resolves with its version or null. */
  async exportNow(): Promise<string | null> {
    return (await this.client.request({ type: 'export-now' })).exported ?? null;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
