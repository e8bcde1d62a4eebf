/**
 * The selection stage of a decision: from the model's value of every offer of the tenant to the k offers
 * shown, their prices and their propensities. Replaces the plain top-k (src/ranking/top-k.ts) in the decide
 * path. Pure (everything it reads is passed in; randomness is injected) and allocation-free per call: the
 * scratch lives in the Selector, one per inference worker thread, used synchronously start to finish (never
 * across an await), so two tasks of the worker never share it mid-call.
 *
 * Semantics, in order:
 *
 * 1. Candidates. Effective value v = ev x mult (mult null = 1; the worker's per-row dynamic multiplier, e.g.
 *    cold-start boost or CVR correction), money per impression. Row i is a candidate when it is eligible
 *    (bit set), v > 0 and finite, p = ev / bidScale >= minRelevance (and >= 0), v x 1000 >= floorCpm (the
 *    floor is an eCPM), and its bid amount is > 0 and finite (a row that cannot be priced is never shown).
 *    NaN fails every one of these comparisons, so NaN rows are never candidates.
 * 2. Competitive exclusion. At most one offer per advertiser per answer, always: an advertiser is
 *    represented by its best candidate row only (ties: the lower row); its other rows neither show nor set
 *    prices (an advertiser never bids against itself). With categoryExclusivity, at most one offer per
 *    department (departmentOf) per answer, applied while filling slots.
 * 3. Order and the candidate list. v descending, ties by the lower row. Rows are offers sorted by offer id
 *    within the tenant, so the order is the same on every worker, replica and restart. The candidates are
 *    the best M advertiser-bests in this order: M = max(k + pool, 2k), doubled with categoryExclusivity
 *    (which rules candidates out as slots fill), capped at 64 (exploration.ts candidateLimit; pool counts
 *    only when epsilon > 0).
 * 4. Slot filling, j = 1..k, over the valid candidates (not chosen, and with categoryExclusivity not in a
 *    department already shown). epsilon = 0: the best. epsilon > 0: P = the best min(pool, remaining valid);
 *    with probability 1 - epsilon the best, else uniformly from P. The propensity of the chosen candidate is
 *    exact: (best ? 1 - epsilon : 0) + epsilon / |P| (1 when |P| = 1). It is per slot, conditional on the
 *    earlier slots; the probability of the whole answer is the product over its slots (exploration.ts).
 *    With categoryExclusivity, when every candidate of a full list is ruled out, the list is refreshed
 *    with the best M advertiser-bests still valid (a full pass over the rows; rare: it takes all M
 *    candidates crowded into the departments already shown), so a slot stays empty only when no valid
 *    offer exists at all. Without exclusivity M >= k + pool always leaves a full pool. So greedy answers
 *    are exactly "the best valid advertiser-best, slot by slot"; an exploring slot with exclusivity draws
 *    from the list it has, which may hold fewer than `pool` valid candidates although more exist beyond it
 *    (propensities are exact for what was done either way). Fewer than k offers when the valid candidates
 *    run out.
 * 5. Pricing, per chosen offer c in slot j, in the unit of c's bid (auction.ts). first: its bid. gsp:
 *    competitor = the highest v among the candidates not chosen in slots 1..j, or 0 when there is none;
 *    price = min(bid, max(floor, competitor) / q) with q = v_c / bid_c. With greedy order slot j is priced by
 *    slot j+1's value (or the first loser, or the floor), never below the floor and never above the bid.
 *    M > k, so the competitor is always within the list when one exists: it is exact over all
 *    advertiser-bests. The competitor counts candidates excluded by category exclusivity too (a deliberate
 *    choice): the price then depends only on the ranked candidates and the offers above, not on which
 *    departments the page happened to show, and is the same rule with or without exclusivity. The
 *    consequence: an offer placed below an excluded, more valuable offer pays up to its bid. An explored
 *    offer placed above a more valuable candidate likewise pays its bid (it did not out-bid anyone).
 *
 * The rules arm (the holdout baseline) calls the same selector with ev = its static values (bid eCPM under
 * the priors), mult null and epsilon 0: the same floors, exclusion and prices, ranked by bid.
 *
 * Cost. One O(n) pass keeps the best M advertiser-bests in a heap. Every row is first tested against the
 * current M-th best value (one compare, and most rows of a 10,000-row catalog fail it once the heap is
 * full); only rows above it are checked for eligibility and the other rules. A rejected row cannot be in
 * the final top M: M distinct advertisers are already strictly above it (rows are scanned in ascending
 * order, so an equal value loses the tie), and if its own advertiser is among them it is not that
 * advertiser's best anyway. bench/select.bench.ts measures it against top-k.
 */
