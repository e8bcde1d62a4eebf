/**
 * Row bitsets over a tenant's offers: bit i of word i >>> 5 is row i (offers[i] of the tenant's view). A
 * Uint32Array of wordsFor(n) words; bits past n in the last word are always 0, so count() and the word-wise
 * AND/OR need no tail mask. Eligibility (eligibility-index.ts) and the rules that veto rows after it
 * (frequency caps, budgets, competitive exclusion) share this one representation.
 */

/** Words needed for n rows. */
export function wordsFor(n: number): number {
  return (n + 31) >>> 5;
}

export function has(bits: Uint32Array, row: number): boolean {
  return ((bits[row >>> 5] >>> (row & 31)) & 1) === 1;
}

export function setRow(bits: Uint32Array, row: number): void {
  bits[row >>> 5] |= 1 << (row & 31);
}

export function clearRow(bits: Uint32Array, row: number): void {
  bits[row >>> 5] &= ~(1 << (row & 31));
}

/** Clears every row listed (e.g. the offers of a capped campaign, offersOfCampaign()). */
export function clearRows(bits: Uint32Array, rows: Int32Array): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    bits[r >>> 5] &= ~(1 << (r & 31));
  }
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Number of rows set. */
export function count(bits: Uint32Array): number {
  let c = 0;
  for (let w = 0; w < bits.length; w++) if (bits[w] !== 0) c += popcount32(bits[w]);
  return c;
}

/** The first set row >= from, or -1. Iterate with `for (let r = nextSet(b, 0); r >= 0; r = nextSet(b, r + 1))`. */
export function nextSet(bits: Uint32Array, from: number): number {
  let w = from >>> 5;
  if (w >= bits.length) return -1;
  let word = bits[w] & (0xffffffff << (from & 31));
  for (;;) {
    if (word !== 0) return (w << 5) + (31 - Math.clz32(word & -word));
    if (++w >= bits.length) return -1;
    word = bits[w];
  }
}

/** dst |= src, word by word (same length). */
export function orInto(dst: Uint32Array, src: Uint32Array): void {
  for (let w = 0; w < dst.length; w++) dst[w] |= src[w];
}

/** dst &= src. */
export function andInto(dst: Uint32Array, src: Uint32Array): void {
  for (let w = 0; w < dst.length; w++) dst[w] &= src[w];
}

/** The set rows, ascending (tests and diagnostics; allocates). */
export function rowsOf(bits: Uint32Array): number[] {
  const rows: number[] = [];
  for (let r = nextSet(bits, 0); r >= 0; r = nextSet(bits, r + 1)) rows.push(r);
  return rows;
}
