/**
 * The engine: owns every resource of a running txrank and the order they start and stop in.
 *
 *   start: open LMDB (read-write) -> seed/demo keys -> check the model -> start the inference pool
 *          -> listen (HTTP + WebSocket on one port) -> watch the catalog version
 *   close: stop listening -> refuse new requests -> drain in-flight (drainTimeoutMs) -> close sockets
 *          -> terminate the pool -> close LMDB.      close() is idempotent and memoised.
 *
 * The main thread does I/O, validation, transaction features and answer routing; the workers do scoring.
 */
import uWS from 'uWebSockets.js';
import { tuneHeapsForServing } from './pool/heap-tuning.js';
import { BroadcastChannel } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { TxrankError } from './errors/codes.js';
import type { Options } from './config/options.js';
import type { Placement } from './catalog/types.js';
import { openStorage, loadCatalogText, type Storage } from './catalog/store.js';
import { generateDemoCatalog } from './catalog/demo.js';
import { mintDevelopmentKeys } from './tenants/keys.js';
import { readModelDir } from './model/model-dir.js';
import { LearningLoop, type LearningEvent, type ServingModelRef } from './learning/loop.js';
import { EventStore } from './events/store.js';
import type { EngagementSink, ServingTenant } from './front/decision-socket.js';
import { InferencePool } from './pool/inference-pool.js';
import { ControlBlock, WORKER_STATE } from './pool/control-block.js';
import { CONTROL_CHANNEL, type ControlMessage } from './pool/messages.js';
import { workerPath } from './pool/worker-path.js';
import { loadCatalogInThread } from './catalog/load-in-thread.js';
import { Delivery } from './delivery/delivery.js';
import { CounterReader } from './reporting/layout.js';
import { ReportCounters } from './reporting/counters.js';
import { DecisionSocket, DECIDE_PATH } from './front/decision-socket.js';
import { attachRoutes, type Readiness } from './front/routes.js';
import { uwsIsNative } from './front/native-check.js';
import { activeAllocator, type ActiveAllocator } from './runtime/allocator.js';
import { Metrics } from './observability/metrics.js';
import { PROTOCOL_VERSION } from './protocol/messages.js';
import { FEATURE_SPEC_VERSION } from './features/spec.js';

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {} };

/** What the embedded default prints once at start: keys are only ever shown in plaintext here. */
export interface DevelopmentKeys {
  tenantKeys: Record<string, string>;
  adminKey: string;
}

interface CatalogState {
  version: number;
  offers: number;
  tenants: Map<string, ServingTenant>;
}

/** The package version, found from source (src/) and compiled (dist/src/) layouts alike. */
function packageVersion(): string {
  const require = createRequire(import.meta.url);
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = require(rel) as { name?: string; version?: string };
      if (pkg.name === 'txrank' && pkg.version) return pkg.version;
    } catch {
      // not this layout
    }
  }
  return 'unknown';
}

export class TxrankServer {
  private closing: Promise<void> | null = null;
  private draining = false;
  /** The malloc this process runs on, read once: it is fixed at exec (src/runtime/allocator.ts). */
  readonly allocator: ActiveAllocator = activeAllocator();
  private listenSocket: uWS.us_listen_socket | null = null;
  private catalog: CatalogState = { version: 0, offers: 0, tenants: new Map() };
  private pollTimer: NodeJS.Timeout | null = null;
  private readonly channel = new BroadcastChannel(CONTROL_CHANNEL);
  private readonly control: ControlBlock;
  private readonly pool: InferencePool;
  private readonly socket: DecisionSocket;
  private readonly metrics: Metrics;
  private readonly app: uWS.TemplatedApp;
  port = 0;
  developmentKeys: DevelopmentKeys | null = null;
  /** The model being served (the newest promoted; workers converge on it within one swap). */
  private serving: ServingModelRef;
  private learning: LearningLoop | null = null;

  get modelVersion(): string {
    return this.serving.version;
  }

