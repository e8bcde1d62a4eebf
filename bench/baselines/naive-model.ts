/**
 * The naive baseline's model: the shipped two-tower weights as ONE per-candidate ONNX graph, the way a team
 * without the two-tower precomputation would serve it. Input: one row per (transaction, offer) candidate,
 * [n, TXN_DIM + OFFER_DIM] (the transaction's features followed by the offer's). Both towers run on every
 * row, then the dot product, the bias head and the sigmoid:
 *
 *   x [n, 84] -> Slice [:, 0:37]  -> Gemm -> Relu -> Gemm -> u [n, 16]
 *             -> Slice [:, 37:84] -> Gemm -> Relu -> Gemm -> e [n, 16]
 *                                 -> Gemm -------------------> b [n, 1]
 *   p = Sigmoid(ReduceSum(u * e, axis 1, keepdims) + b)          [n, 1]
 *
 * Same weights (weightsFromModel), same operators as the engine's towers, so p equals the engine's p to
 * float32 rounding (test/bench-baseline.test.ts checks it).
 */
import { OFFER_DIM, TXN_DIM } from '../../src/features/spec.js';
import { paramShape, type ParamName, type TwoTowerWeights } from '../../src/learning/two-tower.js';
import { encodeModel, floatTensor, floatValueInfo, intAttr, node, onnx } from '../../src/model/onnx-util.js';

function int64Tensor(name: string, values: number[]): ReturnType<typeof floatTensor> {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: raw };
}

export const NAIVE_ROW = TXN_DIM + OFFER_DIM;

export function buildPerCandidateModel(w: TwoTowerWeights): Uint8Array {
  if (w.dims.txn !== TXN_DIM || w.dims.offer !== OFFER_DIM) throw new Error('weights do not match the feature spec');
  const t = (name: ParamName): ReturnType<typeof floatTensor> => floatTensor(name, paramShape(w.dims, name), w[name]);
  return encodeModel(
    {
      name: 'naive_per_candidate',
      node: [
        node('Slice', ['x', 'txn_start', 'txn_end', 'axis1'], ['txn'], 'slice_txn'),
        node('Slice', ['x', 'offer_start', 'offer_end', 'axis1'], ['offer'], 'slice_offer'),
        node('Gemm', ['txn', 'txnW1', 'txnB1'], ['txn_h1_pre'], 'txn_gemm1'),
        node('Relu', ['txn_h1_pre'], ['txn_h1'], 'txn_relu1'),
        node('Gemm', ['txn_h1', 'txnW2', 'txnB2'], ['u'], 'txn_gemm2'),
        node('Gemm', ['offer', 'offerW1', 'offerB1'], ['offer_h1_pre'], 'offer_gemm1'),
        node('Relu', ['offer_h1_pre'], ['offer_h1'], 'offer_relu1'),
        node('Gemm', ['offer_h1', 'offerW2', 'offerB2'], ['e'], 'offer_gemm2'),
        node('Gemm', ['offer', 'biasW', 'biasB'], ['b'], 'offer_bias', [intAttr('transB', 0)]),
        node('Mul', ['u', 'e'], ['ue'], 'dot_mul'),
        node('ReduceSum', ['ue', 'axis1'], ['dot'], 'dot_sum', [intAttr('keepdims', 1)]),
        node('Add', ['dot', 'b'], ['logit'], 'add_bias'),
        node('Sigmoid', ['logit'], ['p'], 'sigmoid'),
      ],
      initializer: [
        int64Tensor('txn_start', [0]),
        int64Tensor('txn_end', [TXN_DIM]),
        int64Tensor('offer_start', [TXN_DIM]),
        int64Tensor('offer_end', [NAIVE_ROW]),
        int64Tensor('axis1', [1]),
        t('txnW1'), t('txnB1'), t('txnW2'), t('txnB2'),
        t('offerW1'), t('offerB1'), t('offerW2'), t('offerB2'),
        t('biasW'), t('biasB'),
      ],
      input: [floatValueInfo('x', ['n', NAIVE_ROW])],
      output: [floatValueInfo('p', ['n', 1])],
    },
    'naive baseline: both towers per candidate row',
  );
}
