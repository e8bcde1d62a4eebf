/**
 * The two request encodings the load generator speaks: txrank's MessagePack protocol (binary frames) and the
 * naive baseline's JSON mirror of it (text frames, same keys). Frames are built from per-transaction
 * templates so the generator spends its CPU on sending, not encoding: the id is the only per-request part.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { Transaction } from '../../src/protocol/messages.js';

export type WireFormat = 'msgpack' | 'json';

export interface RequestShape {
  tenant: string;
  placement: string;
  k: number;
}

/** What the generator needs from an answer. */
export interface ParsedAnswer {
  id: number | undefined;
  ok: boolean;
  /** Error code, or "decision". */
  code: string;
  serverUs: number | undefined;
  offers: number;
}

// Plain MessagePack, exactly as docs/PROTOCOL.md asks of a client.
const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** The id placeholder 0xffffffff encodes as uint32 (0xce + 4 bytes) at a fixed offset, patched per request. */
const ID_PLACEHOLDER = 0xffffffff;
/** 0x87 map header, "v" 1, "type" "decide", "id" -> the id's type byte is at 19. */
const ID_TYPE_OFFSET = 19;

export interface FrameFactory {
  readonly format: WireFormat;
  /** The frame for request `id` carrying transaction `txnIndex`. ids must be 0 .. 2^32-2. */
  frame(id: number, txnIndex: number): Buffer | string;
  parse(data: Buffer | string): ParsedAnswer;
}

function toAnswer(a: Record<string, unknown>): ParsedAnswer {
  const id = typeof a.id === 'number' ? a.id : undefined;
  if (a.type === 'decision') {
    return { id, ok: true, code: 'decision', serverUs: typeof a.server_us === 'number' ? a.server_us : undefined, offers: Array.isArray(a.offers) ? a.offers.length : 0 };
  }
  return { id, ok: false, code: typeof a.code === 'string' ? a.code : 'unknown_answer', serverUs: undefined, offers: 0 };
}

export function frameFactory(format: WireFormat, txns: readonly Transaction[], shape: RequestShape): FrameFactory {
  if (format === 'msgpack') {
    const templates = txns.map((txn) => {
      const t = Buffer.from(packr.pack({ v: 1, type: 'decide', id: ID_PLACEHOLDER, tenant: shape.tenant, placement: shape.placement, txn, k: shape.k }));
      if (t[ID_TYPE_OFFSET] !== 0xce || t.readUInt32BE(ID_TYPE_OFFSET + 1) !== ID_PLACEHOLDER) {
        throw new Error('msgpack template: the id is not where the load generator patches it');
      }
      return t;
    });
    return {
      format,
      frame(id, txnIndex) {
        const t = templates[txnIndex % templates.length];
        const f = Buffer.allocUnsafe(t.length);
        t.copy(f);
        f.writeUInt32BE(id, ID_TYPE_OFFSET + 1);
        return f;
      },
      parse(data) {
        return toAnswer(unpackr.unpack(data as Buffer) as Record<string, unknown>);
      },
    };
  }
  const tails = txns.map((txn) => ',' + JSON.stringify({ tenant: shape.tenant, placement: shape.placement, txn, k: shape.k }).slice(1));
  return {
    format,
    frame(id, txnIndex) {
      return '{"v":1,"type":"decide","id":' + id + tails[txnIndex % tails.length];
    },
    parse(data) {
      return toAnswer(JSON.parse(typeof data === 'string' ? data : data.toString('utf8')) as Record<string, unknown>);
    },
  };
}
