/**
 * The spend ledger on a real LMDB environment: charges inside the event log's kind of write transaction
 * (an lmdb-js childTransaction), the clamp at total and daily budgets, UTC day rollover, exactly-once
 * (an aborted group leaves nothing), two ledgers on one data dir (as two processes would be), durability
 * across close and reopen.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../src/catalog/store.js';
import type { BidType, Budget } from '../src/catalog/types.js';
import { CampaignTable, newSlotValues, utcDay } from '../src/delivery/campaign-table.js';
import { eligibleBudget } from '../src/delivery/pacing.js';
import { SpendLedger, type BudgetLookup } from '../src/delivery/spend-ledger.js';
import type { DecisionHead, EngagementEvent, EventKind } from '../src/events/types.js';

const DAY = 86_400_000;
const T0 = 20_000 * DAY + 10 * 3_600_000; // 10:00 UTC on some day

let dir: string;
let storage: Storage;
let clock: number;
let budgets: Map<string, Budget>;
const lookup: BudgetLookup = (tenant, campaign) => budgets.get(`${tenant}/${campaign}`);
const open: SpendLedger[] = [];

function ledger(table: CampaignTable, on: Storage = storage): SpendLedger {
  const l = new SpendLedger(on.root, table, lookup, { refreshIntervalMs: 0, now: () => clock });
  open.push(l);
  return l;
}

function head(campaign: string, bidType: BidType, price: number, tenant = 't1'): DecisionHead {
  return {
    tenant,
    placement: 'checkout',
    decidedAt: clock,
    policy: 'ai',
    offerIds: ['o-other', 'o1'],
    billing: [null, { campaign, advertiser: 'adv', bidType, price }],
  };
}

let seq = 0;
function event(kind: EventKind, tenant = 't1'): EngagementEvent {
  return { tenant, eventId: `e${seq++}`, decisionId: 'd1', offerId: 'o1', kind, ts: clock };
}

/** One group as the event log runs it: accepted() inside a child transaction, then committed() / aborted(). */
async function group(l: SpendLedger, items: [EventKind, DecisionHead][], fail = false, on: Storage = storage): Promise<boolean> {
  try {
    await on.root.childTransaction(() => {
      for (const [kind, h] of items) l.accepted(event(kind, h.tenant), h, 1);
      if (fail) throw new Error('storage failure');
    });
    l.committed();
    return true;
  } catch {
    l.aborted();
    return false;
  }
}

function slot(table: CampaignTable, campaign: string, tenant = 't1') {
  const s = table.find(tenant, campaign);
  return s < 0 ? undefined : table.read(s, newSlotValues());
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'txrank-ledger-'));
  storage = openStorage(dir);
  clock = T0;
  budgets = new Map();
});

