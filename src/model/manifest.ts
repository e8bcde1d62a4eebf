/**
 * A model on disk is a directory: manifest.json, txn_tower.onnx and offer_tower.onnx (see docs/MODEL.md).
 *
 * The model is a two-tower network: p(engage | txn, offer) = sigmoid(u(txn) . e(offer) + b(offer)).
 * The offer side (e, b) depends only on the catalog, so it is computed once per (model, catalog) version;
 * per request only the transaction tower and one dot product per offer remain.
 *
 * ONNX signatures (float32):
 *   txn_tower.onnx    input "txn"   [batch, TXN_DIM]   -> output "u" [batch, embed]
 *   offer_tower.onnx  input "offer" [n, OFFER_DIM]     -> outputs "e" [n, embed], "b" [n, 1]
 */
export const MODEL_FORMAT = 'txrank.two-tower/1';

export interface ModelManifest {
  format: typeof MODEL_FORMAT;
  /** Unique, human-readable version, e.g. "tt-1-3f9a2c1d" (carried on every decision). */
  version: string;
  /** The version this one was trained from, or null for a model trained from scratch. */
  parent: string | null;
  /** Must equal FEATURE_SPEC_VERSION or the engine refuses the model. */
  featureSpecVersion: number;
  dims: { txn: number; offer: number; embed: number };
  files: { txnTower: string; offerTower: string };
  /** ISO-8601; for the shipped model a fixed value so rebuilding gives the same bytes. */
  createdAt: string;
  /** How it was trained: data source, seed, examples, epochs; free-form but JSON. */
  training: Record<string, unknown>;
  /** Held-out metrics at export: log loss, AUC, calibration. */
  metrics: Record<string, number>;
  /** sha256 of each ONNX file, checked at load. */
  sha256: { txnTower: string; offerTower: string };
}