import type { Placement } from '../catalog/types.js';
import { TxrankError } from '../errors/codes.js';
import { firstPrice, gspPrice } from './auction.js';
import { MAX_CANDIDATES, candidateLimit, drawSlot, explorationWidth, slotPropensity } from './exploration.js';

/** The placement settings selection uses; a catalog Placement fits as is. */
export type SelectionPlacement = Pick<Placement, 'floorCpm' | 'minRelevance' | 'pricing' | 'exploration' | 'categoryExclusivity'>;

export interface SelectorInput {
  /** Model expected values, money per impression: row i of this request is ev[offset + i]. */
  ev: Float32Array;
  offset: number;
  /** Rows of the tenant (its offers, in view order). */
  n: number;
  /** Per-row multiplier of ev (row-indexed, no offset); null = 1 for every row. */
  mult: Float32Array | null;
  /** Per row, > 0: p = ev / bidScale (src/ranking/bid-scale.ts). */
  bidScale: Float32Array;
  /** Per row, in the bid's own unit (per 1,000 impressions, per click or per conversion). */
  bidAmount: Float64Array;
  /** Row bitset (src/delivery/bitset.ts): bit i of word i >>> 5 set = row i eligible for this request. */
  eligible: Uint32Array;
  /** Per row, the advertiser's index in 0..advertiserCount-1. */
  advertiserOf: Int32Array;
  /** Per row, the department index (src/features/taxonomy.ts DEPARTMENTS); read with categoryExclusivity. */
  departmentOf: Uint8Array;
  advertiserCount: number;
  placement: SelectionPlacement;
  /** Offers wanted, already capped by the placement's slots. */
  k: number;
  /** Uniform in [0, 1); injected so that tests are deterministic. Not called when epsilon is 0. */
  random: () => number;
}

/** One shown offer. Objects of the caller's `out` array are overwritten in place. */
export interface Selected {
  row: number;
  /** Model expected value ev[offset + row], money per impression. */
  ev: number;
  /** Effective value v = ev x mult that ranked it. */
  value: number;
  /** ev / bidScale: predicted click probability. */
  p: number;
  /** In the unit of the offer's bid (Billing.price). */
  price: number;
  /** P(this offer in this slot | the slots before it); exact, in (0, 1]. */
  propensity: number;
}

/** A fresh, reusable output array for Selector.select (allocate once per worker). */
export function selectedBuffer(size: number): Selected[] {
  const out: Selected[] = new Array(size);
  for (let i = 0; i < size; i++) out[i] = { row: -1, ev: 0, value: 0, p: 0, price: 0, propensity: 0 };
  return out;
}

const NO_SLOT = -1;

export class Selector {
  // The kept candidates, best first: the original top-M list. Pricing always reads this one.
  private readonly candRow = new Int32Array(MAX_CANDIDATES);
  private readonly candV = new Float64Array(MAX_CANDIDATES);
  private readonly candAdv = new Int32Array(MAX_CANDIDATES);
  // The list slot filling works on: the original list, or a recomputed one (see refill).
  private readonly workRow = new Int32Array(MAX_CANDIDATES);
  private readonly workV = new Float64Array(MAX_CANDIDATES);
  private readonly workAdv = new Int32Array(MAX_CANDIDATES);
  /** 1 when the working list's entry is chosen. */
  private readonly taken = new Uint8Array(MAX_CANDIDATES);
  /** Indices into the working list of one slot's exploration pool P, best first. */
  private readonly poolIdx = new Int32Array(MAX_CANDIDATES);
  // Per slot (0-based): the chosen row, value, advertiser and propensity.
  private readonly slotRow = new Int32Array(MAX_CANDIDATES);
  private readonly slotV = new Float64Array(MAX_CANDIDATES);
  private readonly slotAdv = new Int32Array(MAX_CANDIDATES);
  private readonly slotProp = new Float64Array(MAX_CANDIDATES);
  /** Department d shown in this answer (categoryExclusivity). */
  private readonly deptUsed = new Uint8Array(256);
  /** Per advertiser: its position in the candidate buffer during the pass, its slot during pricing; -1
   * otherwise. All -1 between calls. */
  private posOf: Int32Array;
  // Per advertiser best row for the full pass of refill; valid where advStamp === stamp.
  private advBestRow: Int32Array;
  private advBestV: Float64Array;
  private advStamp: Uint32Array;
  private stamp = 0;

