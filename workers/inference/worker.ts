/**
 * The inference worker: a piscina worker thread that keeps, for its whole life, the model, a read-only view
 * of the LMDB environment and the serving view of the current catalog, and answers batches of decisions.
 *
 * Start-up runs at module top level: piscina awaits the module before it reports the worker ready, so a
 * worker never receives a task before its model is loaded. A model that fails to load fails the worker and
 * with it the server's start, loudly.
 *
 * Catalog changes reach a worker two ways, on purpose:
 *   - a ControlMessage on the BroadcastChannel, so an idle worker builds the new view before traffic needs
 *     it (the pool runs with atomics 'async', which leaves an idle worker's event loop free to hear it);
 *   - the published version in the shared control block, compared at the start of every task, so a missed
 *     or late message can delay a swap by at most one task, never lose it.
 * A build runs beside the current view; tasks keep using the old view until the new one is complete.
 */
import { BroadcastChannel, workerData } from 'node:worker_threads';
import { openStorage } from '../../src/catalog/store.js';
import { toWireError } from '../../src/errors/codes.js';
import { readModelDir } from '../../src/model/model-dir.js';
import { ControlBlock, WORKER_STATE } from '../../src/pool/control-block.js';
import {
  CONTROL_CHANNEL,
  type ControlMessage,
  type InferenceWorkerData,
  type WorkerTask,
  type WorkerTaskResult,
} from '../../src/pool/messages.js';
import { CatalogView } from './catalog-view.js';
import { decideBatch } from './decide.js';

const data = workerData as InferenceWorkerData;
const control = new ControlBlock(data.control, data.poolSize);
const slot = control.claimSlot();
control.setWorker(slot, WORKER_STATE.starting, 0, 0);

const storage = openStorage(data.dataDir, { readOnly: true });
let model: Awaited<ReturnType<typeof readModelDir>>;
try {
  model = await readModelDir(data.modelDir);
} catch (err) {
  control.setWorker(slot, WORKER_STATE.failed, 0, 0);
  throw err;
}

// Assigned only inside refresh(); the cast stops TypeScript narrowing it to null at module level.
let current = null as CatalogView | null;
let building: Promise<void> | null = null;

/** Builds the view of the catalog that is current in LMDB, unless a build is already under way. */
function refresh(): Promise<void> {
  if (building) return building;
  // Cleared by a .finally on the outer promise, not inside the async body: a body that returns before its
  // first await would run its own finally before `building` is even assigned, and leave it set forever.
  building = build().then(
    () => {
      building = null;
      // A version committed while this build ran (its broadcast found the build busy): catch up now rather
      // than at the next task, so an idle worker becomes ready too.
      if (storage.catalog.currentVersion() !== (current?.catalogVersion ?? null)) return refresh();
    },
    (err: unknown) => {
      building = null;
      throw err;
    },
  );
  return building;
}

async function build(): Promise<void> {
  const version = storage.catalog.currentVersion();
  if (version === null || version === current?.catalogVersion) return;
  const snapshot = storage.catalog.read(version);
  if (!snapshot) return; // retired between the two reads; the next refresh finds the newer one
  const view = await CatalogView.build(snapshot, model);
  const old = current;
  current = view;
  control.setWorker(slot, WORKER_STATE.serving, view.catalogVersion, 1);
  await old?.retire();
}

const channel = new BroadcastChannel(CONTROL_CHANNEL);
channel.unref();
channel.onmessage = (event: unknown) => {
  const msg = (event as { data: ControlMessage }).data;
  switch (msg.type) {
    case 'catalog-changed':
            if (msg.version !== current?.catalogVersion) refresh().catch(reportBuildFailure);
      break;
    default: {
      const never: never = msg.type;
      throw new Error(`unknown control message ${String(never)}`);
    }
  }
};

function reportBuildFailure(err: unknown): void {
  // The old view keeps serving; the failure is visible in /v1/info through the unchanged catalog version.
  process.emitWarning(`inference worker ${slot}: catalog view build failed: ${toWireError(err).message}`);
}

await refresh().catch(reportBuildFailure);
control.setWorker(slot, WORKER_STATE.serving, current?.catalogVersion ?? 0, 1);

export default async function handle(task: WorkerTask): Promise<WorkerTaskResult> {
  switch (task.type) {
    case 'decide': {
      if (control.publishedCatalog !== (current?.catalogVersion ?? 0)) {
        const pending = refresh();
        // With no view at all there is nothing to serve from: wait. Otherwise serve from the old view while
        // the new one builds, so a catalog load never stalls traffic.
        if (!current) await pending.catch(reportBuildFailure);
        else pending.catch(reportBuildFailure);
      }
      const view = current;
      if (!view) {
        return {
          type: 'decided',
          results: task.jobs.map((j) => ({ seq: j.seq, ok: false as const, error: { code: 'not_ready' as const, message: 'no catalog is loaded' } })),
        };
      }
      view.acquire();
      try {
        const results = await decideBatch(view, task);
        control.countServed(slot, task.jobs.length);
        return { type: 'decided', results };
      } finally {
        await view.releaseUse();
      }
    }
    default: {
      const never: never = task.type;
      throw new Error(`unknown task type ${String(never)}`);
    }
  }
}
