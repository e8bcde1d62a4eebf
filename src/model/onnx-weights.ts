/**
 * ONNX model -> two-tower weights: the inverse of onnx-export.ts. An online learner starts from the serving
 * model's exact weights this way (the manifest's version becomes the new model's parent), with no separate
 * checkpoint format to keep in step with the ONNX files.
 */
import { PARAM_NAMES, assertWeightShapes, type ParamName, type TwoTowerWeights } from '../learning/two-tower.js';
import type { LoadedModel } from './model-dir.js';
import { decodeModel, tensorDims, tensorFloats } from './onnx-util.js';

function initializers(bytes: Uint8Array, what: string): Map<string, { dims: number[]; values: Float32Array }> {
  const graph = decodeModel(bytes).graph;
  if (!graph) throw new Error(`${what} has no graph`);
  const out = new Map<string, { dims: number[]; values: Float32Array }>();
  for (const t of graph.initializer ?? []) out.set(t.name ?? '', { dims: tensorDims(t), values: tensorFloats(t) });
  return out;
}

/** The weights of a model written by writeModelDir. Throws if a tensor is missing or misshapen. */
export function weightsFromModel(model: LoadedModel): TwoTowerWeights {
  const all = new Map([...initializers(model.txnTower, 'txn tower'), ...initializers(model.offerTower, 'offer tower')]);
  const get = (name: ParamName): { dims: number[]; values: Float32Array } => {
    const t = all.get(name);
    if (!t) throw new Error(`model ${model.manifest.version}: initializer ${name} not found`);
    return t;
  };
  const [txn, hidden] = get('txnW1').dims;
  const [offer] = get('offerW1').dims;
  const embed = get('txnW2').dims[1];
  const w = { dims: { txn, offer, hidden, embed } } as TwoTowerWeights;
  for (const name of PARAM_NAMES) w[name] = get(name).values;
  assertWeightShapes(w);
  return w;
}
