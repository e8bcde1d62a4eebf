/**
 * Canary inputs for validating a model before it serves: offer rows and transaction rows that cover the
 * feature space (every department, bid type, price tier, no price; baskets led by every department, every
 * channel, day and night, weekday and weekend), built with the serving feature code, plus whatever real rows
 * the caller has (the serving catalog's offers, recent transactions).
 *
 * Deterministic and independent of any data, so a candidate is canaried even on a server that has seen no
 * traffic yet.
 */
import type { Offer } from '../catalog/types.js';
import { offerFeatures } from '../features/offer.js';
import { BID_TYPES, CHANNELS, OFFER_DIM, TXN_DIM } from '../features/spec.js';
import { DEPARTMENTS } from '../features/taxonomy.js';
import { transactionFeatures } from '../features/transaction.js';
import type { Transaction } from '../protocol/messages.js';

export interface CanarySet {
  /** [offerCount, OFFER_DIM] */
  offer: Float32Array;
  offerCount: number;
  /** [txnCount, TXN_DIM] */
  txn: Float32Array;
  txnCount: number;
}

const PRICES: Array<number | undefined> = [undefined, 1.5, 6, 25, 120];

function syntheticOffers(): Float32Array {
  const rows: Float32Array[] = [];
  let i = 0;
  for (const dept of DEPARTMENTS) {
    for (const type of BID_TYPES) {
      const price = PRICES[i % PRICES.length];
      const offer: Offer = {
        id: `canary-${i}`,
        tenant: 'canary',
        advertiser: `adv-${i % 23}`,
        campaign: 'canary',
        category: `${dept}/canary`,
        title: 'canary',
        creative: {},
        bid: { type, amount: [0.05, 1, 12, 80][i % 4] },
        ...(price === undefined ? {} : { price }),
        status: 'active',
        start: 0,
        end: 1,
      };
      const row = new Float32Array(OFFER_DIM);
      offerFeatures(offer, 'USD', row);
      rows.push(row);
      i++;
    }
  }
  return concat(rows, OFFER_DIM);
}

function syntheticTransactions(): Float32Array {
  const rows: Float32Array[] = [];
  let i = 0;
  const baseSunday = Date.UTC(2024, 0, 7);
  for (const dept of DEPARTMENTS) {
    for (const hour of [3, 13]) {
      const channel = CHANNELS[i % CHANNELS.length];
      const day = i % 7;
      const txn: Transaction = {
        id: `canary-${i}`,
        ts: baseSunday + day * 86_400_000 + hour * 3_600_000,
        utc_offset_min: 0,
        currency: 'USD',
        channel,
        country: 'US',
        items: [
          { sku: 'a', category: `${dept}/x`, price: 2 + (i % 5) * 7, quantity: 1 + (i % 3) },
          { sku: 'b', category: `${DEPARTMENTS[(i * 7) % DEPARTMENTS.length]}/y`, price: 3.5, quantity: 1 },
        ],
        total: 10 + i * 3,
      };
      const row = new Float32Array(TXN_DIM);
      transactionFeatures(txn, row);
      rows.push(row);
      i++;
    }
  }
  return concat(rows, TXN_DIM);
}

function concat(rows: Float32Array[], dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, k) => out.set(r, k * dim));
  return out;
}

/**
 * The synthetic canary, optionally extended with real rows (e.g. up to a few hundred offers of the serving
 * catalog from offerMatrix, and recent transaction rows from labelled examples).
 */
export function buildCanary(extra: { offer?: Float32Array; txn?: Float32Array } = {}): CanarySet {
  const offer = joinRows(syntheticOffers(), extra.offer, OFFER_DIM);
  const txn = joinRows(syntheticTransactions(), extra.txn, TXN_DIM);
  return { offer, offerCount: offer.length / OFFER_DIM, txn, txnCount: txn.length / TXN_DIM };
}

function joinRows(a: Float32Array, b: Float32Array | undefined, dim: number): Float32Array {
  if (!b || b.length === 0) return a;
  const rows = Math.floor(b.length / dim);
  const out = new Float32Array(a.length + rows * dim);
  out.set(a);
  out.set(b.subarray(0, rows * dim), a.length);
  return out;
}
