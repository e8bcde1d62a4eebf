/**
 * Prometheus metrics: what an SRE needs to size the pool and see trouble. One registry per server (not
 * prom-client's global), so that several servers in one process (tests) do not mix their numbers.
 *
 * Everything here is updated on the main thread only; worker-side facts are read from the shared control
 * block at scrape time (collect callbacks), so the hot path pays one histogram observe and one counter add.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ERROR_CODE_LIST } from '../errors/codes.js';
import type { EventCountersSnapshot } from '../events/counters.js';

export interface MetricsSources {
  queueDepth: () => number;
  inFlight: () => number;
  poolUtilization: () => number;
  poolThreads: () => number;
  connections: () => number;
  catalogVersion: () => number;
  catalogOffers: () => number;
  modelVersion: () => string;
  modelGeneration: () => number;
  workersServing: () => number;
  events: () => EventCountersSnapshot & { pendingEvents: number };
  delivery: () => { arms: Readonly<Record<'ai' | 'rules', number>>; campaigns: number; exhausted: number; paced: number };
}

export class Metrics {
  readonly registry = new Registry();
  readonly decisionSeconds: Histogram<'outcome'>;
  readonly poolTaskSeconds: Histogram<'part'>;
  readonly answers: Counter<'code'>;
  readonly poolTasksDuringRebuild: Counter;

  constructor(src: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'txrank_process_' });
    this.decisionSeconds = new Histogram({
      name: 'txrank_decision_seconds',
      help: 'Server-side time from frame arrival to answer sent, seconds',
      labelNames: ['outcome'],
      // Decisions take ~0.1-1 ms when healthy; fine buckets there, coarse up to the 200 ms industry bar.
      buckets: [0.00005, 0.0001, 0.0002, 0.0003, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
      registers,
    });
    this.poolTaskSeconds = new Histogram({
      name: 'txrank_pool_task_seconds',
      help: 'Per pool task (a batch of decisions), seconds: part="queue" waited in the admission queue (oldest request), "worker" spent in the worker, "handoff" the rest of the round trip to the worker and back',
      labelNames: ['part'],
      buckets: [0.00002, 0.00005, 0.0001, 0.0002, 0.0003, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1],
      registers,
    });
    this.poolTasksDuringRebuild = new Counter({
      name: 'txrank_pool_tasks_during_rebuild_total',
      help: 'Pool tasks that reached a worker while it rebuilt its view (model swap or catalog load) after asking for none: each may have waited behind a synchronous build step. Stays near 0 with 2+ workers',
      registers,
    });
    this.answers = new Counter({
      name: 'txrank_answers_total',
      help: 'Answers sent, by code ("ok" for a decision, else the error code)',
      labelNames: ['code'],
      registers,
    });
    for (const code of ['ok', ...ERROR_CODE_LIST]) this.answers.inc({ code }, 0);
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, registers, collect() { this.set(read()); } });
    gauge('txrank_queue_depth', 'Requests waiting for a worker (admission queue)', src.queueDepth);
    gauge('txrank_in_flight', 'Requests accepted and not yet answered', src.inFlight);
    gauge('txrank_pool_utilization', 'Inference pool utilisation, 0..1 (piscina)', src.poolUtilization);
    gauge('txrank_pool_threads', 'Inference worker threads running', src.poolThreads);
    gauge('txrank_pool_workers_serving', 'Workers serving the current catalog', src.workersServing);
    gauge('txrank_connections', 'Open WebSocket connections', src.connections);
    gauge('txrank_catalog_version', 'Catalog version current in LMDB', src.catalogVersion);
    gauge('txrank_catalog_offers', 'Offers in the current catalog', src.catalogOffers);
    gauge('txrank_model_generation', 'Generation of the serving model (+1 at every promotion, pin or rollback)', src.modelGeneration);
    // Event-log counters live in the EventStore; they are read at scrape time, never pushed per event.
    const counter = (name: string, help: string, read: () => number) =>
      new Counter({ name, help, registers, collect() { this.reset(); this.inc(read()); } });
    counter('txrank_decisions_logged_total', 'Decisions written to the decision log', () => src.events().decisionsLogged);
    counter('txrank_decisions_lost_total', 'Decisions whose log write failed', () => src.events().decisionsLost);
    counter('txrank_events_accepted_total', 'Engagement events acknowledged as accepted (durable)', () => src.events().eventsAccepted);
    counter('txrank_events_duplicate_total', 'Engagement events acknowledged as duplicates (not counted again)', () => src.events().eventsDuplicate);
    counter('txrank_events_rejected_total', 'Engagement events refused (any error code)', () => Object.values(src.events().eventsRejected).reduce((a, b) => a + b, 0));
    counter('txrank_examples_emitted_total', 'Labelled examples written for the trainer', () => src.events().examplesEmitted);
    counter('txrank_examples_positive_total', 'Labelled examples with a click', () => src.events().examplesPositive);
    gauge('txrank_events_pending', 'Events accepted for ingest and not yet acknowledged', () => src.events().pendingEvents);
    // Delivery: read from its owner at scrape time, like the event counters.
    new Counter({
      name: 'txrank_decisions_by_arm_total',
      help: 'Decisions answered, by arm: ai (the model) or rules (the holdout baseline)',
      labelNames: ['arm'],
      registers,
      collect() {
        this.reset();
        const { arms } = src.delivery();
        this.inc({ arm: 'ai' }, arms.ai);
        this.inc({ arm: 'rules' }, arms.rules);
      },
    });
    new Gauge({
      name: 'txrank_campaigns',
      help: 'Campaigns of the serving catalog by delivery state: serving, paced (throttle below 1), exhausted (budget spent)',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        const d = src.delivery();
        this.set({ state: 'exhausted' }, d.exhausted);
        this.set({ state: 'paced' }, d.paced);
        this.set({ state: 'serving' }, d.campaigns - d.exhausted - d.paced);
      },
    });
    new Gauge({
      name: 'txrank_model_info',
      help: 'The model version being served (value 1, version in the label)',
      labelNames: ['version'],
      registers,
      collect() {
        this.reset();
        this.set({ version: src.modelVersion() }, 1);
      },
    });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
