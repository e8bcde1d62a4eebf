/**
 * The online trainer's persisted position in the example stream: the last seq folded into an exported
 * candidate, and that candidate's version. Written atomically at each export (never between exports: the
 * cursor must match weights that exist on disk), read at start, so a restart does not train the same
 * examples again. Examples read after the last export and not yet exported are trained again after a
 * restart (their weights were lost with the process), starting from the serving model.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../registry/atomic-file.js';

export const TRAINER_STATE_FILE = 'trainer-state.json';

export interface TrainerCursor {
  /** Last example seq used (trained, held out or skipped) by the latest export; -1 before any. */
  cursor: number;
  /** The candidate that export produced. */
  version: string;
  updatedAt: string;
}

export class CursorStore {
  readonly file: string;

  constructor(registryDir: string) {
    this.file = path.join(registryDir, TRAINER_STATE_FILE);
  }

  async load(): Promise<TrainerCursor | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const v = JSON.parse(text) as Partial<TrainerCursor>;
    if (typeof v.cursor !== 'number' || !Number.isFinite(v.cursor) || typeof v.version !== 'string') {
      throw new Error(`${this.file} is not a trainer state (cursor, version)`);
    }
    return { cursor: v.cursor, version: v.version, updatedAt: String(v.updatedAt ?? '') };
  }

  async save(c: TrainerCursor): Promise<void> {
    await writeFileAtomic(this.file, JSON.stringify(c, null, 2) + '\n');
  }
}
