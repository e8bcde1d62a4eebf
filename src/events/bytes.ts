/**
 * The byte-level helpers the record codecs share: little-endian numbers and u16-length-prefixed UTF-8
 * strings. Records are read with explicit bounds because lmdb-js's getBinaryFast hands back a reused buffer larger than the value (its `length`
 * property is set to the value's size; its real byteLength is not).
 */
import { TxrankError } from '../errors/codes.js';

/**
 * Writes a record into a shared scratch buffer and copies it out at done(): one exact allocation per record
 * and no sizing pass over the strings. Encoders run synchronously and never interleave, so one scratch per
 * thread is safe. ASCII strings (ids, versions: nearly all of them) are copied byte by byte, which is about
 * twice as fast as Buffer#write for strings this short.
 */
let scratch = Buffer.allocUnsafe(1 << 16);

export class ByteWriter {
  pos = 0;

  u8(v: number): void {
    this.#room(1);
    scratch[this.pos++] = v;
  }

  u16(v: number): void {
    this.#room(2);
    scratch.writeUInt16LE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.#room(4);
    scratch.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }

  f64(v: number): void {
    this.#room(8);
    scratch.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  bytes(src: Uint8Array): void {
    this.#room(src.length);
    scratch.set(src, this.pos);
    this.pos += src.length;
  }

  /** A u16 byte length, then the UTF-8. Throws for strings over 65,535 bytes. */
  str(s: string): void {
    const len = s.length;
    this.#room(2 + 3 * len);
    const at = this.pos + 2;
    let n = 0;
    for (; n < len; n++) {
      const c = s.charCodeAt(n);
      if (c > 0x7f) break;
      scratch[at + n] = c;
    }
    if (n < len) n = scratch.write(s, at, 'utf8');
    if (n > 0xffff) throw new TxrankError('internal', `a string of ${n} bytes does not fit a record field (65535 at most)`);
    scratch.writeUInt16LE(n, this.pos);
    this.pos = at + n;
  }

  /** The record, copied out of the scratch buffer. */
  done(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    scratch.copy(out, 0, 0, this.pos);
    return out;
  }

  #room(n: number): void {
    if (this.pos + n <= scratch.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(scratch.length * 2, this.pos + n));
    scratch.copy(bigger, 0, 0, this.pos);
    scratch = bigger;
  }
}

export class ByteReader {
  pos: number;
  readonly end: number;

  constructor(readonly buf: Buffer, pos = 0, end = buf.length) {
    this.pos = pos;
    this.end = end;
  }

  u8(): number {
    this.#need(1);
    return this.buf[this.pos++];
  }

  u16(): number {
    this.#need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.#need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.#need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  str(): string {
    const n = this.u16();
    this.#need(n);
    const start = this.pos;
    this.pos += n;
    // Ids, tenants and placements are short ASCII: building them from char codes skips Buffer.toString's
    // argument checks, which were most of the cost of decoding a cached decision head (ingest's hot path).
    if (n <= 48) {
      const buf = this.buf;
      let s = '';
      for (let i = start; i < start + n; i++) {
        const c = buf[i];
        if (c > 0x7f) return buf.toString('utf8', start, start + n);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return this.buf.toString('utf8', start, start + n);
  }

  skipStr(): void {
    const n = this.u16();
    this.#need(n);
    this.pos += n;
  }

  /** A copy of the next n bytes as float32s (the source may be unaligned and is reused by lmdb-js). */
  f32s(count: number): Float32Array {
    const n = count * 4;
    this.#need(n);
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  #need(n: number): void {
    if (this.pos + n > this.end) throw new TxrankError('internal', `truncated record: need ${n} bytes at ${this.pos} of ${this.end}`);
  }
}
