/**
 * Off-policy evaluation from the logged propensities: what the click-through rate of slot 1 would have been
 * had the placement never explored (the greedy policy), estimated from the traffic that did explore.
 *
 * Every decision logs, per shown offer, the exact probability with which the serving policy put it in its
 * slot (src/delivery/select.ts). For slot 1 that probability is unconditional. The greedy policy shows the
 * logged slot-1 offer exactly when the logged choice was the greedy one, and with epsilon-greedy that is
 * told by the propensity alone: the greedy pick has propensity (1 - eps) + eps/|P| > 0.5, an explored pick
 * eps/|P| <= 0.25 (the catalog bounds eps at 0.5 and |P| >= 2 when a pick is explored).
 *
 * Estimators over the decisions whose slot-1 offer was seen (an impression event), with w_i = 1[greedy_i] /
 * pi_i and reward r_i = 1 when that offer was clicked:
 *   IPS    sum(w r) / N
 *   SNIPS  sum(w r) / sum(w)     (self-normalised: lower variance, the one to read)
 * with a delta-method 95% interval for SNIPS, var = sum(w^2 (r - V)^2) / sum(w)^2, and the effective sample
 * size (sum w)^2 / sum(w^2). On a placement that does not explore every w is 1 and both equal the logged CTR.
 *
 * The source is the decision log and its events (src/events), read directly from LMDB: run it from the CLI
 * (read-only environment) beside a live server. Decisions past retention are gone, so the window is bounded
 * by the event log's retention.
 */
import type { RootDatabase } from 'lmdb';
import { decodeDecision } from '../events/decision-codec.js';
import { FLAG, SEEN, engagementFlags } from '../events/engagement.js';
import { openEventDbs, storedEventKinds } from '../events/layout.js';
import { Z95 } from './lift.js';

export interface OpeQuery {
  tenant?: string;
  placement?: string;
  /** Decision time range, ms since the epoch, [from, to). Default: everything retained. */
  fromMs?: number;
  toMs?: number;
}

export interface OpeRow {
  tenant: string;
  placement: string;
  arm: string;
  /** Decisions whose slot-1 offer had an impression: the sample. */
  decisions: number;
  /** Of those, how many had an explored (non-greedy) slot 1. */
  explored: number;
  /** Observed slot-1 CTR of the policy that served (explorations included). */
  loggedCtr: number | null;
  /** Estimated slot-1 CTR of the greedy policy (no exploration). */
  greedyIps: number | null;
  greedySnips: number | null;
  greedySnipsCi95: [number, number] | null;
  effectiveSampleSize: number;
}

interface Acc {
  n: number;
  explored: number;
  clicks: number;
  sw: number;
  sw2: number;
  swr: number;
  /** Kept for the variance: per greedy decision, its weight and reward. */
  w: number[];
  r: number[];
}

/** A logged slot-1 pick is the greedy one: see the header for why the propensity alone tells. */
export function isGreedyPick(propensity: number): boolean {
  return propensity > 0.5;
}

export function offPolicyEstimate(root: RootDatabase, q: OpeQuery = {}): OpeRow[] {
  const dbs = openEventDbs(root);
  const groups = new Map<string, { tenant: string; placement: string; arm: string; acc: Acc }>();
  const start: [number, string] = [q.fromMs ?? 0, ''];
  for (const [decidedAt, decisionId] of dbs.decisionTimes.getKeys({ start })) {
    if (q.toMs !== undefined && decidedAt >= q.toMs) break;
    const b = dbs.decisions.getBinaryFast(decisionId);
    if (b === undefined) continue;
    const d = decodeDecision(b, b.length);
    if (d.shown.length === 0) continue;
    if (q.tenant !== undefined && d.tenant !== q.tenant) continue;
    if (q.placement !== undefined && d.placement !== q.placement) continue;
    const first = d.shown.find((s) => s.position === 1) ?? d.shown[0];
    // Seen as the labeler counts it: a click or a dismiss implies an impression (beacons get lost).
    const [flags] = engagementFlags([first.offerId], storedEventKinds(dbs, decidedAt, decisionId));
    if ((flags & SEEN) === 0) continue;
    const clicked = (flags & FLAG.click) !== 0;
    const id = `${d.tenant}\u0000${d.placement}\u0000${d.policy}`;
    let g = groups.get(id);
    if (g === undefined) {
      g = { tenant: d.tenant, placement: d.placement, arm: d.policy, acc: { n: 0, explored: 0, clicks: 0, sw: 0, sw2: 0, swr: 0, w: [], r: [] } };
      groups.set(id, g);
    }
    const a = g.acc;
    const r = clicked ? 1 : 0;
    a.n++;
    a.clicks += r;
    if (!isGreedyPick(first.propensity)) {
      a.explored++;
      continue;
    }
    const w = 1 / first.propensity;
    a.sw += w;
    a.sw2 += w * w;
    a.swr += w * r;
    a.w.push(w);
    a.r.push(r);
  }
  const rows: OpeRow[] = [];
  for (const { tenant, placement, arm, acc: a } of groups.values()) {
    const snips = a.sw > 0 ? a.swr / a.sw : null;
    let ci: [number, number] | null = null;
    if (snips !== null) {
      let v = 0;
      for (let i = 0; i < a.w.length; i++) v += a.w[i] * a.w[i] * (a.r[i] - snips) ** 2;
      const se = Math.sqrt(v) / a.sw;
      ci = [Math.max(0, snips - Z95 * se), Math.min(1, snips + Z95 * se)];
    }
    rows.push({
      tenant,
      placement,
      arm,
      decisions: a.n,
      explored: a.explored,
      loggedCtr: a.n > 0 ? a.clicks / a.n : null,
      greedyIps: a.n > 0 ? a.swr / a.n : null,
      greedySnips: snips,
      greedySnipsCi95: ci,
      effectiveSampleSize: a.sw2 > 0 ? (a.sw * a.sw) / a.sw2 : 0,
    });
  }
  rows.sort((x, y) => (x.tenant < y.tenant ? -1 : x.tenant > y.tenant ? 1 : x.placement < y.placement ? -1 : x.placement > y.placement ? 1 : x.arm < y.arm ? -1 : x.arm > y.arm ? 1 : 0));
  return rows;
}

/** A fixed-width table of the rows. */
export function renderOpe(rows: readonly OpeRow[]): string {
  const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(2)}%`);
  const head = ['tenant', 'placement', 'arm', 'decisions', 'explored', 'logged CTR', 'greedy CTR (SNIPS)', '95% CI', 'IPS', 'ESS'];
  const body = rows.map((r) => [
    r.tenant,
    r.placement,
    r.arm,
    r.decisions.toLocaleString('en-US'),
    r.explored.toLocaleString('en-US'),
    pct(r.loggedCtr),
    pct(r.greedySnips),
    r.greedySnipsCi95 === null ? '-' : `[${pct(r.greedySnipsCi95[0])}, ${pct(r.greedySnipsCi95[1])}]`,
    pct(r.greedyIps),
    Math.round(r.effectiveSampleSize).toLocaleString('en-US'),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    'slot-1 click-through: what served (logged) and what never exploring would have given (greedy, off-policy)',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ].join('\n');
}
