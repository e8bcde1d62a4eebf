/**
 * Top-k selection over one row of expected values: O(n) with a k-slot insertion buffer, no sort of the whole
 * catalog and no allocation beyond the caller's buffer. Runs once per decision over every eligible offer, so
 * it is kept branch-light.
 *
 * Order: higher ev first; equal ev broken by the lower row index. Rows are offers sorted by (tenant, offer
 * id), so ties resolve to the smaller offer id: deterministic across workers, restarts and replicas.
 */

/** Eligibility of row i at time `now`, for the rows of one tenant. Built once per catalog version. */
export interface EligibilityColumns {
  /** 1 when the offer's status is active. */
  active: Uint8Array;
  /** Flight bounds, ms since epoch: eligible when start <= now < end. */
  start: Float64Array;
  end: Float64Array;
}

/**
 * Writes the indices of the k best eligible rows of `ev[offset .. offset+n)` into `out` (best first) and
 * returns how many were found (< k when fewer rows are eligible). Rows with ev that is not > 0 (including
 * NaN) are never chosen: an offer worth nothing is not shown.
 */
export function topK(
  ev: Float32Array,
  offset: number,
  n: number,
  elig: EligibilityColumns,
  now: number,
  k: number,
  out: Int32Array,
  outEv: Float64Array,
): number {
  let found = 0;
  // The k-th best so far (0 until k rows are found); rows not above it are rejected with one compare, which
  // is most rows. Strictly above: a row equal to the k-th loses to the earlier row already held.
  let floor = 0;
  const { active, start, end } = elig;
  for (let i = 0; i < n; i++) {
    const v = ev[offset + i];
    if (!(v > floor)) continue;
    if (active[i] === 0 || now < start[i] || now >= end[i]) continue;
    // Insert, keeping out[0..found) sorted by ev descending; equal ev keeps the earlier (smaller) row first.
    let j = found < k ? found++ : k - 1;
    while (j > 0 && outEv[j - 1] < v) {
      out[j] = out[j - 1];
      outEv[j] = outEv[j - 1];
      j--;
    }
    out[j] = i;
    outEv[j] = v;
    if (found === k) floor = outEv[k - 1];
  }
  return found;
}