  private constructor(
    readonly options: Options,
    private readonly storage: Storage,
    serving: ServingModelRef,
    registryDir: string | null,
    private readonly events: EventStore,
    private readonly delivery: Delivery,
    private readonly report: ReportCounters,
    private readonly log: Logger,
  ) {
    this.serving = serving;
    this.control = ControlBlock.create(options.poolSize);
    this.control.publishModelGeneration(serving.generation);
    this.metrics = new Metrics({
      queueDepth: () => this.pool.queued,
      inFlight: () => this.pool.inFlight,
      poolUtilization: () => this.pool.utilization,
      poolThreads: () => this.pool.threads,
      connections: () => this.socket.sockets.size,
      catalogVersion: () => this.catalog.version,
      catalogOffers: () => this.catalog.offers,
      modelVersion: () => this.modelVersion,
      modelGeneration: () => this.serving.generation,
      workersServing: () => this.workersServing(),
      events: () => this.events.counters(),
      delivery: () => this.delivery.stats(),
    });
    this.pool = new InferencePool(
      workerPath('inference'),
      {
        dataDir: options.dataDir,
        modelDir: serving.dir,
        modelGeneration: serving.generation,
        registryDir,
        control: this.control.buffer,
        poolSize: options.poolSize,
        campaigns: delivery.table.buffer,
      },
      options,
      (err) => log.warn(`inference worker error: ${err.message}`),
      (t) => {
        this.metrics.poolTaskSeconds.observe({ part: 'queue' }, t.queueMs / 1000);
        this.metrics.poolTaskSeconds.observe({ part: 'worker' }, t.workerMs / 1000);
        this.metrics.poolTaskSeconds.observe({ part: 'handoff' }, t.handoffMs / 1000);
        if (t.duringRebuild) this.metrics.poolTasksDuringRebuild.inc();
      },
    );
    this.socket = new DecisionSocket({
      options,
      pool: this.pool,
      metrics: this.metrics,
      authenticate: (key) => this.authenticate(key),
      tenant: (tenant) => this.catalog.tenants.get(tenant),
      delivery,
      draining: () => this.draining,
      engagement: this.engagementSink(),
    });
    this.app = uWS.App();
    this.socket.attach(this.app);
    attachRoutes(this.app, {
      health: () => ({ status: 'ok' }),
      readiness: () => this.readiness(),
      info: () => this.info(),
      metrics: () => this.metrics.render(),
      isAdmin: (key) => this.isAdmin(key),
      loadCatalog: (text) => this.loadCatalog(text),
      listCatalogs: () => this.storage.catalog.list(),
      tenantOf: (key) => this.authenticate(key),
      engagement: this.engagementSink(),
      report: { reader: CounterReader.of(storage.root), currencyOf: (t) => this.currencyOf(t) },
      models: registryDir === null ? undefined : {
        list: () => this.requireLearning().manager.list(),
        pin: (version) => this.requireLearning().manager.pin(version),
        unpin: () => this.requireLearning().manager.unpin(),
        rollback: (pin) => this.requireLearning().manager.rollback({ pin }),
      },
      learning: registryDir === null ? undefined : { status: () => this.requireLearning().trainer.status() },
    });
  }

  static async start(options: Options, log: Logger = silentLogger): Promise<TxrankServer> {
    if (!uwsIsNative() && !options.allowJsFallback) {
      throw new TxrankError(
        'internal',
        'uWebSockets.js loaded its slow pure-JavaScript fallback, not the native server (wrong Node version, or UWS_USE_FALLBACK set). ' +
          'Use Node 20 (ABI 115) on glibc linux-x64, or pass --allow-js-fallback to run anyway.',
      );
    }
    // Before any thread starts (catalog loader, trainer, model manager, inference workers): each isolate
    // reads V8's flags when it is created (src/pool/heap-tuning.ts).
    tuneHeapsForServing();
    const storage = openStorage(options.dataDir);
    // Delivery first: its spend ledger charges billable events inside the event log's transactions.
    const delivery = new Delivery(storage.root);
    // Report counters: events counted in the event transaction, decisions flushed every second. The
    // currency lookup reads whichever catalog the server serves at the time (set once it exists).
    let currencyOf: (tenant: string) => string | undefined = () => undefined;
    const report = new ReportCounters(storage.root, {}, {
      currencyOf: (t) => currencyOf(t),
      onFlushError: (err) => log.warn(`report counters: ${err instanceof Error ? err.message : String(err)}`),
    });
    // The event log's DBs are created here, read-write, before any thread opens them read-only.
    const events = new EventStore(storage.root, { clickWindowMs: options.clickWindowMs }, {
      onBackgroundError: (err, task) => log.warn(`event log ${task}: ${err instanceof Error ? err.message : String(err)}`),
      sinks: [...delivery.sinks, report],
    });
    let server: TxrankServer | null = null;
    let learning: LearningLoop | null = null;
    const pendingEvents: LearningEvent[] = [];
    try {
      let developmentKeys: DevelopmentKeys | null = null;
      if (options.demo) {
        if (storage.catalog.currentVersion() === null) {
          const loaded = await loadCatalogText(storage, generateDemoCatalog({}), 'demo');
          if (!loaded.ok) throw new TxrankError('internal', 'the demo catalog failed validation');
          log.info(`seeded the demo catalog as version ${loaded.version}`);
        }
        const current = storage.catalog.currentVersion();
        const tenants = current === null ? [] : (storage.catalog.readTenants(current) ?? []);
        developmentKeys = await mintDevelopmentKeys(storage.keys, tenants.map((t) => t.id));
      }
      let serving: ServingModelRef;
      if (options.learning) {
        // Events that arrive before the server exists are replayed once it does.
        learning = await LearningLoop.start(
          {
            dataDir: options.dataDir,
            seedModelDir: options.modelDir,
            manager: { nice: options.backgroundNice },
            trainer: {
              nice: options.backgroundNice,
              exportEveryExamples: options.exportEveryExamples,
              exportEverySeconds: options.exportEverySeconds,
              minExamplesPerExport: Math.min(1000, options.exportEveryExamples),
            },
          },
          (e) =>
          server ? server.onLearningEvent(e) : pendingEvents.push(e),
        );
        serving = learning.serving;
      } else {
        serving = { version: '', dir: options.modelDir, generation: 1 };
      }
      // Check the model here, on the main thread, so a bad model stops the start with one clear error
      // instead of a pool whose workers fail and are respawned forever.
      const model = await readModelDir(serving.dir);
      serving.version = model.manifest.version;
      server = new TxrankServer(options, storage, serving, learning?.registryDir ?? null, events, delivery, report, log);
      const started = server;
      currencyOf = (t) => started.currencyOf(t);
      events.start();
      delivery.start();
      server.learning = learning;
      server.developmentKeys = developmentKeys;
      for (const e of pendingEvents.splice(0)) server.onLearningEvent(e);
      server.refreshCatalog();
      await server.listen();
      server.pollTimer = setInterval(() => server?.refreshCatalog(), options.catalogPollMs);
      server.pollTimer.unref();
      return server;
    } catch (err) {
      if (server) await server.close();
      else {
        await learning?.close();
        await events.close();
        delivery.close();
        await report.close();
        await storage.close();
      }
      throw err;
    }
  }

