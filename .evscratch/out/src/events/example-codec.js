/**
 * The labelled example in ev_examples, keyed by its seq. Self-contained (it copies what it needs of the
 * decision), so examples outlive nothing and need no join at read time. Compact binary, never on the wire;
 * grows only by appending (see decision-codec.ts).
 *
 *   0   u8   format (1)
 *   1   u8   label (0 | 1)
 *   2   u16  position
 *   4   u32  catalogVersion
 *   8   f64  decidedAt (ms)     retention reads it here without decoding the rest
 *   16  f64  propensity
 *   24  u16  dim
 *   26  u16  reserved (0)
 *   28  f32 x dim  txnFeatures
 *   ... strings: decisionId, tenant, offerId, modelVersion
 */
import { TxrankError } from '../errors/codes.js';
import { ByteReader, ByteWriter } from './bytes.js';
const FORMAT = 1;
export const EXAMPLE_DECIDED_AT = 8;
export function encodeExample(x) {
    const dim = x.txnFeatures.length;
    const w = new ByteWriter();
    w.u8(FORMAT);
    w.u8(x.label);
    w.u16(x.position);
    w.u32(x.catalogVersion);
    w.f64(x.decidedAt);
    w.f64(x.propensity);
    w.u16(dim);
    w.u16(0);
    w.bytes(new Uint8Array(x.txnFeatures.buffer, x.txnFeatures.byteOffset, dim * 4));
    w.str(x.decisionId);
    w.str(x.tenant);
    w.str(x.offerId);
    w.str(x.modelVersion);
    return w.done();
}
export function decodeExample(seq, buf, end = buf.length) {
    const r = new ByteReader(buf, 0, end);
    const format = r.u8();
    if (format !== FORMAT)
        throw new TxrankError('internal', `unknown example record format ${format}`);
    const label = r.u8() === 1 ? 1 : 0;
    const position = r.u16();
    const catalogVersion = r.u32();
    const decidedAt = r.f64();
    const propensity = r.f64();
    const dim = r.u16();
    r.u16();
    const txnFeatures = r.f32s(dim);
    const decisionId = r.str();
    const tenant = r.str();
    const offerId = r.str();
    const modelVersion = r.str();
    return { seq, decisionId, tenant, offerId, catalogVersion, modelVersion, position, propensity, txnFeatures, label, decidedAt };
}