  /** `advertisers`: initial capacity; grows (allocating once) when a catalog has more. */
  constructor(advertisers = 1024) {
    const a = Math.max(1, advertisers);
    this.posOf = new Int32Array(a).fill(NO_SLOT);
    this.advBestRow = new Int32Array(a);
    this.advBestV = new Float64Array(a);
    this.advStamp = new Uint32Array(a);
  }

  /**
   * Fills out[0 .. count) with the chosen offers, slot 1 first, and returns count (<= k; fewer when the
   * candidates run out). `out` objects are reused; missing ones are created.
   */
  select(input: SelectorInput, out: Selected[]): number {
    const { placement } = input;
    if (input.advertiserCount > this.posOf.length) this.grow(input.advertiserCount);
    if (input.n > input.eligible.length * 32) {
      throw new TxrankError('internal', `selector: eligibility bitset of ${input.eligible.length} words for ${input.n} rows`);
    }
    // LIMITS.maxK is 20; the clamp keeps 2k <= M so the last slot's GSP competitor is always kept.
    const k = Math.min(Math.floor(input.k), MAX_CANDIDATES >> 1);
    if (!(k > 0) || input.n <= 0) return 0;
    const epsilon = placement.exploration.epsilon > 0 ? placement.exploration.epsilon : 0;
    const width = explorationWidth(epsilon, placement.exploration.pool);
    const limit = candidateLimit(k, width > 1 ? width : 0, placement.categoryExclusivity);

    const count = this.gather(input, limit);
    const filled = this.fill(input, k, count, limit, epsilon, width);
    this.price(input, filled, count, out);
    return filled;
  }

  /**
   * The O(n) pass: the best `limit` advertiser-bests into cand*, sorted best first. Returns how many.
   * During the pass cand* is a binary heap with the worst kept candidate at the root (lowest value, then
   * highest row), so the rejection threshold is candV[0] and a replacement costs O(log M), not O(M) shifts:
   * with 64 candidates and many advertisers, shifting a sorted array was the pass's main cost.
   */
  private gather(input: SelectorInput, limit: number): number {
    const { ev, offset, n, mult, eligible, advertiserOf, bidScale, bidAmount } = input;
    const floorCpm = input.placement.floorCpm;
    const minP = input.placement.minRelevance > 0 ? input.placement.minRelevance : 0;
    const { candRow, candV, candAdv, posOf } = this;
    let count = 0;
    // Rows not strictly above it are rejected with one compare: 0 until the buffer is full, then the
    // limit-th best value (an equal value loses to the earlier row already held).
    let threshold = 0;
    for (let i = 0; i < n; i++) {
      const e = ev[offset + i];
      const v = mult === null ? e : e * mult[i];
      if (!(v > threshold)) continue;
      if (((eligible[i >>> 5] >>> (i & 31)) & 1) === 0) continue;
      if (v === Infinity || v * 1000 < floorCpm) continue;
      if (!(e / bidScale[i] >= minP)) continue;
      const bid = bidAmount[i];
      if (!(bid > 0) || bid === Infinity) continue;
      const a = advertiserOf[i];
      const pos = posOf[a];
      if (pos >= 0) {
        // The advertiser is kept: a better row replaces its entry, which can only move away from the root.
        if (!(v > candV[pos])) continue; // its earlier row is at least as good
        candV[pos] = v;
        candRow[pos] = i;
        this.siftDown(pos, count);
      } else if (count < limit) {
        candV[count] = v;
        candRow[count] = i;
        candAdv[count] = a;
        posOf[a] = count;
        this.siftUp(count++);
      } else {
        // Full: the new advertiser-best replaces the worst kept one (v > threshold = the root's value).
        posOf[candAdv[0]] = NO_SLOT;
        candV[0] = v;
        candRow[0] = i;
        candAdv[0] = a;
        posOf[a] = 0;
        this.siftDown(0, count);
      }
      if (count === limit) threshold = candV[0];
    }
    for (let c = 0; c < count; c++) posOf[candAdv[c]] = NO_SLOT;
    // Heap order -> selection order (value descending, then row ascending); at most 64 entries.
    for (let c = 1; c < count; c++) {
      const v = candV[c];
      const row = candRow[c];
      const a = candAdv[c];
      let p = c;
      while (p > 0 && (candV[p - 1] < v || (candV[p - 1] === v && candRow[p - 1] > row))) {
        candV[p] = candV[p - 1];
        candRow[p] = candRow[p - 1];
        candAdv[p] = candAdv[p - 1];
        p--;
      }
      candV[p] = v;
      candRow[p] = row;
      candAdv[p] = a;
    }
    return count;
  }