afterEach(async () => {
  for (const l of open.splice(0)) l.close();
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SpendLedger', () => {
  it('charges only the billable kind of each bid type, and counts engagement of every kind', async () => {
    const table = CampaignTable.create({ capacity: 16 });
    const l = ledger(table);
    const cpm = head('c-cpm', 'cpm', 2); // 0.002 per impression
    const cpc = head('c-cpc', 'cpc', 0.5);
    const cpa = head('c-cpa', 'cpa', 3);
    await group(l, [
      ['impression', cpm], ['impression', cpm], ['click', cpm],
      ['impression', cpc], ['click', cpc], ['dismiss', cpc],
      ['impression', cpa], ['click', cpa], ['conversion', cpa],
    ]);
    expect(l.spendOf('t1', 'c-cpm')).toMatchObject({ spentTotal: 0.004, impressions: 2, clicks: 1, conversions: 0 });
    expect(l.spendOf('t1', 'c-cpc')).toMatchObject({ spentTotal: 0.5, spentDay: 0.5, impressions: 1, clicks: 1 });
    expect(l.spendOf('t1', 'c-cpa')).toMatchObject({ spentTotal: 3, conversions: 1, unbilled: 0 });
    // committed() pushed the committed totals into the shared table.
    expect(slot(table, 'c-cpc')).toMatchObject({ spentTotal: 0.5, spentDay: 0.5, day: utcDay(T0), clicks: 1, throttle: 1 });
    expect(slot(table, 'c-cpa')?.spentTotal).toBe(3);
  });

  it('ignores offers without billing and tenants are separate', async () => {
    const table = CampaignTable.create({ capacity: 16 });
    const l = ledger(table);
    const noBilling: DecisionHead = { ...head('c', 'cpc', 1), billing: [null, null] };
    await group(l, [['click', noBilling], ['click', head('c', 'cpc', 1, 't2')]]);
    expect(l.spendOf('t1', 'c')).toBeUndefined();
    expect(l.spendOf('t2', 'c')?.spentTotal).toBe(1);
    expect(table.find('t1', 'c')).toBe(-1);
  });

  it('clamps at the total budget: billed spend never exceeds it, the rest is unbilled', async () => {
    budgets.set('t1/c', { total: 1 });
    const table = CampaignTable.create({ capacity: 16 });
    const l = ledger(table);
    const h = head('c', 'cpc', 0.3);
    await group(l, [['click', h], ['click', h], ['click', h]]);
    const before = l.spendOf('t1', 'c')!;
    expect(before.spentTotal).toBeCloseTo(0.9, 12);
    expect(eligibleBudget({ budget: { total: 1 } }, slot(table, 'c')!, clock)).toBe(true);
    await group(l, [['click', h], ['click', h]]);
    const after = l.spendOf('t1', 'c')!;
    expect(after.spentTotal).toBe(1); // exactly the budget
    expect(after.unbilled).toBeCloseTo(0.6 - (1 - before.spentTotal), 12);
    expect(after.clicks).toBe(5);
    expect(eligibleBudget({ budget: { total: 1 } }, slot(table, 'c')!, clock)).toBe(false);
  });

  it('clamps at the daily budget and starts over on the next UTC day; the total keeps counting', async () => {
    budgets.set('t1/c', { daily: 1, total: 1.5 });
    const table = CampaignTable.create({ capacity: 16 });
    const l = ledger(table);
    const h = head('c', 'cpc', 0.4);
    await group(l, [['click', h], ['click', h], ['click', h]]);
    expect(l.spendOf('t1', 'c')).toMatchObject({ spentDay: 1, spentTotal: 1, day: utcDay(T0) });
    expect(l.spendOf('t1', 'c')!.unbilledDay).toBeCloseTo(0.2, 12);
    expect(eligibleBudget({ budget: { daily: 1, total: 1.5 } }, slot(table, 'c')!, clock)).toBe(false);

    clock = (utcDay(T0) + 1) * DAY + 1; // just past midnight UTC
    // Before any charge today: the record's day is yesterday, so today's spend reads 0.
    expect(l.spendOf('t1', 'c')).toMatchObject({ spentDay: 0, unbilledDay: 0, spentTotal: 1 });
    expect(eligibleBudget({ budget: { daily: 1, total: 1.5 } }, slot(table, 'c')!, clock)).toBe(true);
    await group(l, [['click', h], ['click', h]]);
    // 0.4 billed, then the total's headroom 0.1: billed total exactly 1.5, today 0.5.
    expect(l.spendOf('t1', 'c')).toMatchObject({ spentTotal: 1.5, day: utcDay(clock) });
    expect(l.spendOf('t1', 'c')!.spentDay).toBeCloseTo(0.5, 12);
    expect(slot(table, 'c')).toMatchObject({ spentTotal: 1.5, day: utcDay(clock) });
    expect(eligibleBudget({ budget: { daily: 1, total: 1.5 } }, slot(table, 'c')!, clock)).toBe(false);
  });

  it('is exactly once: a group that aborts charges nothing, in LMDB or in the table', async () => {
    const table = CampaignTable.create({ capacity: 16 });
    const l = ledger(table);
    const h = head('c', 'cpc', 1);
    expect(await group(l, [['click', h]])).toBe(true);
    const epoch = table.epoch;
    expect(await group(l, [['click', h], ['click', h]], true)).toBe(false);
    expect(l.spendOf('t1', 'c')).toMatchObject({ spentTotal: 1, clicks: 1 });
    expect(slot(table, 'c')).toMatchObject({ spentTotal: 1, clicks: 1 });
    expect(l.stats.pending).toBe(0);
    // The next group charges from the committed state, not from the aborted one.
    await group(l, [['click', h]]);
    expect(l.spendOf('t1', 'c')).toMatchObject({ spentTotal: 2, clicks: 2 });
    expect(table.epoch).not.toBe(epoch);
  });

  it('keeps the table at committed values when the next group runs before the first is acknowledged', async () => {
    const table = CampaignTable.create({ capacity: 16 });
    const l = ledger(table);
    const h = head('c', 'cpc', 1);
    // Two groups queued back to back, the way the event log pipelines them; the second one fails.
    const first = storage.root.childTransaction(() => l.accepted(event('click'), h, 1));
    const second = storage.root.childTransaction(() => {
      l.accepted(event('click'), h, 1);
      throw new Error('storage failure');
    });
    await first;
    l.committed();
    await second.then(() => l.committed(), () => l.aborted());
    expect(l.spendOf('t1', 'c')?.spentTotal).toBe(1);
    expect(slot(table, 'c')?.spentTotal).toBe(1);
  });

  it('two ledgers on one data dir (two processes) never lose an update, and refresh() shows the other\'s spend', async () => {
    budgets.set('t1/c', { total: 10 });
    const other = openStorage(dir);
    const tableA = CampaignTable.create({ capacity: 16 });
    const tableB = CampaignTable.create({ capacity: 16 });
    const a = ledger(tableA);
    const b = ledger(tableB, other);
    const h = head('c', 'cpc', 1);
    await Promise.all([group(a, [['click', h], ['click', h]]), group(b, [['click', h]], false, other), group(a, [['click', h]])]);
    expect(a.spendOf('t1', 'c')?.spentTotal).toBe(4);
    expect(b.spendOf('t1', 'c')?.spentTotal).toBe(4);
    await group(a, [['click', h]]);
    expect(slot(tableA, 'c')?.spentTotal).toBe(5);
    expect(slot(tableB, 'c')?.spentTotal).toBeLessThan(5); // B has not looked since
    const scans = b.stats.scans;
    b.refresh();
    expect(b.stats.scans).toBe(scans + 1);
    expect(slot(tableB, 'c')?.spentTotal).toBe(5);
    // The clamp sees the other's charges: 5 left of 10, whoever charges.
    await group(b, [['click', head('c', 'cpc', 5)], ['click', head('c', 'cpc', 5)]], false, other);
    a.refresh();
    expect(slot(tableA, 'c')).toMatchObject({ spentTotal: 10, unbilled: 5 });
    b.close();
    await other.close();
  });

  it('refresh() costs one read when only this ledger has written', async () => {
    const table = CampaignTable.create({ capacity: 16 });
    const l = ledger(table);
    const scans = l.stats.scans;
    await group(l, [['click', head('c', 'cpc', 1)]]);
    l.refresh();
    l.refresh();
    expect(l.stats.scans).toBe(scans);
    expect(slot(table, 'c')?.spentTotal).toBe(1);
  });

  it('is durable: a new ledger on the reopened environment starts from the stored spend', async () => {
    budgets.set('t1/c', { daily: 5 });
    let table = CampaignTable.create({ capacity: 16 });
    let l = ledger(table);
    await group(l, [['click', head('c', 'cpc', 2)], ['impression', head('c', 'cpc', 2)]]);
    l.close();
    l.close(); // idempotent
    await storage.close();
    storage = openStorage(dir);
    table = CampaignTable.create({ capacity: 16 });
    l = ledger(table);
    expect(slot(table, 'c')).toMatchObject({ spentTotal: 2, spentDay: 2, impressions: 1, clicks: 1 });
    await group(l, [['click', head('c', 'cpc', 2)]]);
    expect(l.spendOf('t1', 'c')).toMatchObject({ spentTotal: 4, spentDay: 4 });
  });
});
