/**
 * The inference worker: a piscina worker thread that keeps, for its whole life, a read-only view of the LMDB
 * environment, the serving model and the serving view of the current catalog, and answers batches of
 * decisions.
 *
 * Start-up runs at module top level: piscina awaits the module before it reports the worker ready, so a
 * worker never receives a task before its model is loaded. A model that fails to load fails the worker.
 *
 * What a worker serves is a pair (model generation, catalog version). Changes reach it two ways, on purpose:
 *   - a ControlMessage on the BroadcastChannel (catalog-changed, model-changed), so an idle worker builds the
 *     new view before traffic needs it (the pool runs with atomics 'async', which leaves an idle worker's
 *     event loop free to hear it);
 *   - the published catalog version in the shared control block, compared at the start of every task, so a
 *     missed message delays a catalog swap by at most one task.
 * A new view is built beside the current one; tasks keep using the old view until the new one is complete,
 * then new tasks take the new one and the old one is released when its last task ends. Only one worker
 * rebuilds at a time (the control block's rebuild token), so the others keep full speed during a swap. The
 * last good model is never unloaded: a failed load or build leaves the current view serving.
 *
 * Most of a build is synchronous (ONNX Runtime creates sessions and runs the offer tower on this thread), so a
 * task that arrived during it would wait for all of it. The token holder therefore first asks the pool for no
 * new tasks (ControlBlock.steerAway; src/pool/rebuild-balancer.ts honours it), lets the tasks it already holds
 * finish, and only then builds. Other workers serve meanwhile; in a pool of one, nothing can.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BroadcastChannel, threadId, workerData } from 'node:worker_threads';
import { openStorage } from '../../src/catalog/store.js';
import type { CatalogSnapshot } from '../../src/catalog/types.js';
import { toWireError } from '../../src/errors/codes.js';
import { readModelDir, type LoadedModel } from '../../src/model/model-dir.js';
import { readAnnounced } from '../../src/registry/registry.js';
import { ControlBlock, WORKER_STATE } from '../../src/pool/control-block.js';
import { threadHeap } from '../../src/runtime/thread-heap.js';
import {
  CONTROL_CHANNEL,
  type ControlMessage,
  type InferenceWorkerData,
  type WorkerTask,
  type WorkerTaskResult,
} from '../../src/pool/messages.js';
import { CampaignTable } from '../../src/delivery/campaign-table.js';
import { CatalogView } from './catalog-view.js';
import { canCollect, collectFull, collectYoung } from '../../src/runtime/collect.js';
import { decideBatch } from './decide.js';

/** How long a worker waits for the rebuild token before building anyway (a holder may have died). */
const REBUILD_TOKEN_WAIT_MS = 1000;
/** Longest a steered worker waits for its running tasks before building anyway (a task takes ~1 ms). */
const DRAIN_WAIT_MS = 50;
/**
 * One full GC every this many view swaps, run while the worker still holds the rebuild token and is steered
 * away from traffic. Why: the heap tuning (src/pool/heap-tuning.ts) leaves a worker so much room that it went
 * thousands of swaps without a full GC, and P99 rose after 1,500-2,000 swaps; with a full GC every 50 it rose
 * far less (bench/RESULTS.md session 7). It costs one full GC of this worker's heap (~26 MB live) per 50
 * swaps, at a moment when no task waits for it (in a pool of one, nothing can be steered, and the tasks that
 * arrive meanwhile wait).
 */
const FULL_GC_EVERY_SWAPS = 50;
/** The heap figure in the control block is refreshed after every view build and every this many tasks
 * (v8.getHeapStatistics takes 0.3 µs here; a task 250-550 µs). */
const HEAP_REPORT_EVERY_TASKS = 4096;

const data = workerData as InferenceWorkerData;
const control = new ControlBlock(data.control, data.poolSize);
const slot = control.claimSlot();
control.setWorker(slot, WORKER_STATE.starting, 0, 0);
// Start-up opens LMDB, creates ONNX sessions and builds the first view: a pool closing meanwhile waits for
// it (ControlBlock.enterNative explains why a terminate must not land inside ONNX Runtime).
control.enterNative(false);

