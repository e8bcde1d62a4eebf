/**
 * The learning loop as the server sees it: the model registry, the model manager thread (validates and
 * promotes candidates) and the online trainer thread (turns labelled engagement into candidates). The server
 * owns one LearningLoop and closes it after the inference pool has drained.
 *
 *   engagement -> labelled examples (LMDB) -> trainer thread -> registry candidate
 *     -> manager thread validates -> 'promoted' -> server publishes the generation -> workers swap
 */
import { join } from 'node:path';
import type { ManagerEvent } from '../model-manager/messages.js';
import { ModelManagerThread } from '../model-manager/manager-thread.js';
import type { ManagerOptions } from '../model-manager/options.js';
import { openRegistry } from '../registry/registry.js';
import { TrainerThread } from './online-trainer-thread.js';
import type { TrainerEvent } from './online-messages.js';
import type { TrainerOptions } from './online-options.js';

export interface ServingModelRef {
  version: string;
  dir: string;
  generation: number;
}

export interface LearningLoopOptions {
  dataDir: string;
  /** Seeds an empty registry (the shipped model). */
  seedModelDir: string;
  manager?: Partial<ManagerOptions>;
  trainer?: Partial<TrainerOptions>;
}

export type LearningEvent = ManagerEvent | TrainerEvent;

export class LearningLoop {
  private closing: Promise<void> | null = null;

  private constructor(
    readonly registryDir: string,
    readonly manager: ModelManagerThread,
    readonly trainer: TrainerThread,
  ) {}

  /** The registry lives in the data dir, next to LMDB, so one directory holds all of a node's state. */
  static registryDirOf(dataDir: string): string {
    return join(dataDir, 'models');
  }

  static async start(opts: LearningLoopOptions, onEvent: (e: LearningEvent) => void): Promise<LearningLoop> {
    const registryDir = LearningLoop.registryDirOf(opts.dataDir);
    await openRegistry(registryDir, { seedFrom: opts.seedModelDir });
    const manager = await ModelManagerThread.start({ registryDir, dataDir: opts.dataDir, options: opts.manager });
    manager.onEvent(onEvent);
    let trainer: TrainerThread;
    try {
      trainer = await TrainerThread.start({ registryDir, dataDir: opts.dataDir, options: opts.trainer });
    } catch (err) {
      await manager.close();
      throw err;
    }
    trainer.onEvent(onEvent);
    return new LearningLoop(registryDir, manager, trainer);
  }

  /** What the manager announced at start: the model the inference workers must serve first. */
  get serving(): ServingModelRef {
    const r = this.manager.ready;
    return { version: r.version, dir: r.dir, generation: r.generation };
  }

  /** Idempotent. The trainer first (it may be mid-export), then the manager. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.trainer.close();
      await this.manager.close();
    })();
    return this.closing;
  }
}
