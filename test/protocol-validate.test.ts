import { describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { parseInbound } from '../src/protocol/validate.js';
import { EXAMPLE_DECIDE } from '../src/protocol/examples.js';
import { LIMITS } from '../src/protocol/messages.js';

const packr = new Packr({ useRecords: false });
const enc = (v: unknown) => packr.pack(v);
const clone = () => structuredClone(EXAMPLE_DECIDE) as unknown as Record<string, any>;

function expectError(frame: Uint8Array, code: string, id?: unknown, fieldHint?: string) {
  const r = parseInbound(frame, 65536);
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.code).toBe(code);
  expect(r.id).toEqual(id);
  if (fieldHint) expect(r.message).toContain(fieldHint);
}

describe('parseInbound', () => {
  it('accepts the documented example and returns it typed', () => {
    const r = parseInbound(enc(EXAMPLE_DECIDE), 65536);
    expect(r.ok).toBe(true);
    if (r.ok && r.msg.type === 'decide') expect(r.msg.txn.items[0].category).toBe('baby/diapers');
    else throw new Error('expected a decide');
  });

  it('accepts string ids and optional fields', () => {
    const m = clone();
    m.id = 'req-1';
    m.buyer = 'h:abc';
    m.deadline_ms = 25;
    m.txn.utc_offset_min = -300;
    m.txn.items[0].brand = 'Softies';
    expect(parseInbound(enc(m), 65536).ok).toBe(true);
  });

  it('refuses malformed MessagePack without an id', () => {
    expectError(Uint8Array.from([0xc1, 0x00]), 'malformed', undefined);
    expectError(Uint8Array.from([0x92]), 'malformed', undefined); // truncated array
  });

  it('refuses a non-map top level', () => {
    expectError(enc([1, 2, 3]), 'malformed', undefined);
    expectError(enc('decide'), 'malformed', undefined);
  });

  it('refuses oversized frames before decoding', () => {
    const r = parseInbound(new Uint8Array(70_000), 65536);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe('frame_too_large');
  });

  it('names the version and type problems with the id when readable', () => {
    const m = clone();
    m.v = 2;
    expectError(enc(m), 'unsupported_version', 42);
    const t = clone();
    t.type = 'purchase';
    expectError(enc(t), 'unknown_type', 42);
  });

  it('reports missing and mistyped fields with their path and the request id', () => {
    const a = clone();
    delete a.placement;
    expectError(enc(a), 'bad_request', 42, '/placement');
    const b = clone();
    b.k = 'three';
    expectError(enc(b), 'bad_request', 42, '/k');
    const c = clone();
    c.txn.items[0].quantity = 1.5;
    expectError(enc(c), 'bad_request', 42, '/txn/items/0/quantity');
  });

  it('refuses NaN, infinite and negative prices', () => {
    for (const bad of [NaN, Infinity, -1]) {
      const m = clone();
      m.txn.items[0].price = bad;
      expectError(enc(m), 'bad_request', 42, '/txn/items/0/price');
    }
  });

  it('refuses too many items and k out of range', () => {
    const m = clone();
    m.txn.items = Array.from({ length: LIMITS.maxItems + 1 }, () => EXAMPLE_DECIDE.txn.items[0]);
    expectError(enc(m), 'bad_request', 42, '/txn/items');
    const k = clone();
    k.k = LIMITS.maxK + 1;
    expectError(enc(k), 'bad_request', 42, '/k');
  });

  it('refuses an unsupported currency and a bad id', () => {
    const m = clone();
    m.txn.currency = 'XXX';
    expectError(enc(m), 'bad_request', 42, 'currency');
    const i = clone();
    i.id = -5;
    expectError(enc(i), 'bad_request', undefined, '/id');
  });
});

describe('parseInbound: event', () => {
  const event = { v: 1, type: 'event', id: 7, event_id: 'e-1', decision_id: 'd-1', offer_id: 'o-1', kind: 'click' };

  it('accepts an event and types it', () => {
    const r = parseInbound(enc({ ...event, ts: 1764417600000, value: 12.5, currency: 'USD' }), 65536);
    expect(r.ok).toBe(true);
    if (r.ok && r.msg.type === 'event') expect(r.msg.kind).toBe('click');
    else throw new Error('expected an event');
  });

  it('refuses an unknown kind and a missing decision id, with the request id', () => {
    expectError(enc({ ...event, kind: 'purchase' }), 'bad_request', 7, '/kind');
    const { decision_id: _d, ...noDecision } = event;
    expectError(enc(noDecision), 'bad_request', 7, '/decision_id');
    expectError(enc({ ...event, value: -1 }), 'bad_request', 7, '/value');
  });
});
