/**
 * Runs one batch of decisions against one catalog view: group by tenant, one scorer call per group (the
 * transaction tower and the offer interaction for every offer of the tenant, in one ONNX Runtime run), then
 * top-k and encode per request. Every job gets exactly one result, whatever happens to the others.
 */
import { randomUUID } from 'node:crypto';
import { toWireError } from '../../src/errors/codes.js';
import { TXN_DIM } from '../../src/features/spec.js';
import type { DecideJob, JobResult, ShownOffer, WorkerTask } from '../../src/pool/messages.js';
import { encodeMessage } from '../../src/protocol/codec.js';
import { LIMITS, PROTOCOL_VERSION, type DecisionAnswer, type RankedOffer } from '../../src/protocol/messages.js';
import { Selector, selectedBuffer } from '../../src/delivery/select.js';
import { nowMs } from '../../src/observability/clock.js';
import type { CatalogView, TenantView } from './catalog-view.js';

// Selection scratch: reused across jobs; safe because a job's selection runs synchronously start to finish.
const selector = new Selector();
const picked = selectedBuffer(LIMITS.maxK);

export async function decideBatch(view: CatalogView, task: WorkerTask): Promise<JobResult[]> {
  const results: JobResult[] = [];
  const groups = new Map<string, DecideJob[]>();
  const start = nowMs();
  for (const job of task.jobs) {
    if (start > job.deadline) {
      results.push(failure(job, 'deadline_exceeded', `not started within its deadline (${Math.round(job.deadline - job.receivedAt)} ms)`));
      continue;
    }
    const group = groups.get(job.tenant);
    if (group) group.push(job);
    else groups.set(job.tenant, [job]);
  }
  for (const [tenantId, jobs] of groups) {
    const tenant = view.tenants.get(tenantId);
    if (!tenant) {
      // The main thread checked the tenant against its catalog; this worker may serve a newer one already.
      for (const job of jobs) results.push(failure(job, 'unknown_tenant', `tenant ${tenantId} is not in catalog version ${view.catalogVersion}`));
      continue;
    }
    try {
      await decideGroup(view, tenant, jobs, task.features, results);
    } catch (err) {
      const e = toWireError(err);
      for (const job of jobs) if (!results.some((r) => r.seq === job.seq)) results.push({ seq: job.seq, ok: false, error: e });
    }
  }
  return results;
}

async function decideGroup(view: CatalogView, tv: TenantView, jobs: DecideJob[], features: Float32Array, results: JobResult[]): Promise<void> {
  const b = jobs.length;
  // A fresh matrix per group: the scorer's run is deferred (setImmediate), so a shared buffer could be
  // rewritten by an interleaved task before ONNX Runtime reads it.
  const txn = new Float32Array(b * TXN_DIM);
  for (let r = 0; r < b; r++) txn.set(features.subarray(jobs[r].row * TXN_DIM, (jobs[r].row + 1) * TXN_DIM), r * TXN_DIM);
  const n = tv.scorer.n;
  // The rules arm is scored too: its answers log the model's p, so the holdout's traffic stays usable for
  // training and off-policy evaluation.
  const ev = n > 0 ? (await tv.scorer.score(txn, b, false)).ev : new Float32Array(0);
  // From here to the end of the loop nothing awaits: the delivery scratch and the selector are this
  // worker's, used by one request at a time.
  const d = tv.delivery;
  if (n > 0) d.refresh(jobs[0].ctx.now);
  for (let r = 0; r < b; r++) {
    const job = jobs[r];
    const placement = tv.placements.get(job.placement);
    let found = 0;
    if (n > 0 && placement) {
      const mask = d.eligibleRows(job.ctx, job.history, Math.random);
      const rules = job.arm === 'rules';
      // The rules baseline: offers of the categories its rules map the basket to, by highest bid; with no
      // rule firing, the highest bids among all eligible offers.
      if (rules) d.restrictToRules(job.ctx.basketDepartments, mask);
      found = selector.select(
        {
          ev: rules ? d.rulesEv : ev,
          offset: rules ? 0 : r * n,
          n,
          mult: rules ? null : d.mult,
          bidScale: tv.bidScale,
          bidAmount: d.bidAmount,
          eligible: mask,
          advertiserOf: d.index.advertiserOf,
          departmentOf: d.index.departmentOf,
          advertiserCount: d.index.advertisers.length,
          placement: rules ? (d.rulesPlacements.get(placement.id) ?? placement) : placement,
          k: job.k,
          random: Math.random,
        },
        picked,
      );
    }
    const offers: RankedOffer[] = new Array(found);
    const shown: ShownOffer[] = new Array(found);
    for (let j = 0; j < found; j++) {
      const s = picked[j];
      const i = s.row;
      const o = tv.offers[i];
      // The model's p and ev on both arms (ev = p x bidScale in the graph; bidScale > 0 for every offer). The
      // value that ranked the offer (boosted, or the rules arm's bid value) stays inside the exchange.
      const modelEv = ev[r * n + i];
      const p = modelEv / tv.bidScale[i];
      const price = roundPrice(s.price);
      offers[j] = {
        offer_id: o.id,
        campaign_id: o.campaign,
        advertiser_id: o.advertiser,
        p,
        ev: modelEv,
        position: j + 1,
        bid_type: o.bid.type,
        price,
        propensity: s.propensity,
        creative: o.creative,
      };
      shown[j] = {
        offerId: o.id,
        position: j + 1,
        p,
        propensity: s.propensity,
        billing: { campaign: o.campaign, advertiser: o.advertiser, bidType: o.bid.type, price },
      };
    }
    const answer: DecisionAnswer = {
      v: PROTOCOL_VERSION,
      type: 'decision',
      id: job.requestId,
      decision_id: randomUUID(),
      offers,
      policy: job.arm,
      model_version: view.modelVersion,
      catalog_version: view.catalogVersion,
      server_us: 0,
    };
    answer.server_us = Math.round((nowMs() - job.receivedAt) * 1000);
    results.push({
      seq: job.seq,
      ok: true,
      frame: encodeMessage(answer),
      decisionId: answer.decision_id,
      modelVersion: view.modelVersion,
      catalogVersion: view.catalogVersion,
      arm: job.arm,
      shown,
    });
  }
}

/** Prices are money: rounded to a millionth of the currency unit, so the answer, the log and the ledger agree. */
function roundPrice(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function failure(job: DecideJob, code: 'deadline_exceeded' | 'unknown_tenant', message: string): JobResult {
  return { seq: job.seq, ok: false, error: { code, message } };
}