const storage = openStorage(data.dataDir, { readOnly: true });
// Spend, pacing and delivery counts, written by the main thread (src/delivery/campaign-table.ts).
const campaignTable = CampaignTable.attach(data.campaigns);
// A worker piscina starts later (replacing a dead one) still carries the start-time model in workerData;
// the registry's announced model (only ever one that passed the manager's checks) is newer then.
const announced = data.registryDir === null ? null : await readAnnounced(data.registryDir).catch(() => null);
const initial = announced && announced.generation > data.modelGeneration ? announced : { dir: data.modelDir, generation: data.modelGeneration };
let model: LoadedModel;
try {
  model = await readModelDir(initial.dir);
} catch (err) {
  control.setWorker(slot, WORKER_STATE.failed, 0, 0);
  control.leaveNative();
  throw err;
}
let modelGeneration = initial.generation;
/** The newest model announced; differs from modelGeneration while a swap is pending. */
let wanted = { generation: initial.generation, dir: initial.dir };
/** A generation whose model failed to load here: not retried on every task (the old one keeps serving). */
let failedGeneration = 0;

// Assigned only by build(); the casts stop TypeScript narrowing them to null at module level.
let current = null as CatalogView | null;
let snapshot = null as CatalogSnapshot | null;
let building: Promise<void> | null = null;
/** Tasks running on a view (between acquire and release): a steered build waits for them to end. */
let active = 0;
/** Views replaced so far (each one a swap): every FULL_GC_EVERY_SWAPS-th is followed by a full GC. */
let swaps = 0;
/** Decide tasks served, for HEAP_REPORT_EVERY_TASKS. */
let tasks = 0;
/** True while a build does its work (after a steered build's drain): a task that starts then waited behind a
 * build step, and is reported as such (WorkerTaskResult.duringRebuild). */
let rebuilding = false;

/** Brings the view up to (wanted model, current catalog), unless a build is already under way. */
function refresh(): Promise<void> {
  if (building) return building;
  // Cleared in the outer continuation, not inside build(): a build that returns before its first await would
  // otherwise clear `building` before it is even assigned, and leave it set forever.
  building = build().then(
    () => {
      building = null;
      // Something changed while this build ran (its message found the build busy): catch up now rather than
      // at the next task, so an idle worker becomes ready too.
      if (stale()) return refresh();
    },
    (err: unknown) => {
      building = null;
      throw err;
    },
  );
  return building;
}

function stale(): boolean {
  const version = storage.catalog.currentVersion();
  return modelPending() || (version !== null && version !== current?.catalogVersion);
}

function modelPending(): boolean {
  return wanted.generation !== modelGeneration && wanted.generation !== failedGeneration;
}

async function build(): Promise<void> {
  const version = storage.catalog.currentVersion();
  const target = wanted;
  const modelChanges = modelPending();
  const catalogChanges = version !== null && version !== current?.catalogVersion;
  if (!modelChanges && !catalogChanges) return;
  const holder = await takeRebuildToken();
  // With the token, and another worker to serve meanwhile: ask for no new tasks while building.
  const steer = holder && data.poolSize > 1;
  if (steer) control.steerAway(threadId);
  // A closing pool gets no new build: the one it would wait for serves no one.
  const entered = control.enterNative(true);
  try {
    if (!entered) return;
    const [nextModel] = await Promise.all([modelChanges ? readModelDir(target.dir) : model, steer ? drainTasks() : undefined]);
    rebuilding = true;
    let nextSnapshot = snapshot;
    if (catalogChanges) {
      nextSnapshot = storage.catalog.read(version);
      if (!nextSnapshot) return; // retired between the two reads; the catch-up refresh finds the newer one
    }
    if (!nextSnapshot) {
      // No catalog yet: adopt the model alone.
      model = nextModel;
      modelGeneration = target.generation;
      return;
    }
    // A model-only swap keeps the catalog side of the current view (CatalogView.withModel).
    const view = current && !catalogChanges ? await CatalogView.withModel(current, nextModel) : await CatalogView.build(nextSnapshot, nextModel, campaignTable);
    const old = current;
    current = view;
    snapshot = nextSnapshot;
    model = nextModel;
    modelGeneration = target.generation;
    control.setWorker(slot, WORKER_STATE.serving, view.catalogVersion, modelGeneration);
    await old?.retire();
    // Still holding the token, and steered away when the pool has another worker, so no task waits for these
    // collections (src/runtime/collect.ts explains the scavenge after every build).
    if (old && ++swaps % FULL_GC_EVERY_SWAPS === 0 && canCollect) {
      collectFull();
      control.countCollection(slot);
    } else {
      collectYoung();
    }
    reportHeap();
  } catch (err) {
    if (modelChanges) failedGeneration = target.generation;
    throw err;
  } finally {
    if (entered) control.leaveNative();
    rebuilding = false;
    if (steer) control.endSteer(threadId);
    control.releaseRebuildToken(slot);
  }
}

