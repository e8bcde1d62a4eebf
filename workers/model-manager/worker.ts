/**
 * The model manager thread: a plain node:worker_threads Worker (not a pool member) that watches the model
 * registry, validates candidates, applies the policy and announces serving changes to the main thread
 * (src/model-manager/messages.ts). Started and stopped by ModelManagerThread (src/model-manager/manager-thread.ts).
 *
 * Why its own thread: validation opens ONNX Runtime sessions and scores thousands of held-out examples
 * (tens to hundreds of ms); on the main thread that would stall every connection, and in an inference
 * worker it would delay decisions. Here it only competes for a core, briefly, once per candidate.
 *
 * It opens the LMDB environment read-only by path (never a handle from another thread), for the catalog's
 * offers (canary, held-out offer features) and for the example source.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStorage, type Storage } from '../../src/catalog/store.js';
import { toWireError } from '../../src/errors/codes.js';
import type { ExampleSource } from '../../src/learning/labelled-example.js';
import { closeSource, loadExampleSourceFactory } from '../../src/learning/online-source.js';
import { ModelManager } from '../../src/model-manager/manager.js';
import type { ManagerRequest, ManagerToMain, ManagerWorkerData } from '../../src/model-manager/messages.js';
import { openRegistry } from '../../src/registry/registry.js';
import { lowerThreadPriority } from '../../src/runtime/thread-priority.js';

const data = workerData as ManagerWorkerData;
// Before any work: validation must yield the cores to the serving threads (src/runtime/thread-priority.ts).
const priority = lowerThreadPriority(data.options.nice);
if (!priority.applied && data.options.nice > 0) process.emitWarning(`model manager: thread priority unchanged: ${priority.reason}`);
const port = parentPort;
if (!port) throw new Error('the model manager must run as a worker thread');
const post = (m: ManagerToMain): void => port.postMessage(m);

let storage: Storage | null = null;
let source: ExampleSource | null = null;
let manager: ModelManager | null = null;
let stopping: Promise<void> | null = null;

/** Memoised: a 'stop' during start-up and a failed start-up share one shutdown. */
function shutdown(id: number | null): Promise<void> {
  stopping ??= (async () => {
    await manager?.stop();
    await closeSource(source).catch(() => undefined);
    await storage?.close();
    post({ type: 'stopped', id });
    port?.close();
  })();
  return stopping;
}

port.on('message', (req: ManagerRequest) => {
  switch (req.type) {
    case 'stop':
      void shutdown(req.id);
      break;
    case 'pin':
    case 'unpin':
    case 'rollback':
    case 'list':
      if (!manager) post({ type: 'reply', id: req.id, ok: false, error: { code: 'not_ready', message: 'the model manager is starting' } });
      else void manager.request(req).then(post);
      break;
    default: {
      const never: never = req;
      post({ type: 'error', error: { code: 'internal', message: `unknown manager request ${JSON.stringify(never)}` } });
    }
  }
});

try {
  const registry = await openRegistry(data.registryDir, { settleMs: data.options.settleMs });
  if (data.dataDir !== null) {
    try {
      storage = openStorage(data.dataDir, { readOnly: true });
    } catch {
      storage = null; // no catalog yet: synthetic canary only, no held-out examples
    }
  }
  const factory = await loadExampleSourceFactory(data.exampleSourceModule ?? undefined);
  if (factory && data.dataDir !== null) source = await factory(data.dataDir);
  manager = new ModelManager({ registry, options: data.options, emit: post, catalog: storage?.catalog ?? null, examples: source });
  await manager.start();
} catch (err) {
  post({ type: 'error', error: toWireError(err) });
  await shutdown(null);
}
