/**
 * A model-only swap in an inference worker (CatalogView.withModel): the new view shares the catalog side
 * (offers, bid scales, delivery state) with the old one, scores exactly as a view built from scratch for the
 * new model, and keeps scoring after the old view is retired and its sessions released.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../src/catalog/store.js';
import type { CatalogSnapshot } from '../src/catalog/types.js';
import { CampaignTable } from '../src/delivery/campaign-table.js';
import { OFFER_DIM, TXN_DIM } from '../src/features/spec.js';
import { initWeights } from '../src/learning/two-tower.js';
import { readModelDir, type LoadedModel } from '../src/model/model-dir.js';
import { modelVersionFor, writeModelDir } from '../src/model/onnx-export.js';
import { CatalogView } from '../workers/inference/catalog-view.js';
import { SHIPPED, TENANT, simWorld } from './helpers/learning-fixtures.js';

let tmp: string;
let storage: Storage;
let snap: CatalogSnapshot;
let shipped: LoadedModel;
let other: LoadedModel;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'txrank-view-swap-'));
  const world = await simWorld(path.join(tmp, 'data'), { transactions: 1, offerCount: 50 });
  storage = openStorage(world.dataDir, { readOnly: true });
  const s = storage.catalog.read(world.catalogVersion);
  if (!s) throw new Error('catalog version missing');
  snap = s;
  shipped = await readModelDir(SHIPPED);
  const w = initWeights({ txn: TXN_DIM, offer: OFFER_DIM, hidden: 32, embed: 16 }, 77);
  const dir = path.join(tmp, 'models', modelVersionFor(w));
  await writeModelDir(dir, w, { parent: null, createdAt: '2026-01-01T00:00:00.000Z', training: {}, metrics: {} });
  other = await readModelDir(dir);
});

afterAll(async () => {
  await storage?.close();
  await rm(tmp, { recursive: true, force: true });
});

function txnRows(batch: number): Float32Array {
  const x = new Float32Array(batch * TXN_DIM);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 7919) % 101) / 101;
  return x;
}

describe('CatalogView.withModel', () => {
  it('shares the catalog side, scores like a fresh build, and outlives the retired view', async () => {
    const table = CampaignTable.create();
    const a = await CatalogView.build(snap, shipped, table);
    const b = await CatalogView.withModel(a, other);
    const fresh = await CatalogView.build(snap, other, table);
    try {
      expect(b.catalogVersion).toBe(a.catalogVersion);
      expect(b.modelVersion).toBe(other.manifest.version);
      expect(b.modelVersion).not.toBe(a.modelVersion);
      const ta = a.tenants.get(TENANT);
      const tb = b.tenants.get(TENANT);
      const tf = fresh.tenants.get(TENANT);
      if (!ta || !tb || !tf) throw new Error('tenant view missing');
      expect(tb.delivery).toBe(ta.delivery);
      expect(tb.offers).toBe(ta.offers);
      expect(tb.bidScale).toBe(ta.bidScale);
      expect(tb.scorer).not.toBe(ta.scorer);
      expect(b.offerCount).toBe(50);

      const txn = txnRows(2);
      const sa = await ta.scorer.score(txn, 2);
      const sb = await tb.scorer.score(txn, 2);
      const sf = await tf.scorer.score(txn, 2);
      expect(Array.from(sb.p)).toEqual(Array.from(sf.p));
      expect(Array.from(sb.ev)).toEqual(Array.from(sf.ev));
      expect(Array.from(sb.p)).not.toEqual(Array.from(sa.p));

      await a.retire();
      await expect(ta.scorer.score(txn, 2)).rejects.toThrow(/released/);
      expect(Array.from((await tb.scorer.score(txn, 2)).ev)).toEqual(Array.from(sf.ev));
    } finally {
      await a.retire();
      await b.retire();
      await fresh.retire();
    }
  });
});