/** Publishes this worker's V8 heap in its control-block slot (read by /readyz and /v1/info). */
function reportHeap(): void {
  control.setHeap(slot, threadHeap());
}

/** True with the token; false when the wait ran out (the holder may have died) and this worker builds anyway. */
async function takeRebuildToken(): Promise<boolean> {
  const until = Date.now() + REBUILD_TOKEN_WAIT_MS;
  for (;;) {
    if (control.tryTakeRebuildToken(slot)) return true;
    if (Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * Waits until no task runs on this worker, after two full event-loop turns: a task the pool posted just before
 * it read the steer is delivered in them and counted in `active`. Bounded, so a stuck task cannot hold a swap.
 */
async function drainTasks(): Promise<void> {
  const until = performance.now() + DRAIN_WAIT_MS;
  await nextTurn();
  do await nextTurn();
  while (active > 0 && performance.now() < until);
}

const channel = new BroadcastChannel(CONTROL_CHANNEL);
channel.unref();
channel.onmessage = (event: unknown) => {
  const msg = (event as { data: ControlMessage }).data;
  switch (msg.type) {
    case 'catalog-changed':
      if (msg.version !== current?.catalogVersion) refresh().catch(reportBuildFailure);
      break;
    case 'model-changed':
      if (msg.generation > wanted.generation) {
        wanted = { generation: msg.generation, dir: msg.dir };
        refresh().catch(reportBuildFailure);
      }
      break;
    default: {
      const never: never = msg;
      throw new Error(`unknown control message ${JSON.stringify(never)}`);
    }
  }
};

function reportBuildFailure(err: unknown): void {
  // The current view keeps serving; the failure shows in /v1/info as a worker whose versions did not move.
  process.emitWarning(`inference worker ${slot}: view build failed: ${toWireError(err).message}`);
}

await refresh().catch(reportBuildFailure);
control.setWorker(slot, WORKER_STATE.serving, current?.catalogVersion ?? 0, modelGeneration);
reportHeap();
control.leaveNative();

export default async function handle(task: WorkerTask): Promise<WorkerTaskResult> {
  // A task runs ONNX Runtime; a pool whose drain timed out still waits for it before terminating.
  control.enterNative(false);
  try {
    return await run(task);
  } finally {
    control.leaveNative();
  }
}

async function run(task: WorkerTask): Promise<WorkerTaskResult> {
  switch (task.type) {
    case 'decide': {
      const started = performance.now();
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
          workerUs: Math.round((performance.now() - started) * 1000),
          duringRebuild: false,
        };
      }
      const duringRebuild = rebuilding;
      view.acquire();
      active++;
      try {
        const results = await decideBatch(view, task);
        control.countServed(slot, task.jobs.length);
        if (++tasks % HEAP_REPORT_EVERY_TASKS === 0) reportHeap();
        return { type: 'decided', results, workerUs: Math.round((performance.now() - started) * 1000), duringRebuild };
      } finally {
        active--;
        await view.releaseUse();
      }
    }
    default: {
      const never: never = task.type;
      throw new Error(`unknown task type ${String(never)}`);
    }
  }
}
