/**
 * Static conversion of money amounts to USD for features only (price tiers, basket value). Features need a
 * common scale, not accounting precision, so a fixed table is right here: a model trained on one table keeps
 * meaning the same thing. Bids are never converted; each tenant's catalog is in its own currency.
 */
export const USD_PER_UNIT = {
    USD: 1,
    EUR: 1.08,
    GBP: 1.27,
    CAD: 0.73,
    AUD: 0.66,
    NZD: 0.61,
    CHF: 1.13,
    SEK: 0.095,
    NOK: 0.093,
    DKK: 0.145,
    PLN: 0.25,
    JPY: 0.0067,
    INR: 0.012,
    BRL: 0.18,
    MXN: 0.055,
    SGD: 0.74,
};
export function isSupportedCurrency(code) {
    return Object.prototype.hasOwnProperty.call(USD_PER_UNIT, code);
}
/** The USD factor of a supported currency; callers validate the code at the edge first. */
export function usdFactor(code) {
    return USD_PER_UNIT[code] ?? 1;
}
