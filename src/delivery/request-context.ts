/**
 * Validated transaction -> RequestContext, the few numbers eligibility needs. Runs on the main thread once per
 * decision, next to transactionFeatures, so it is one pass over the lines and allocates only the result.
 * Price tier, local hour and weekday are computed exactly as src/features/transaction.ts computes the
 * corresponding features, so targeting and the model never disagree about what a basket is.
 */
import type { Transaction } from '../protocol/messages.js';
import { usdFactor } from '../features/currency.js';
import { CHANNELS, priceTier } from '../features/spec.js';
import { departmentIndex } from '../features/taxonomy.js';
import type { RequestContext } from './types.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * @param placement the placement id of the request (already checked to exist at the edge).
 * @param tenantCurrency ISO 4217 code of the tenant's catalog; the basket total is converted into it.
 * @param now decision time, ms since the epoch (server clock), used for flights.
 */
export function buildRequestContext(txn: Transaction, placement: string, tenantCurrency: string, now: number): RequestContext {
  let departments = 0;
  let value = 0;
  let units = 0;
  const items = txn.items;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    value += item.price * item.quantity;
    units += item.quantity;
    departments |= 1 << departmentIndex(item.category);
  }
  const usd = usdFactor(txn.currency);
  const meanUnitUsd = units > 0 ? (value / units) * usd : 0;
  // Same currency: no conversion at all, so a total of exactly basketMin stays exactly basketMin (x * f / f
  // is not always x in floating point, and range edges are exact comparisons).
  const basketTotal = txn.currency === tenantCurrency ? txn.total : (txn.total * usd) / usdFactor(tenantCurrency);

  const localMs = txn.ts + (txn.utc_offset_min ?? 0) * 60_000;
  const hour = Math.floor((((localMs % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
  // 1970-01-01 was a Thursday: weekday 0 = Sunday.
  const weekday = (((Math.floor(localMs / DAY_MS) + 4) % 7) + 7) % 7;

  return {
    placement,
    channel: CHANNELS.indexOf(txn.channel),
    country: txn.country,
    basketDepartments: departments >>> 0,
    basketTotal,
    priceTier: priceTier(meanUnitUsd),
    hour,
    weekday,
    now,
  };
}
