/**
 * The event log's record codecs (pure units): round trips, exact floats, non-ASCII strings, the head decoder,
 * bounds, and tolerance of lmdb-js's reused buffers (longer than the value).
 */
import { describe, expect, it } from 'vitest';
import { TXN_DIM } from '../src/features/spec.js';
import { ByteReader, ByteWriter } from '../src/events/bytes.js';
import { decodeDecision, decodeDecisionHead, encodeDecision } from '../src/events/decision-codec.js';
import { decodeEvent, decodeEventKindAndOffer, encodeEvent } from '../src/events/event-codec.js';
import { decodeExample, encodeExample, EXAMPLE_DECIDED_AT } from '../src/events/example-codec.js';
import { engagementFlags, FLAG, SEEN } from '../src/events/engagement.js';
import type { DecisionRecord } from '../src/events/types.js';

function features(): Float32Array {
  const f = new Float32Array(TXN_DIM);
  for (let i = 0; i < TXN_DIM; i++) f[i] = Math.fround(Math.PI * (i - 18) / 7);
  f[3] = -0;
  f[4] = Number.MIN_VALUE;
  return f;
}

function decision(over: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    decisionId: '0b6c3f0e-8d1a-4c57-9a43-2f5d7e1b9c10',
    tenant: 'freshmart',
    placement: 'order_confirmation',
    decidedAt: 1_764_417_600_123,
    buyer: 'b-42',
    txnFeatures: features(),
    modelVersion: 'tt-1-3f9a2c1d',
    catalogVersion: 4_000_000_000,
    policy: 'ai',
    shown: [
      { offerId: 'fm-000123', position: 1, p: 0.031415926535, propensity: 1 },
      { offerId: 'fm-000456', position: 2, p: 1e-9, propensity: 0.25 },
    ],
    ...over,
  };
}

/** A copy of `buf` at the start of a larger buffer holding garbage after it, like getBinaryFast's. */
function reused(buf: Buffer): Buffer {
  const big = Buffer.alloc(buf.length + 64, 0xee);
  buf.copy(big);
  return big;
}

describe('decision record', () => {
  it('round-trips every field exactly, features bit for bit', () => {
    const d = decision();
    const back = decodeDecision(encodeDecision(d));
    expect(back).toEqual(d);
    expect(Buffer.from(back.txnFeatures.buffer).equals(Buffer.from(d.txnFeatures.buffer))).toBe(true);
    expect(Object.is(back.txnFeatures[3], -0)).toBe(true);
  });

  it('omits an absent buyer, keeps non-ASCII strings, and tolerates a longer buffer', () => {
    const d = decision({ buyer: undefined, tenant: 'märkte-🛒', shown: [{ offerId: 'offre-été', position: 3, p: 0.5, propensity: 1 }] });
    delete d.buyer;
    const bytes = encodeDecision(d);
    const back = decodeDecision(reused(bytes), bytes.length);
    expect(back).toEqual(d);
    expect('buyer' in back).toBe(false);
  });

  it('decodes the head (tenant, time, offers) without the rest', () => {
    const bytes = encodeDecision(decision());
    expect(decodeDecisionHead(reused(bytes), bytes.length)).toEqual({
      tenant: 'freshmart',
      placement: decision().placement,
      decidedAt: 1_764_417_600_123,
      policy: decision().policy,
      offerIds: ['fm-000123', 'fm-000456'],
      billing: [null, null],
    });
  });

  it('round-trips each shown offer\'s billing, appended after the ids, in the record and the head', () => {
    const d = decision();
    d.shown = d.shown.map((s, i) => ({
      ...s,
      billing: { campaign: `c${i}`, advertiser: `a${i}`, bidType: i === 0 ? ('cpc' as const) : ('cpm' as const), price: 0.25 + i },
    }));
    const bytes = encodeDecision(d);
    expect(decodeDecision(bytes).shown.map((s) => s.billing)).toEqual(d.shown.map((s) => s.billing));
    const head = decodeDecisionHead(reused(bytes), bytes.length);
    expect(head.billing).toEqual(d.shown.map((s) => s.billing));
    // A record without billing is a prefix of the same layout: older records still decode.
    const old = encodeDecision(decision());
    expect(bytes.subarray(0, old.length).equals(old)).toBe(true);
  });

  it('records a decision without a policy as served by the greedy policy (the front predates the field)', () => {
    const d = decision();
    const { policy: _policy, ...noPolicy } = d;
    expect(decodeDecision(encodeDecision(noPolicy as DecisionRecord)).policy).toBe('ai');
  });

  it('refuses more than 255 shown offers and a truncated record', () => {
    const shown = Array.from({ length: 256 }, (_, i) => ({ offerId: `o${i}`, position: i + 1, p: 0, propensity: 1 }));
    expect(() => encodeDecision(decision({ shown }))).toThrow(/at most 255/);
    const bytes = encodeDecision(decision());
    expect(() => decodeDecision(bytes, bytes.length - 1)).toThrow(/truncated/);
    const wrong = Buffer.from(bytes);
    wrong[0] = 9;
    expect(() => decodeDecision(wrong)).toThrow(/format 9/);
  });
});

