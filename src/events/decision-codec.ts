/**
 * Two records per decision, both compact binary, never on the wire.
 *
 * The decision record in ev_decisions (keyed by decisionId), immutable once logged, encoded on the serving
 * path (about 1 µs):
 *
 *   0   u8   format (1)
 *   1   u8   n, the number of shown offers
 *   2   u16  dim, the number of transaction features
 *   4   u32  catalogVersion
 *   8   f64  decidedAt (ms)
 *   16  f32 x dim  txnFeatures
 *   ... n x (f64 p, f64 propensity, u16 position)
 *   ... strings (u16 length + UTF-8): decisionId, tenant, placement, buyer ('' when none), modelVersion,
 *       policy, then the n offer ids
 *   ... appended with delivery (absent in older records, which then have no billing):
 *       n x (u8 bid type index in BID_TYPES, f64 price, str campaign, str advertiser)
 *
 * Its engagement state (what ingest changes) is a separate value: engagement-codec.ts.
 *
 * The layout only grows by appending: a new field goes after the last one, and a reader of this version ignores
 * bytes it does not know. A change to an existing field needs a new format number.
 */
import { TxrankError } from '../errors/codes.js';
import { ByteReader, ByteWriter } from './bytes.js';
import type { DecisionHead, DecisionRecord, ShownOffer } from './types.js';
import type { Billing } from '../delivery/types.js';
import { BID_TYPES } from '../features/spec.js';

const FORMAT = 1;
const HEADER = 16;
const SHOWN_BYTES = 8 + 8 + 2;

/** The front's decisions predate the policy field; a decision without one was served by the greedy policy. */
const DEFAULT_POLICY = 'ai';

export function encodeDecision(rec: DecisionRecord): Buffer {
  const n = rec.shown.length;
  const dim = rec.txnFeatures.length;
  if (n > 255) throw new TxrankError('internal', `a decision shows at most 255 offers; got ${n}`);
  const policy = rec.policy ?? DEFAULT_POLICY;
  const buyer = rec.buyer ?? '';
  const w = new ByteWriter();
  w.u8(FORMAT);
  w.u8(n);
  w.u16(dim);
  w.u32(rec.catalogVersion);
  w.f64(rec.decidedAt);
  w.bytes(new Uint8Array(rec.txnFeatures.buffer, rec.txnFeatures.byteOffset, dim * 4));
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
  for (let i = 0; i < n; i++) w.str(rec.shown[i].offerId);
  // Billing goes in whole or not at all: a reader decides per record from whether bytes follow the ids.
  if (n > 0 && rec.shown.every((s) => s.billing !== undefined)) {
    for (let i = 0; i < n; i++) {
      const b = rec.shown[i].billing as Billing;
      w.u8(BID_TYPES.indexOf(b.bidType));
      w.f64(b.price);
      w.str(b.campaign);
      w.str(b.advertiser);
    }
  }
  return w.done();
}

/** Decodes a whole record; `end` is the value's size (getBinaryFast buffers are longer than the value). */
export function decodeDecision(buf: Buffer, end: number = buf.length): DecisionRecord {
  const r = new ByteReader(buf, 0, end);
  const format = r.u8();
  if (format !== FORMAT) throw new TxrankError('internal', `unknown decision record format ${format}`);
  const n = r.u8();
  const dim = r.u16();
  const catalogVersion = r.u32();
  const decidedAt = r.f64();
  const txnFeatures = r.f32s(dim);
  const shown: ShownOffer[] = new Array(n);
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
  for (let i = 0; i < n; i++) shown[i].offerId = r.str();
  const billing = readBilling(r, n);
  for (let i = 0; i < n; i++) {
    const b = billing[i];
    if (b !== null) shown[i].billing = b;
  }
  const record: DecisionRecord = { decisionId, tenant, placement, decidedAt, txnFeatures, modelVersion, catalogVersion, policy, shown };
  if (buyer !== '') record.buyer = buyer;
  return record;
}

/**
 * What ingest needs of a decision record (tenant, placement, time, policy, offer ids and their billing),
 * decoded at once from getBinaryFast's reused buffer, skipping the features and the per-offer numbers.
 */
export type { DecisionHead } from './types.js';

export function decodeDecisionHead(buf: Buffer, end: number = buf.length): DecisionHead {
  const r = new ByteReader(buf, 0, end);
  const format = r.u8();
  if (format !== FORMAT) throw new TxrankError('internal', `unknown decision record format ${format}`);
  const n = r.u8();
  const dim = r.u16();
  r.pos = HEADER + 4 * dim + n * SHOWN_BYTES;
  r.skipStr(); // decisionId
  const tenant = r.str();
  const placement = r.str();
  r.skipStr(); // buyer
  r.skipStr(); // modelVersion
  const policy = r.str();
  const offerIds: string[] = new Array(n);
  for (let i = 0; i < n; i++) offerIds[i] = r.str();
  return { tenant, placement, decidedAt: buf.readDoubleLE(8), policy, offerIds, billing: readBilling(r, n) };
}

/** The appended billing block, or nulls for a record written before it existed. */
function readBilling(r: ByteReader, n: number): (Billing | null)[] {
  const out: (Billing | null)[] = new Array(n).fill(null);
  if (r.pos >= r.end) return out;
  for (let i = 0; i < n; i++) {
    const t = r.u8();
    const bidType = BID_TYPES[t];
    if (bidType === undefined) throw new TxrankError('internal', `unknown bid type index ${t} in a decision record`);
    const price = r.f64();
    const campaign = r.str();
    const advertiser = r.str();
    out[i] = { campaign, advertiser, bidType, price };
  }
  return out;
}
