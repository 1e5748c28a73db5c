// The concrete type and shape of every value of a graph, read from one onnxruntime run with every node
// output exposed. A training graph is built for one batch shape, so the gradient rules can use real
// sizes (broadcast axes, slice bounds, pooling windows) instead of symbolic shape arithmetic.
import * as ort from 'onnxruntime-node';
import { create } from '@bufbuild/protobuf';
import type { DTypeName } from '../onnx/dtype';
import { ValueInfoProtoSchema } from '../onnx/gen/onnx_pb';
import type { Model } from '../onnx/model';
import { serializeModel } from '../onnx/save';
import { decodeTensor, tensorDims } from '../onnx/tensor';
import { dtypeInfo } from '../onnx/dtype';
import { ortSessionOptions } from '../engine/ort-engine';

export interface ValueShape {
  dtype: DTypeName;
  dims: number[];
  /** Elements of small integer and bool tensors (shapes, axes, slice bounds, flags). */
  ints?: number[];
}

export type ValueShapes = Map<string, ValueShape>;

/** Integer tensors up to this many elements keep their values. */
const SMALL = 64;

const INTEGER_TYPES = new Set(['int64', 'int32', 'int16', 'int8', 'uint8', 'uint16', 'uint32', 'uint64', 'bool']);

function smallInts(dtype: string, data: ArrayLike<number | bigint>): number[] | undefined {
  if (!INTEGER_TYPES.has(dtype) || data.length > SMALL) return undefined;
  return Array.from(data, Number);
}

/** Shapes and types of the model's inputs (from `feeds`), initializers and node outputs. */
export async function probeValues(model: Model, feeds: Record<string, ort.Tensor>): Promise<ValueShapes> {
  const shapes: ValueShapes = new Map();
  for (const [name, t] of Object.entries(feeds)) shapes.set(name, { dtype: t.type as DTypeName, dims: [...t.dims], ints: smallInts(t.type, t.data as ArrayLike<number>) });
  for (const t of model.graph.initializer) {
    const dtype = dtypeInfo(t.dataType).name;
    const ints = INTEGER_TYPES.has(dtype) ? smallInts(dtype, decodeTensor(t, model.externalData).data as ArrayLike<number>) : undefined;
    shapes.set(t.name, { dtype, dims: tensorDims(t), ints });
  }
  const exposed = model.clone();
  const outputs = new Set(exposed.graph.output.map((o) => o.name));
  for (const node of exposed.graph.node) {
    for (const out of node.output) {
      if (out === '' || outputs.has(out)) continue;
      // No type: onnxruntime infers it, and a stated one could only disagree.
      exposed.graph.output.push(create(ValueInfoProtoSchema, { name: out }));
      outputs.add(out);
    }
  }
  const session = await ort.InferenceSession.create(serializeModel(exposed), { ...ortSessionOptions(), graphOptimizationLevel: 'disabled' });
  try {
    const inputNames = new Set(session.inputNames);
    const used = Object.fromEntries(Object.entries(feeds).filter(([name]) => inputNames.has(name)));
    const results = await session.run(used);
    for (const [name, t] of Object.entries(results)) {
      shapes.set(name, { dtype: t.type as DTypeName, dims: [...t.dims], ints: smallInts(t.type, t.data as ArrayLike<number>) });
    }
  } finally {
    await session.release();
  }
  return shapes;
}
