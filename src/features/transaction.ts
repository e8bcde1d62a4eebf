/**
 * Transaction -> features. Runs once per decision on the serving path, so it writes into a caller-owned
 * Float32Array (a row of a batch matrix) and allocates nothing.
 */
import type { Transaction } from '../protocol/messages.js';
import { CHANNELS, TXN, TXN_DIM, clip01, priceTier } from './spec.js';
import { departmentIndex } from './taxonomy.js';
import { usdFactor } from './currency.js';

const LOG51 = Math.log(51);
const LOG1001 = Math.log(1001);
const TWO_PI = 2 * Math.PI;
const DAY_MS = 86_400_000;

/** Writes the TXN_DIM features of `txn` into `out` at `offset`. */
export function transactionFeatures(txn: Transaction, out: Float32Array, offset = 0): void {
  out.fill(0, offset, offset + TXN_DIM);
  const usd = usdFactor(txn.currency);
  let value = 0;
  let units = 0;
  for (const item of txn.items) {
    const lineValue = item.price * item.quantity;
    value += lineValue;
    units += item.quantity;
    out[offset + TXN.categoryMix + departmentIndex(item.category)] += lineValue;
  }
  if (value > 0) {
    for (let d = TXN.categoryMix; d < TXN.priceTier; d++) out[offset + d] /= value;
  } else {
    // A basket of free items still has a category mix: weight lines equally.
    for (const item of txn.items) out[offset + TXN.categoryMix + departmentIndex(item.category)] += 1 / txn.items.length;
  }
  // Value-weighted mean unit price = value / units.
  const meanUnitUsd = units > 0 ? (value / units) * usd : 0;
  out[offset + TXN.priceTier + priceTier(meanUnitUsd)] = 1;
  out[offset + TXN.basketUnits] = clip01(Math.log1p(units) / LOG51);
  out[offset + TXN.basketLines] = clip01(Math.log1p(txn.items.length) / LOG51);
  out[offset + TXN.basketValue] = clip01(Math.log1p(txn.total * usd) / LOG1001);

  const localMs = txn.ts + (txn.utc_offset_min ?? 0) * 60_000;
  const hour = (((localMs % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000; // fractional hour
  // 1970-01-01 was a Thursday: weekday 0 = Sunday.
  const weekday = (((Math.floor(localMs / DAY_MS) + 4) % 7) + 7) % 7;
  out[offset + TXN.hour] = Math.sin((TWO_PI * hour) / 24);
  out[offset + TXN.hour + 1] = Math.cos((TWO_PI * hour) / 24);
  out[offset + TXN.weekday] = Math.sin((TWO_PI * weekday) / 7);
  out[offset + TXN.weekday + 1] = Math.cos((TWO_PI * weekday) / 7);
  out[offset + TXN.weekend] = weekday === 0 || weekday === 6 ? 1 : 0;
  out[offset + TXN.channel + CHANNELS.indexOf(txn.channel)] = 1;
}
