/**
 * The two-tower interaction in plain JS: p = sigmoid(u · e_i + b_i), ev = p × bidScale_i for every offer i.
 * Kept for the benchmark that compares it with the composed ONNX scorer (bench/scorer.bench.ts) and as the
 * fallback design if ONNX Runtime ever loses that comparison; the serving Scorer does not use it.
 */
export function interact(
  u: Float32Array,
  batch: number,
  emb: Float32Array,
  bias: Float32Array,
  bidScale: Float32Array,
  n: number,
  d: number,
  pOut: Float32Array,
  evOut: Float32Array,
): void {
  for (let r = 0; r < batch; r++) {
    const uo = r * d;
    const ro = r * n;
    for (let i = 0; i < n; i++) {
      const eo = i * d;
      let z = bias[i];
      for (let j = 0; j < d; j++) z += u[uo + j] * emb[eo + j];
      const p = 1 / (1 + Math.exp(-z));
      pOut[ro + i] = p;
      evOut[ro + i] = p * bidScale[i];
    }
  }
}
