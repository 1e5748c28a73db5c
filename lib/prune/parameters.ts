// Parameter totals: elements of every initializer and Constant tensor (subgraphs included), and how many are non-zero.
import { dtypeInfo, isKnownDataType } from '../onnx/dtype';
import type { TensorProto } from '../onnx/gen/onnx_pb';
import type { Model } from '../onnx/model';
import { elementCount, tensorDims, tensorValues } from '../onnx/tensor';

function nonzeroCount(model: Model, t: TensorProto, count: number): number {
  const info = isKnownDataType(t.dataType) ? dtypeInfo(t.dataType) : undefined;
  if (!info || info.name === 'string' || info.bits < 8 || info.lanes !== 1) return count;
  const data = tensorValues(t, model.externalData);
  if (Array.isArray(data)) return count;
  // Float16/bfloat16 zeros are +0 and -0 in their bit patterns.
  const halfFloat = info.name === 'float16' || info.name === 'bfloat16';
  let zeros = 0;
  if (halfFloat) for (let i = 0; i < data.length; i++) zeros += ((data[i] as number) & 0x7fff) === 0 ? 1 : 0;
  else for (let i = 0; i < data.length; i++) zeros += data[i] == 0 ? 1 : 0;
  return count - zeros;
}

export function countParameters(model: Model): { count: number; nonzero: number } {
  let count = 0;
  let nonzero = 0;
  for (const { graph } of model.graphs()) {
    const tensors = [
      ...graph.initializer,
      ...graph.node.filter((n) => n.opType === 'Constant').flatMap((n) => n.attribute.filter((a) => a.name === 'value' && a.t).map((a) => a.t as TensorProto)),
    ];
    for (const t of tensors) {
      const n = elementCount(tensorDims(t));
      count += n;
      nonzero += nonzeroCount(model, t, n);
    }
  }
  return { count, nonzero };
}