  /** The front's view of the event log: decisions are logged with the policy that chose them. */
  private engagementSink(): EngagementSink {
    return {
      logDecision: (d) => {
        this.events.logDecision(d);
        this.report.recordDecision(d);
      },
      ingest: (evs) => this.events.ingest(evs),
    };
  }

  /** The currency of a tenant of the serving catalog. */
  currencyOf(tenant: string): string | undefined {
    return this.catalog.tenants.get(tenant)?.tenant.currency;
  }

  private requireLearning(): LearningLoop {
    if (!this.learning) throw new TxrankError('not_ready', 'the learning loop is off (--learning false)');
    return this.learning;
  }

  /** Model manager and trainer events: a promotion is published to the workers; the rest is logged. */
  private onLearningEvent(e: LearningEvent): void {
    switch (e.type) {
      case 'promoted': {
        if (e.generation <= this.serving.generation) return;
        this.serving = { version: e.version, dir: e.dir, generation: e.generation };
        // Shared memory first, then the message: a worker that reads the generation always finds the dir
        // through the message or the registry's announced model.
        this.control.publishModelGeneration(e.generation);
        const msg: ControlMessage = { type: 'model-changed', generation: e.generation, dir: e.dir };
        this.channel.postMessage(msg);
        this.log.info(`model ${e.version} promoted (generation ${e.generation}, ${e.cause}; was ${e.previous})`);
        break;
      }
      case 'rejected':
        this.log.warn(`model ${e.version} rejected at ${e.stage}: ${e.reason}`);
        break;
      case 'exported':
        this.log.info(`trainer exported candidate ${e.version} (parent ${e.parent})`);
        break;
      case 'error':
        this.log.warn(`learning loop: ${e.error.message}`);
        break;
      case 'ready':
      case 'stopped':
      case 'started':
      case 'idle':
      case 'reset':
        break;
      default: {
        const never: never = e;
        throw new Error(`unknown learning event ${JSON.stringify(never)}`);
      }
    }
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.app.listen(this.options.host, this.options.port, (token) => {
        if (!token) {
          reject(new TxrankError('internal', `cannot listen on ${this.options.host}:${this.options.port} (in use, or not an address of this machine)`));
          return;
        }
        this.listenSocket = token;
        this.port = uWS.us_socket_local_port(token as unknown as uWS.us_socket);
        resolve();
      });
    });
  }

  get url(): string {
    return `ws://${this.options.host}:${this.port}${DECIDE_PATH}`;
  }

  /** Resolves once every worker serves the current catalog (or rejects after `timeoutMs`). */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = this.readiness();
      if (r.ready) return;
      if (Date.now() > until) throw new TxrankError('not_ready', `not ready after ${timeoutMs} ms: ${r.reason}`);
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  private authenticate(key: string): string | null {
    const rec = this.storage.keys.verify(key);
    return rec && rec.role === 'tenant' && rec.tenant ? rec.tenant : null;
  }

  private isAdmin(key: string): boolean {
    if (!key) return false;
    if (this.options.adminKey && key === this.options.adminKey) return true;
    return this.storage.keys.verify(key)?.role === 'admin';
  }

  private async loadCatalog(text: string) {
    const result = await loadCatalogInThread(this.options.dataDir, text, 'admin');
    if (result.ok) this.refreshCatalog();
    return result;
  }

  /**
   * Adopts the catalog version current in LMDB, if it changed: the main thread's tenant map (for edge
   * checks), the published version in the control block, and a broadcast so idle workers build now.
   */
  refreshCatalog(): void {
    const version = this.storage.catalog.currentVersion();
    if (version === null || version === this.catalog.version) return;
    // Tenants and counts only: decoding the offers here would stall the event loop on large catalogs.
    const tenants = this.storage.catalog.readTenants(version);
    const info = this.storage.catalog.list().find((v) => v.version === version);
    if (!tenants || !info) return;
    // Campaigns before the version is published: the ledger's budgets and pacing's plan match what the
    // workers are about to serve.
    this.delivery.setCampaigns(this.storage.catalog.readDelivery(version)?.campaigns ?? []);
    this.catalog = {
      version,
      offers: info.offers,
      tenants: new Map(tenants.map((t) => [t.id, { tenant: t, placements: new Map(t.placements.map((p) => [p.id, p])) }])),
    };
    this.control.publishCatalog(version);
    const msg: ControlMessage = { type: 'catalog-changed', version };
    this.channel.postMessage(msg);
    this.log.info(`serving catalog version ${version} (${info.offers} offers, ${tenants.length} tenants)`);
  }

  private workersServing(): number {
    let n = 0;
    for (let i = 0; i < this.options.poolSize; i++) {
      const w = this.control.worker(i);
      if (w.state === WORKER_STATE.serving && w.catalogVersion === this.catalog.version && this.catalog.version > 0) n++;
    }
    return n;
  }

  private readiness(): Readiness & Record<string, unknown> {
    const workers = [];
    for (let i = 0; i < this.options.poolSize; i++) workers.push(this.control.worker(i));
    const serving = this.workersServing();
    let reason = 'ready';
    if (this.draining) reason = 'shutting down';
    else if (this.catalog.version === 0) reason = 'no catalog loaded';
    else if (serving < this.options.poolSize) reason = `${serving} of ${this.options.poolSize} workers serve catalog version ${this.catalog.version}`;
    return { ready: reason === 'ready', reason, catalogVersion: this.catalog.version, modelVersion: this.modelVersion, workers };
  }

  private info(): unknown {
    return {
      name: 'txrank',
      version: packageVersion(),
      protocolVersion: PROTOCOL_VERSION,
      featureSpecVersion: FEATURE_SPEC_VERSION,
      model: { version: this.modelVersion, generation: this.serving.generation, learning: this.learning !== null },
      catalog: { version: this.catalog.version, offers: this.catalog.offers, tenants: this.catalog.tenants.size },
      pool: {
        size: this.options.poolSize,
        threads: this.pool.threads,
        concurrentTasksPerWorker: this.options.concurrentTasksPerWorker,
        maxBatch: this.options.maxBatch,
        maxInFlight: this.options.maxInFlight,
        inFlight: this.pool.inFlight,
        queued: this.pool.queued,
        utilization: this.pool.utilization,
        // The slot of the worker building a new view (catalog or model swap) right now, or null.
        rebuilding: this.control.rebuildingSlot,
        workers: Array.from({ length: this.options.poolSize }, (_, i) => this.control.worker(i)),
      },
      connections: this.socket.sockets.size,
      uwsNative: uwsIsNative(),
      allocator: this.allocator,
    };
  }

  /** Graceful shutdown; idempotent (every call returns the same promise). */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.draining = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.listenSocket) {
      uWS.us_listen_socket_close(this.listenSocket);
      this.listenSocket = null;
    }
    // In-flight requests finish (or fail with shutting_down) before sockets close, so every request that
    // was accepted gets an answer.
    await this.pool.close(this.options.drainTimeoutMs);
    this.socket.closeAll();
    this.channel.close();
    // Every acknowledged event is committed before the environment closes.
    await this.events.close();
    // After the event log: its last group's charges and counts commit with their events.
    this.delivery.close();
    await this.report.close();
    await this.learning?.close();
    await this.storage.close();
  }
}
