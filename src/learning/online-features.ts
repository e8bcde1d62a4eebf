/**
 * Offer features for labelled examples, computed with the serving code (src/features/offer.ts) from the
 * catalog version each example names: the model must learn from exactly the numbers it is served with, and
 * an offer's record may differ between catalog versions (price, bid).
 *
 * Decoding a catalog version costs tens of milliseconds per 10k offers, so each version is decoded once and
 * its whole OFFER_DIM matrix kept, for the few most recent versions (examples arrive roughly in time order and
 * name one or two versions at a time).
 */
import type { CatalogSnapshot } from '../catalog/types.js';
import { offerMatrix } from '../features/offer.js';
import { OFFER_DIM, TXN_DIM } from '../features/spec.js';
import type { Impressions } from './impressions.js';
import type { LabelledExample } from './labelled-example.js';

/** What the cache needs from the catalog store (CatalogStore.read has this shape). */
export interface CatalogReader {
  read(version: number): CatalogSnapshot | null;
}

interface VersionFeatures {
  rows: Map<string, number>;
  matrix: Float32Array;
}

const key = (tenant: string, offerId: string): string => `${tenant}\u0000${offerId}`;

export class OfferFeatureCache {
  readonly #reader: CatalogReader;
  readonly #max: number;
  /** Insertion order = recency (re-inserted on use); null = the version is gone (retention deleted it). */
  readonly #versions = new Map<number, VersionFeatures | null>();
  /** Counters since construction. */
  readonly stats = { versionsDecoded: 0, missingVersion: 0, missingOffer: 0 };

  constructor(reader: CatalogReader, maxVersions = 4) {
    this.#reader = reader;
    this.#max = Math.max(1, maxVersions);
  }

  #version(v: number): VersionFeatures | null {
    const hit = this.#versions.get(v);
    if (hit !== undefined) {
      this.#versions.delete(v);
      this.#versions.set(v, hit);
      return hit;
    }
    const snap = this.#reader.read(v);
    let built: VersionFeatures | null = null;
    if (snap) {
      const currency = new Map(snap.tenants.map((t) => [t.id, t.currency]));
      const rows = new Map<string, number>();
      const matrix = new Float32Array(snap.offers.length * OFFER_DIM);
      // One offerMatrix call per tenant keeps the serving function (and its currency handling) the only code
      // that turns an offer into numbers.
      const byTenant = new Map<string, CatalogSnapshot['offers']>();
      for (const o of snap.offers) {
        const list = byTenant.get(o.tenant);
        if (list) list.push(o);
        else byTenant.set(o.tenant, [o]);
      }
      let row = 0;
      for (const [tenant, offers] of byTenant) {
        matrix.set(offerMatrix(offers, currency.get(tenant) ?? 'USD'), row * OFFER_DIM);
        for (const o of offers) rows.set(key(tenant, o.id), row++);
      }
      built = { rows, matrix };
      this.stats.versionsDecoded++;
    }
    this.#versions.set(v, built);
    while (this.#versions.size > this.#max) this.#versions.delete(this.#versions.keys().next().value as number);
    return built;
  }

  /** Writes the offer's OFFER_DIM features at `out[offset]`; false (nothing written) when unknown. */
  write(catalogVersion: number, tenant: string, offerId: string, out: Float32Array, offset: number): boolean {
    const f = this.#version(catalogVersion);
    if (f === null) {
      this.stats.missingVersion++;
      return false;
    }
    const row = f.rows.get(key(tenant, offerId));
    if (row === undefined) {
      this.stats.missingOffer++;
      return false;
    }
    out.set(f.matrix.subarray(row * OFFER_DIM, (row + 1) * OFFER_DIM), offset);
    return true;
  }
}

export interface Materialized {
  /** One txn row and one offer row per usable example (impression k = rows k, k). */
  data: Impressions;
  /** The examples behind data, in order. */
  used: LabelledExample[];
  /** Examples dropped because their catalog version or offer is unknown, or their features are malformed. */
  skipped: number;
}

/** Turns examples into training rows; examples whose offer cannot be resolved are skipped and counted. */
export function materialize(examples: readonly LabelledExample[], offers: OfferFeatureCache): Materialized {
  const n = examples.length;
  const txn = new Float32Array(n * TXN_DIM);
  const offer = new Float32Array(n * OFFER_DIM);
  const label = new Uint8Array(n);
  const used: LabelledExample[] = [];
  let skipped = 0;
  for (const ex of examples) {
    const k = used.length;
    if (ex.txnFeatures.length !== TXN_DIM || !offers.write(ex.catalogVersion, ex.tenant, ex.offerId, offer, k * OFFER_DIM)) {
      skipped++;
      continue;
    }
    txn.set(ex.txnFeatures, k * TXN_DIM);
    label[k] = ex.label;
    used.push(ex);
  }
  const count = used.length;
  const idx = new Uint32Array(count);
  for (let i = 0; i < count; i++) idx[i] = i;
  return {
    data: {
      txn: txn.subarray(0, count * TXN_DIM),
      txnCount: count,
      offer: offer.subarray(0, count * OFFER_DIM),
      offerCount: count,
      txnIndex: idx,
      offerIndex: idx.slice(),
      label: label.subarray(0, count),
      count,
    },
    used,
    skipped,
  };
}