describe('event record', () => {
  it('round-trips, with and without value and currency', () => {
    const e = { tenant: 't', eventId: 'e1', decisionId: 'd1', offerId: 'fm-1', kind: 'conversion' as const, ts: 1_764_417_700_000, value: 19.99, currency: 'EUR' };
    const bytes = encodeEvent(e, 1_764_417_800_000);
    expect(decodeEvent('t', 'd1', 'e1', reused(bytes), bytes.length)).toEqual({ ...e, receivedAt: 1_764_417_800_000 });
    const plain = { tenant: 't', eventId: 'e2', decisionId: 'd1', offerId: 'fm-ü', kind: 'dismiss' as const, ts: 5 };
    const back = decodeEvent('t', 'd1', 'e2', encodeEvent(plain, 6));
    expect(back).toEqual({ ...plain, receivedAt: 6 });
    expect('value' in back || 'currency' in back).toBe(false);
    expect(decodeEventKindAndOffer(encodeEvent(plain, 6))).toEqual({ kind: 'dismiss', offerId: 'fm-ü' });
  });

  it('keeps a zero value (present) apart from no value', () => {
    const e = { tenant: 't', eventId: 'e', decisionId: 'd', offerId: 'o', kind: 'conversion' as const, ts: 1, value: 0 };
    expect(decodeEvent('t', 'd', 'e', encodeEvent(e, 2)).value).toBe(0);
  });
});

describe('example record', () => {
  it('round-trips, and keeps the decision time where retention reads it', () => {
    const x = {
      decisionId: 'd',
      tenant: 'freshmart',
      offerId: 'fm-1',
      catalogVersion: 12,
      modelVersion: 'tt-2',
      position: 3,
      propensity: 0.125,
      txnFeatures: features(),
      label: 1 as const,
      decidedAt: 1_764_417_600_123,
    };
    const bytes = encodeExample(x);
    expect(decodeExample(42, reused(bytes), bytes.length)).toEqual({ seq: 42, ...x });
    expect(bytes.readDoubleLE(EXAMPLE_DECIDED_AT)).toBe(x.decidedAt);
  });
});

describe('engagement flags', () => {
  it('sets one bit per kind on the offer it names, ignoring offers not shown', () => {
    const flags = engagementFlags(
      ['a', 'b', 'c'],
      [
        { kind: 'impression', offerId: 'a' },
        { kind: 'click', offerId: 'a' },
        { kind: 'dismiss', offerId: 'b' },
        { kind: 'conversion', offerId: 'z' },
      ],
    );
    expect(Array.from(flags)).toEqual([FLAG.impression | FLAG.click, FLAG.dismiss, 0]);
    expect(SEEN & FLAG.conversion).toBe(0);
  });
});

describe('bytes', () => {
  it('writes strings by their UTF-8 length and reads them back, growing past the scratch size', () => {
    const w = new ByteWriter();
    const long = 'é'.repeat(30_000); // 60,000 bytes
    w.str('abc');
    w.str(long);
    w.str(long); // past 64 KiB in all
    w.u32(7);
    const b = w.done();
    const r = new ByteReader(b);
    expect([r.str(), r.str(), r.str(), r.u32()]).toEqual(['abc', long, long, 7]);
    expect(r.pos).toBe(b.length);
  });

  it('refuses a string over 65,535 bytes', () => {
    expect(() => new ByteWriter().str('x'.repeat(65_536))).toThrow(/65535/);
  });
});
