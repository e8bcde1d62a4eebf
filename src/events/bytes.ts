/**
 * The byte-level helpers the record codecs share: little-endian numbers and u16-length-prefixed UTF-8
 * strings. Records are sized exactly before writing (one allocation, no growth), and read with explicit
 * bounds because lmdb-js's getBinaryFast hands back a reused buffer larger than the value (its `length`
 * property is set to the value's size; its real byteLength is not).
 */
import { TxrankError } from '../errors/codes.js';

/** Bytes a string takes in a record: a u16 length and its UTF-8. Throws for strings over 65,535 bytes. */
export function strSize(s: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  if (n > 0xffff) throw new TxrankError('internal', `a string of ${n} bytes does not fit a record field (65535 at most)`);
  return 2 + n;
}

export class ByteWriter {
  readonly buf: Buffer;
  pos = 0;

  constructor(size: number) {
    // allocUnsafe takes small buffers from Node's pool: no zeroing, no syscall. Every byte is written below.
    this.buf = Buffer.allocUnsafe(size);
  }

  u8(v: number): void {
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.buf.writeUInt16LE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }

  f64(v: number): void {
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  bytes(src: Uint8Array): void {
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  str(s: string): void {
    const n = this.buf.write(s, this.pos + 2, 'utf8');
    this.buf.writeUInt16LE(n, this.pos);
    this.pos += 2 + n;
  }

  /** The record; throws if the size computed beforehand was wrong (a codec bug, never data). */
  done(): Buffer {
    if (this.pos !== this.buf.length) throw new TxrankError('internal', `record size mismatch: wrote ${this.pos} of ${this.buf.length} bytes`);
    return this.buf;
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
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
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
