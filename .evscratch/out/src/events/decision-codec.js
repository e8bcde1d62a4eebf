/**
 * The decision record in ev_decisions: a compact binary layout, encoded on the serving path (about 1 µs) and
 * patched in place by ingest, which only ever rewrites the two mutable areas at fixed offsets (the event
 * count and one engagement-flag byte per shown offer). Never on the wire.
 *
 *   0   u8   format (1)
 *   1   u8   n, the number of shown offers
 *   2   u16  dim, the number of transaction features
 *   4   u32  catalogVersion
 *   8   f64  decidedAt (ms)
 *   16  u32  eventCount             mutable: events accepted for this decision
 *   20  f32 x dim  txnFeatures
 *   F   u8 x n     engagement flags  mutable: FLAG bits per shown offer, F = 20 + 4 dim
 *   ... n x (f64 p, f64 propensity, u16 position)
 *   ... strings (u16 length + UTF-8): decisionId, tenant, placement, buyer ('' when none), modelVersion,
 *       policy, then the n offer ids
 *
 * The layout only grows by appending: a new field goes after the last string, and a reader of this version
 * ignores bytes it does not know. A change to an existing field needs a new format number.
 */
import { TxrankError } from '../errors/codes.js';
import { ByteReader, ByteWriter, strSize } from './bytes.js';
const FORMAT = 1;
const HEADER = 20;
const EVENT_COUNT_AT = 16;
const SHOWN_BYTES = 8 + 8 + 2;
/** Engagement flag bits, one byte per shown offer. */
export const FLAG = { impression: 1, click: 2, conversion: 4, dismiss: 8 };
/** An offer counts as seen (it gets an example) when the buyer saw it: an impression, or a click or a
 * dismiss, which imply one (impression beacons get lost; a click on an unseen offer is impossible). */
export const SEEN = FLAG.impression | FLAG.click | FLAG.dismiss;
/** The front's decisions predate the policy field; a decision without one was served by the greedy policy. */
const DEFAULT_POLICY = 'ai';
export function encodeDecision(rec) {
    const n = rec.shown.length;
    const dim = rec.txnFeatures.length;
    if (n > 255)
        throw new TxrankError('internal', `a decision shows at most 255 offers; got ${n}`);
    const policy = rec.policy ?? DEFAULT_POLICY;
    const buyer = rec.buyer ?? '';
    let size = HEADER + 4 * dim + n + n * SHOWN_BYTES;
    size += strSize(rec.decisionId) + strSize(rec.tenant) + strSize(rec.placement) + strSize(buyer);
    size += strSize(rec.modelVersion) + strSize(policy);
    for (let i = 0; i < n; i++)
        size += strSize(rec.shown[i].offerId);
    const w = new ByteWriter(size);
    w.u8(FORMAT);
    w.u8(n);
    w.u16(dim);
    w.u32(rec.catalogVersion);
    w.f64(rec.decidedAt);
    w.u32(0);
    w.bytes(new Uint8Array(rec.txnFeatures.buffer, rec.txnFeatures.byteOffset, dim * 4));
    w.zeros(n);
    for (let i = 0; i < n; i++) {
        const s = rec.shown[i];
        w.f64(s.p);
        w.f64(s.propensity);
        w.u16(s.position);
    }
    w.str(rec.decisionId);
    w.str(rec.tenant);
    w.str(rec.placement);
    w.str(buyer);
    w.str(rec.modelVersion);
    w.str(policy);
    for (let i = 0; i < n; i++)
        w.str(rec.shown[i].offerId);
    return w.done();
}
/** Decodes a whole record; `end` is the value's size (getBinaryFast buffers are longer than the value). */
export function decodeDecision(buf, end = buf.length) {
    const r = new ByteReader(buf, 0, end);
    const format = r.u8();
    if (format !== FORMAT)
        throw new TxrankError('internal', `unknown decision record format ${format}`);
    const n = r.u8();
    const dim = r.u16();
    const catalogVersion = r.u32();
    const decidedAt = r.f64();
    const eventCount = r.u32();
    const txnFeatures = r.f32s(dim);
    const flags = Uint8Array.from(buf.subarray(r.pos, r.pos + n));
    r.pos += n;
    const shown = new Array(n);
    for (let i = 0; i < n; i++) {
        const p = r.f64();
        const propensity = r.f64();
        const position = r.u16();
        shown[i] = { offerId: '', position, p, propensity };
    }
    const decisionId = r.str();
    const tenant = r.str();
    const placement = r.str();
    const buyer = r.str();
    const modelVersion = r.str();
    const policy = r.str();
    for (let i = 0; i < n; i++)
        shown[i].offerId = r.str();
    const record = { decisionId, tenant, placement, decidedAt, txnFeatures, modelVersion, catalogVersion, policy, shown };
    if (buyer !== '')
        record.buyer = buyer;
    return { record, flags, eventCount };
}
/**
 * What ingest needs of a decision, over a buffer it owns (a copy) and may patch and write back. Decoding
 * the head skips the features and the per-offer numbers: only the tenant, the time and the offer ids.
 */
export class DecisionHead {
    bytes;
    tenant;
    decidedAt;
    offerIds;
    #flagsAt;
    dirty = false;
    constructor(bytes) {
        this.bytes = bytes;
        const r = new ByteReader(bytes);
        const format = r.u8();
        if (format !== FORMAT)
            throw new TxrankError('internal', `unknown decision record format ${format}`);
        const n = r.u8();
        const dim = r.u16();
        r.u32();
        this.decidedAt = r.f64();
        this.#flagsAt = HEADER + 4 * dim;
        r.pos = this.#flagsAt + n + n * SHOWN_BYTES;
        r.skipStr(); // decisionId
        this.tenant = r.str();
        r.skipStr(); // placement
        r.skipStr(); // buyer
        r.skipStr(); // modelVersion
        r.skipStr(); // policy
        this.offerIds = new Array(n);
        for (let i = 0; i < n; i++)
            this.offerIds[i] = r.str();
    }
    get eventCount() {
        return this.bytes.readUInt32LE(EVENT_COUNT_AT);
    }
    /** Counts one more accepted event and sets its flag bit on the shown offer at `index`. */
    record(index, bit) {
        this.bytes.writeUInt32LE(this.eventCount + 1, EVENT_COUNT_AT);
        this.bytes[this.#flagsAt + index] |= bit;
        this.dirty = true;
    }
}
