/**
 * The main thread's delivery state, in one owner: the campaign table the workers read (spend, throttles,
 * counts), the spend ledger that charges billable events inside the event transaction, the pacing controller
 * on a timer, the frequency-cap history of buyer keys, and the per-request decisions of the edge (holdout
 * arm, request context). docs/DELIVERY.md describes the rules; workers/inference/tenant-delivery.ts applies
 * them in the workers.
 *
 * Lifecycle: created before the event log (its ledger is one of the log's sinks), closed after it (the last
 * group's charges commit with their events). close() is idempotent.
 */
import type { RootDatabase } from 'lmdb';
import type { Budget, Campaign, Placement, Tenant } from '../catalog/types.js';
import type { AcceptedEventSink, DecisionRecord } from '../events/types.js';
import type { DecideRequest } from '../protocol/messages.js';
import { CampaignTable, newSlotValues, type CampaignTableOptions } from './campaign-table.js';
import { FrequencyStore, type FrequencyStoreOptions } from './frequency.js';
import { assignArm } from './holdout.js';
import { PacingController, eligibleBudget, type PacingOptions } from './pacing.js';
import { buildRequestContext } from './request-context.js';
import { SpendLedger, type SpendLedgerOptions } from './spend-ledger.js';
import type { Arm, RequestContext, ServedEntry } from './types.js';

export interface DeliveryOptions {
  /** How often pacing throttles are recomputed from spend against plan, ms. Default 1000. */
  pacingIntervalMs?: number;
  table?: CampaignTableOptions;
  ledger?: SpendLedgerOptions;
  pacing?: PacingOptions;
  frequency?: FrequencyStoreOptions;
}

export const DELIVERY_DEFAULTS = { pacingIntervalMs: 1000 } as const;

function key(tenant: string, campaign: string): string {
  return `${tenant}\u0000${campaign}`;
}

export class Delivery {
  readonly table: CampaignTable;
  readonly ledger: SpendLedger;
  readonly frequency: FrequencyStore;
  readonly pacing: PacingController;
  #campaigns = new Map<string, Campaign>();
  #timer: NodeJS.Timeout | null = null;
  /** Decisions answered per arm (metrics). */
  readonly #arms: Record<Arm, number> = { ai: 0, rules: 0 };
  readonly #scratch = newSlotValues();
  #closed = false;
  readonly #pacingIntervalMs: number;

  constructor(root: RootDatabase, opts: DeliveryOptions = {}) {
    this.#pacingIntervalMs = opts.pacingIntervalMs ?? DELIVERY_DEFAULTS.pacingIntervalMs;
    if (!(Number.isInteger(this.#pacingIntervalMs) && this.#pacingIntervalMs >= 10)) {
      throw new TypeError('delivery option pacingIntervalMs must be an integer of at least 10 (ms)');
    }
    this.table = CampaignTable.create(opts.table);
    this.ledger = new SpendLedger(root, this.table, (tenant, campaign) => this.budgetOf(tenant, campaign), opts.ledger);
    this.frequency = new FrequencyStore(root, opts.frequency);
    this.pacing = new PacingController(this.table, opts.pacing);
  }

  /** The event log's sinks this owner provides (charged inside the event transaction). */
  get sinks(): AcceptedEventSink[] {
    return [this.ledger];
  }

  /** Adopts the campaigns of a new catalog version (budgets for the ledger's clamp, pacing's list). */
  setCampaigns(campaigns: readonly Campaign[]): void {
    const next = new Map<string, Campaign>();
    for (const c of campaigns) next.set(key(c.tenant, c.id), c);
    this.#campaigns = next;
    // Slots exist before the first worker looks them up, and pacing starts from the current state.
    for (const c of campaigns) this.table.slotOf(c.tenant, c.id);
    this.tickPacing();
  }

  budgetOf(tenant: string, campaign: string): Budget | undefined {
    return this.#campaigns.get(key(tenant, campaign))?.budget;
  }

  /** Starts the pacing timer (unref'd). Idempotent. */
  start(): void {
    if (this.#timer !== null || this.#closed) return;
    this.#timer = setInterval(() => this.tickPacing(), this.#pacingIntervalMs);
    this.#timer.unref();
  }

  tickPacing(now: number = Date.now()): number {
    return this.pacing.update(this.#campaigns.values(), now);
  }

  /** The edge's part of a decision: arm, eligibility context and the buyer's served history. Microseconds. */
  prepare(req: DecideRequest, tenant: Tenant, placement: Placement, now: number): { arm: Arm; ctx: RequestContext; history: readonly ServedEntry[] | null } {
    return {
      arm: assignArm(placement.holdout, tenant.id, placement.id, req.buyer, req.txn.id),
      ctx: buildRequestContext(req.txn, placement.id, tenant.currency, now),
      history: req.buyer === undefined ? null : this.frequency.history(tenant.id, req.buyer),
    };
  }

  /** After a decision is answered: what it showed counts against the buyer's frequency caps. */
  served(rec: DecisionRecord): void {
    if (rec.policy === 'ai' || rec.policy === 'rules') this.#arms[rec.policy]++;
    if (rec.buyer === undefined || rec.shown.length === 0 || this.#closed) return;
    const entries: ServedEntry[] = [];
    for (const s of rec.shown) {
      if (s.billing) entries.push({ offerId: s.offerId, campaign: s.billing.campaign, advertiser: s.billing.advertiser, ts: rec.decidedAt });
    }
    if (entries.length > 0) this.frequency.recordServed(rec.tenant, rec.buyer, entries);
  }

  /** For metrics, at scrape time: decisions per arm, and campaigns by delivery state (one table read each). */
  stats(now: number = Date.now()): { arms: Readonly<Record<Arm, number>>; campaigns: number; exhausted: number; paced: number } {
    let exhausted = 0;
    let paced = 0;
    for (const c of this.#campaigns.values()) {
      const slot = this.table.find(c.tenant, c.id);
      if (slot < 0) continue;
      const v = this.table.read(slot, this.#scratch);
      if (!eligibleBudget(c, v, now)) exhausted++;
      else if (v.throttle < 1) paced++;
    }
    return { arms: this.#arms, campaigns: this.#campaigns.size, exhausted, paced };
  }

  /** Stops the timers and closes the ledger and the frequency store. Call after the event log is closed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.ledger.close();
    this.frequency.close();
  }
}
