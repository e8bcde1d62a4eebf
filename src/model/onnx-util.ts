/**
 * Small builders over onnx-proto shared by the tower exporter and the scorer composer. Everything here is
 * deterministic: the same inputs produce the same protobuf bytes (no timestamps, no random names, fields
 * always set in the same order).
 */
import onnxProto from 'onnx-proto';
import { float32LE } from '../learning/two-tower.js';

export const onnx = onnxProto.onnx;

/** IR 8 and opset 13: what onnxruntime 1.30 loads and what onnx-proto 8.0.1 (onnx 1.10) can describe. */
export const IR_VERSION = 8;
export const OPSET = 13;
export const PRODUCER = 'txrank';

/** A symbolic or fixed dimension. */
export type Dim = string | number;

export function floatTensor(name: string, dims: readonly number[], values: Float32Array): onnxProto.onnx.ITensorProto {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (values.length !== expected) {
    throw new Error(`initializer ${name}: ${values.length} values for shape [${dims.join(', ')}]`);
  }
  return {
    name,
    dims: [...dims],
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: float32LE(values),
  };
}

export function floatValueInfo(name: string, shape: readonly Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  name: string,
  attributes: onnxProto.onnx.IAttributeProto[] = [],
): onnxProto.onnx.INodeProto {
  return { opType, input: inputs, output: outputs, name, attribute: attributes };
}

export function intAttr(name: string, value: number): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

/** Wraps a graph in a model, verifies it and encodes it. */
export function encodeModel(graph: onnxProto.onnx.IGraphProto, docString: string): Uint8Array {
  const model: onnxProto.onnx.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: PRODUCER,
    producerVersion: '1',
    docString,
    graph,
  };
  const err = onnx.ModelProto.verify(model);
  if (err) throw new Error(`invalid ONNX model: ${err}`);
  return onnx.ModelProto.encode(model).finish();
}

/** Decoded messages have every repeated field set (possibly empty), unlike the I* builder interfaces. */
export type GraphProto = onnxProto.onnx.GraphProto;
export type NodeProto = onnxProto.onnx.NodeProto;

export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

/** Float32 values of an initializer written by floatTensor (raw little-endian) or by other tools (floatData). */
export function tensorFloats(t: onnxProto.onnx.ITensorProto): Float32Array {
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) throw new Error(`initializer ${t.name} is not float32`);
  if (t.rawData && t.rawData.length > 0) {
    const raw = t.rawData;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(raw.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  return Float32Array.from(t.floatData ?? []);
}

export function tensorDims(t: onnxProto.onnx.ITensorProto): number[] {
  return (t.dims ?? []).map((d) => Number(d));
}
