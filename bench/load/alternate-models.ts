/**
 * Two fresh model versions written into a server's registry directory, for benchmarks (and tests) that swap
 * between them by operator pin: each pin to the other one is a new generation that every worker adopts.
 * The manager registers a directory once it has stayed unchanged for its settle time.
 */
import { join } from 'node:path';
import { OFFER_DIM, TXN_DIM } from '../../src/features/spec.js';
import { initWeights } from '../../src/learning/two-tower.js';
import { modelVersionFor, writeModelDir } from '../../src/model/onnx-export.js';

/** Writes one randomly initialised two-tower model per seed into <dataDir>/models; returns their versions. */
export async function writeAlternateModels(dataDir: string, seeds: readonly number[], tag: string): Promise<string[]> {
  const versions: string[] = [];
  for (const seed of seeds) {
    const w = initWeights({ txn: TXN_DIM, offer: OFFER_DIM, hidden: 32, embed: 16 }, seed);
    const v = modelVersionFor(w);
    await writeModelDir(join(dataDir, 'models', v), w, { parent: null, createdAt: '2026-01-01T00:00:00.000Z', training: { bench: tag }, metrics: {} });
    versions.push(v);
  }
  return versions;
}
