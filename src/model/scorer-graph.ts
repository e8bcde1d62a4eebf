/**
 * The scorer graph: one ONNX model per (model version, catalog partition) that takes transactions and
 * returns p and ev for every offer of the partition, so a request costs one session.run.
 *
 *   txn [batch, TXN_DIM] -> (txn tower nodes) -> u [batch, d]
 *   p  = Sigmoid(MatMul(u, Eᵀ [d, n]) + bias [n])      [batch, n]
 *   ev = p * bidScale [n]                               [batch, n]
 *
 * The offer side (E, bias, bidScale) depends only on the model and the catalog, so it is baked in as
 * initializers when a catalog is adopted instead of being fed on every call. Eᵀ is stored [d, n] so MatMul
 * streams it row by row (MLAS's preferred B layout) rather than transposing per call.
 */
import { TXN_DIM } from '../features/spec.js';
import { decodeModel, encodeModel, floatTensor, floatValueInfo, node, tensorDims, tensorFloats, type GraphProto, type NodeProto } from './onnx-util.js';

/** Tensor names copied from the txn tower get this prefix so they cannot clash with the scorer's own. */
const TOWER_PREFIX = 'txn_tower/';

export function buildScorerModel(
  txnTowerOnnx: Uint8Array,
  emb: Float32Array,
  bias: Float32Array,
  bidScale: Float32Array,
  n: number,
  d: number,
): Uint8Array {
  if (!Number.isInteger(n) || n < 1) throw new Error(`scorer graph needs at least one offer, got n = ${n}`);
  if (emb.length !== n * d) throw new Error(`emb has ${emb.length} values, expected n*d = ${n * d}`);
  if (bias.length !== n) throw new Error(`bias has ${bias.length} values, expected ${n}`);
  if (bidScale.length !== n) throw new Error(`bidScale has ${bidScale.length} values, expected ${n}`);

  const tower = decodeModel(txnTowerOnnx);
  if (!tower.graph) throw new Error('txn tower has no graph');
  const g = tower.graph as GraphProto;
  if (g.input.length !== 1 || g.input[0].name !== 'txn') throw new Error('txn tower must have the single input "txn"');
  if (g.output.length !== 1 || g.output[0].name !== 'u') throw new Error('txn tower must have the single output "u"');
  const outDims = g.output[0].type?.tensorType?.shape?.dim ?? [];
  const towerEmbed = outDims.length === 2 ? Number(outDims[1].dimValue) : NaN;
  if (towerEmbed !== d) throw new Error(`txn tower output u has embed ${towerEmbed}, the offer side has d = ${d}`);

  // Every tensor name except the graph input is renamed; "u" becomes an internal value of the scorer.
  const rename = (name: string): string => (name === 'txn' || name === '' ? name : TOWER_PREFIX + name);
  const towerNodes = (g.node as NodeProto[]).map((nd) => ({
    opType: nd.opType,
    domain: nd.domain,
    name: TOWER_PREFIX + nd.name,
    input: nd.input.map(rename),
    output: nd.output.map(rename),
    attribute: nd.attribute,
  }));
  // Re-encoded through tensorFloats so a tower written with floatData (other tools) works the same.
  const towerInits = g.initializer.map((t) => floatTensor(rename(t.name ?? ''), tensorDims(t), tensorFloats(t)));

  const u = rename('u');
  const embT = new Float32Array(d * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) embT[j * n + i] = emb[i * d + j];

  return encodeModel(
    {
      name: 'txrank_scorer',
      node: [
        ...towerNodes,
        node('MatMul', [u, 'offer_emb_t'], ['logit_dot'], 'scorer_matmul'),
        node('Add', ['logit_dot', 'offer_bias'], ['logit'], 'scorer_add_bias'),
        node('Sigmoid', ['logit'], ['p'], 'scorer_sigmoid'),
        node('Mul', ['p', 'bid_scale'], ['ev'], 'scorer_ev'),
      ],
      initializer: [
        ...towerInits,
        floatTensor('offer_emb_t', [d, n], embT),
        floatTensor('offer_bias', [n], bias),
        floatTensor('bid_scale', [n], bidScale),
      ],
      input: [floatValueInfo('txn', ['batch', TXN_DIM])],
      output: [floatValueInfo('p', ['batch', n]), floatValueInfo('ev', ['batch', n])],
    },
    'txrank scorer: txn tower + baked offer side',
  );
}