  /**
   * Moves the entry at i towards the root while it is worse than its parent (lower value, or the same value
   * and a higher row). A hole moves instead of swapping, so each level costs one write per array.
   */
  private siftUp(i: number): void {
    const { candV, candRow, candAdv, posOf } = this;
    const v = candV[i];
    const row = candRow[i];
    const a = candAdv[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pv = candV[parent];
      if (!(v < pv || (v === pv && row > candRow[parent]))) break;
      candV[i] = pv;
      candRow[i] = candRow[parent];
      const b = candAdv[parent];
      candAdv[i] = b;
      posOf[b] = i;
      i = parent;
    }
    candV[i] = v;
    candRow[i] = row;
    candAdv[i] = a;
    posOf[a] = i;
  }

  /** Moves the entry at i away from the root while a child is worse than it. */
  private siftDown(i: number, count: number): void {
    const { candV, candRow, candAdv, posOf } = this;
    const v = candV[i];
    const row = candRow[i];
    const a = candAdv[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= count) break;
      const r = child + 1;
      if (r < count) {
        const lv = candV[child];
        const rv = candV[r];
        if (rv < lv || (rv === lv && candRow[r] > candRow[child])) child = r;
      }
      const cv = candV[child];
      if (!(cv < v || (cv === v && candRow[child] > row))) break;
      candV[i] = cv;
      candRow[i] = candRow[child];
      const b = candAdv[child];
      candAdv[i] = b;
      posOf[b] = i;
      i = child;
    }
    candV[i] = v;
    candRow[i] = row;
    candAdv[i] = a;
    posOf[a] = i;
  }

  /** Slot filling (semantics 4) into slot*. Returns the number of slots filled. */
  private fill(input: SelectorInput, k: number, count: number, limit: number, epsilon: number, width: number): number {
    const { candRow, candV, candAdv, workRow, workV, workAdv, taken, poolIdx, deptUsed, slotRow, slotV, slotAdv, slotProp } = this;
    const exclusive = input.placement.categoryExclusivity;
    const departmentOf = input.departmentOf;
    for (let c = 0; c < count; c++) {
      workRow[c] = candRow[c];
      workV[c] = candV[c];
      workAdv[c] = candAdv[c];
      taken[c] = 0;
    }
    let workCount = count;
    let bestsKnown = false; // advBest* hold this call's per-advertiser bests
    let filled = 0;
    for (let j = 0; j < k; j++) {
      let size = this.validPool(workCount, width, exclusive, departmentOf);
      // Exclusivity has ruled out every kept candidate, and the list was full: others may exist beyond it.
      if (size === 0 && exclusive && workCount === limit) {
        if (!bestsKnown) {
          this.perAdvertiserBest(input);
          bestsKnown = true;
        }
        workCount = this.refill(input, limit);
        taken.fill(0, 0, workCount);
        size = this.validPool(workCount, width, exclusive, departmentOf);
      }
      if (size === 0) break;
      const pick = drawSlot(epsilon, size, input.random);
      const c = poolIdx[pick];
      taken[c] = 1;
      slotRow[filled] = workRow[c];
      slotV[filled] = workV[c];
      slotAdv[filled] = workAdv[c];
      slotProp[filled] = slotPropensity(pick === 0, epsilon, size);
      if (exclusive) deptUsed[departmentOf[workRow[c]]] = 1;
      filled++;
    }
    if (exclusive) for (let s = 0; s < filled; s++) deptUsed[departmentOf[slotRow[s]]] = 0;
    return filled;
  }

  /** P of one slot into poolIdx: the best `width` valid entries of the working list. Returns |P|. */
  private validPool(workCount: number, width: number, exclusive: boolean, departmentOf: Uint8Array): number {
    const { taken, deptUsed, workRow, poolIdx } = this;
    let size = 0;
    for (let c = 0; c < workCount && size < width; c++) {
      if (taken[c] !== 0) continue;
      if (exclusive && deptUsed[departmentOf[workRow[c]]] !== 0) continue;
      poolIdx[size++] = c;
    }
    return size;
  }

  /** Every advertiser's best candidate row (semantics 1-3), over all rows: the full pass behind refill. */
  private perAdvertiserBest(input: SelectorInput): void {
    const { ev, offset, n, mult, eligible, advertiserOf, bidScale, bidAmount } = input;
    const floorCpm = input.placement.floorCpm;
    const minP = input.placement.minRelevance > 0 ? input.placement.minRelevance : 0;
    const { advBestRow, advBestV, advStamp } = this;
    this.stamp = (this.stamp + 1) >>> 0;
    if (this.stamp === 0) {
      advStamp.fill(0);
      this.stamp = 1;
    }
    const stamp = this.stamp;
    for (let i = 0; i < n; i++) {
      const e = ev[offset + i];
      const v = mult === null ? e : e * mult[i];
      if (!(v > 0) || v === Infinity || v * 1000 < floorCpm) continue;
      if (((eligible[i >>> 5] >>> (i & 31)) & 1) === 0) continue;
      if (!(e / bidScale[i] >= minP)) continue;
      const bid = bidAmount[i];
      if (!(bid > 0) || bid === Infinity) continue;
      const a = advertiserOf[i];
      if (advStamp[a] !== stamp || v > advBestV[a]) {
        advStamp[a] = stamp;
        advBestV[a] = v;
        advBestRow[a] = i;
      }
    }
  }

  /**
   * The working list becomes the best `limit` advertiser-bests that are still valid: not in a department
   * already shown (which also excludes the chosen advertisers: their departments are used). Returns its length.
   */
  private refill(input: SelectorInput, limit: number): number {
    const { advBestRow, advBestV, advStamp, workRow, workV, workAdv, deptUsed } = this;
    const departmentOf = input.departmentOf;
    const stamp = this.stamp;
    let count = 0;
    for (let a = 0; a < input.advertiserCount; a++) {
      if (advStamp[a] !== stamp) continue;
      const row = advBestRow[a];
      if (deptUsed[departmentOf[row]] !== 0) continue;
      const v = advBestV[a];
      if (count === limit && !(v > workV[limit - 1] || (v === workV[limit - 1] && row < workRow[limit - 1]))) continue;
      let pos = count < limit ? count++ : limit - 1;
      // Advertisers are visited in index order, not row order, so ties compare rows explicitly.
      while (pos > 0 && (workV[pos - 1] < v || (workV[pos - 1] === v && workRow[pos - 1] > row))) {
        workV[pos] = workV[pos - 1];
        workRow[pos] = workRow[pos - 1];
        workAdv[pos] = workAdv[pos - 1];
        pos--;
      }
      workV[pos] = v;
      workRow[pos] = row;
      workAdv[pos] = a;
    }
    return count;
  }

  /** Prices (semantics 5) and writes the answer. */
  private price(input: SelectorInput, filled: number, count: number, out: Selected[]): void {
    const { ev, offset, bidScale, bidAmount, placement } = input;
    const { candV, candAdv, slotRow, slotV, slotAdv, slotProp, posOf } = this;
    const gsp = placement.pricing === 'gsp';
    for (let s = 0; s < filled; s++) posOf[slotAdv[s]] = s;
    // The competitor of slot s is the first candidate of the original list not chosen in slots 0..s. The
    // list is a prefix of all advertiser-bests longer than k, so it always holds it when one exists.
    let first = 0;
    for (let s = 0; s < filled; s++) {
      const row = slotRow[s];
      const bid = bidAmount[row];
      let price: number;
      if (gsp) {
        while (first < count && posOf[candAdv[first]] !== NO_SLOT && posOf[candAdv[first]] <= s) first++;
        price = gspPrice(slotV[s], bid, first < count ? candV[first] : 0, placement.floorCpm);
      } else {
        price = firstPrice(bid);
      }
      let o = out[s];
      if (o === undefined) o = out[s] = { row: -1, ev: 0, value: 0, p: 0, price: 0, propensity: 0 };
      const e = ev[offset + row];
      o.row = row;
      o.ev = e;
      o.value = slotV[s];
      o.p = e / bidScale[row];
      o.price = price;
      o.propensity = slotProp[s];
    }
    for (let s = 0; s < filled; s++) posOf[slotAdv[s]] = NO_SLOT;
  }

  private grow(advertisers: number): void {
    this.posOf = new Int32Array(advertisers).fill(NO_SLOT);
    this.advBestRow = new Int32Array(advertisers);
    this.advBestV = new Float64Array(advertisers);
    this.advStamp = new Uint32Array(advertisers);
    this.stamp = 0;
  }
}
