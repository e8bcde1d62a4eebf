/**
 * The event record in ev_events, keyed by [decidedAt, decisionId, eventId] (the key carries those three).
 * Compact binary, never on the wire; grows only by appending (see decision-codec.ts).
 *
 *   0   u8   format (1)
 *   1   u8   kind (index in EVENT_KINDS)
 *   2   u8   bit 0: has value, bit 1: has currency
 *   3   u8   reserved (0)
 *   4   f64  ts (ms)
 *   12  f64  receivedAt (ms)
 *   20  f64  value (0 when none)
 *   28  strings: offerId, currency ('' when none)
 */
import { TxrankError } from '../errors/codes.js';
import { ByteReader, ByteWriter } from './bytes.js';
import { EVENT_KINDS } from './types.js';
const FORMAT = 1;
const KIND_CODE = Object.fromEntries(EVENT_KINDS.map((k, i) => [k, i]));
export function encodeEvent(e, receivedAt) {
    const w = new ByteWriter();
    w.u8(FORMAT);
    w.u8(KIND_CODE[e.kind]);
    w.u8((e.value !== undefined ? 1 : 0) | (e.currency !== undefined ? 2 : 0));
    w.u8(0);
    w.f64(e.ts);
    w.f64(receivedAt);
    w.f64(e.value ?? 0);
    w.str(e.offerId);
    w.str(e.currency ?? '');
    return w.done();
}
function reader(buf, end) {
    const r = new ByteReader(buf, 0, end);
    const format = r.u8();
    if (format !== FORMAT)
        throw new TxrankError('internal', `unknown event record format ${format}`);
    return r;
}
function kindOf(code) {
    const kind = EVENT_KINDS[code];
    if (kind === undefined)
        throw new TxrankError('internal', `unknown event kind ${code} in a stored event`);
    return kind;
}
export function decodeEvent(tenant, decisionId, eventId, buf, end = buf.length) {
    const r = reader(buf, end);
    const kind = kindOf(r.u8());
    const has = r.u8();
    r.u8();
    const ts = r.f64();
    const receivedAt = r.f64();
    const value = r.f64();
    const offerId = r.str();
    const currency = r.str();
    const out = { tenant, eventId, decisionId, offerId, kind, ts, receivedAt };
    if (has & 1)
        out.value = value;
    if (has & 2)
        out.currency = currency;
    return out;
}
/** Only what the labeler needs: the kind and the offer. */
export function decodeEventKindAndOffer(buf, end = buf.length) {
    const r = reader(buf, end);
    const kind = kindOf(r.u8());
    r.pos = 28;
    return { kind, offerId: r.str() };
}
