/**
 * The online trainer thread: a plain node:worker_threads Worker that runs OnlineTrainer
 * (src/learning/online-trainer.ts) until told to stop. Never on the serving path: it reads labelled
 * examples and catalog versions, trains in plain TypeScript under a duty cycle (maxBusyFraction), and
 * publishes candidates into the registry, where the model manager finds them.
 *
 * The example source comes from createExampleSource(dataDir), imported lazily from
 * src/events/example-source.js (or workerData.exampleSourceModule); until that module exists the trainer
 * reports 'idle' and waits for 'stop'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStorage, type Storage } from '../../src/catalog/store.js';
import { toWireError } from '../../src/errors/codes.js';
import type { TrainerRequest, TrainerToMain, TrainerWorkerData } from '../../src/learning/online-messages.js';
import { loadExampleSourceFactory } from '../../src/learning/online-source.js';
import { OnlineTrainer } from '../../src/learning/online-trainer.js';
import { openRegistry } from '../../src/registry/registry.js';
import { threadHeap } from '../../src/runtime/thread-heap.js';
import { lowerThreadPriority } from '../../src/runtime/thread-priority.js';

const data = workerData as TrainerWorkerData;
// Before any work: training must yield the cores to the serving threads (src/runtime/thread-priority.ts).
const priority = lowerThreadPriority(data.options.nice);
if (!priority.applied && data.options.nice > 0) process.emitWarning(`trainer: thread priority unchanged: ${priority.reason}`);
const port = parentPort;
if (!port) throw new Error('the trainer must run as a worker thread');
const post = (m: TrainerToMain): void => port.postMessage(m);

let storage: Storage | null = null;
let trainer: OnlineTrainer | null = null;
let stopping: Promise<void> | null = null;

function shutdown(id: number | null): Promise<void> {
  stopping ??= (async () => {
    await trainer?.stop();
    await trainer?.closeSource();
    await storage?.close();
  })();
  return stopping.then(() => {
    post({ type: 'stopped', id });
    port?.close();
  });
}

port.on('message', (req: TrainerRequest) => {
  switch (req.type) {
    case 'stop':
      void shutdown(req.id);
      break;
    case 'status':
      if (!trainer) post({ type: 'reply', id: req.id, ok: false, error: { code: 'not_ready', message: 'the trainer is starting' } });
      else post({ type: 'reply', id: req.id, ok: true, status: { ...trainer.status(), ...threadHeap() } });
      break;
    case 'export-now':
      if (!trainer) post({ type: 'reply', id: req.id, ok: false, error: { code: 'not_ready', message: 'the trainer is starting' } });
      else {
        const t = trainer;
        t.exportNow().then(
          (exported) => post({ type: 'reply', id: req.id, ok: true, status: { ...t.status(), ...threadHeap() }, exported }),
          (err: unknown) => post({ type: 'reply', id: req.id, ok: false, error: toWireError(err) }),
        );
      }
      break;
    default: {
      const never: never = req;
      post({ type: 'error', error: { code: 'internal', message: `unknown trainer request ${JSON.stringify(never)}` } });
    }
  }
});

try {
  const registry = await openRegistry(data.registryDir);
  storage = openStorage(data.dataDir, { readOnly: true });
  const factory = await loadExampleSourceFactory(data.exampleSourceModule ?? undefined);
  trainer = new OnlineTrainer({ registry, dataDir: data.dataDir, createExampleSource: factory, catalog: storage.catalog, options: data.options, emit: post });
  if (await trainer.start()) void trainer.run();
} catch (err) {
  post({ type: 'error', error: toWireError(err) });
  await shutdown(null);
}
