/**
 * MessagePack on the wire: plain MessagePack that any client library reads (no records, no msgpackr
 * extensions), maps decoded as plain objects. docs/PROTOCOL.md shows the bytes these produce.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { OutboundMessage } from './messages.js';

const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** Encodes an answer. The returned buffer is owned by the caller (msgpackr reuses its internal buffer, so
 * this copies out of it: answers cross threads and must not alias the next encode). */
export function encodeMessage(msg: OutboundMessage): Uint8Array {
  const view = packr.pack(msg);
  return new Uint8Array(view);
}

/** Decodes one frame; throws on malformed input. Strings are copied, so nothing aliases the frame. */
export function decodeFrame(frame: Uint8Array): unknown {
  return unpackr.unpack(frame);
}
