// float16 / bfloat16 -> float32, exactly: every 16-bit float tensor, value type and Cast target becomes
// float32. Lets a bfloat16 model run on onnxruntime's CPU provider (which has no bfloat16 kernels for
// MatMul, Add, Relu...) to check what the weight rounding cost.
import type { TensorProto } from '../onnx/gen/onnx_pb';
import { DataType } from '../onnx/dtype';
import { bfloat16ToFloat32, float16ToFloat32 } from '../onnx/float16';
import type { Model } from '../onnx/model';
import { makeTensor, tensorDims } from '../onnx/tensor';
import { removeRedundantCasts } from './cast-cleanup';
import { retargetDtypeAttribute } from './dtype-attributes';
import type { FloatReportBuilder } from './float-report';

const NARROW = [DataType.FLOAT16, DataType.BFLOAT16];

function widen(model: Model, tensor: TensorProto, report: FloatReportBuilder): TensorProto {
  const bits = model.tensorValues(tensor) as Uint16Array;
  const values = tensor.dataType === DataType.FLOAT16 ? float16ToFloat32(bits) : bfloat16ToFloat32(bits);
  report.tensor(values.length, 0, 0, bits.byteLength, values.byteLength);
  const wide = makeTensor(tensor.name, values, tensorDims(tensor));
  if (tensor.docString) wide.docString = tensor.docString;
  return wide;
}

/** Widen the model in place. */
export function upcastToFloat32(model: Model, report: FloatReportBuilder): void {
  const maybeWiden = (t: TensorProto): TensorProto => (NARROW.includes(t.dataType) ? widen(model, t, report) : t);
  for (const { graph } of model.graphs()) {
    graph.initializer.forEach((t, i) => (graph.initializer[i] = maybeWiden(t)));
    for (const s of graph.sparseInitializer) if (s.values) s.values = maybeWiden(s.values);
    for (const vi of [...graph.input, ...graph.output, ...graph.valueInfo]) {
      const type = vi.type?.value;
      if ((type?.case === 'tensorType' || type?.case === 'sparseTensorType') && NARROW.includes(type.value.elemType)) {
        type.value.elemType = DataType.FLOAT;
      }
    }
    for (const node of graph.node) {
      retargetDtypeAttribute(node, NARROW, DataType.FLOAT);
      for (const a of node.attribute) {
        if (a.t) a.t = maybeWiden(a.t);
        a.tensors = a.tensors.map(maybeWiden);
        if (a.sparseTensor?.values) a.sparseTensor.values = maybeWiden(a.sparseTensor.values);
      }
    }
  }
  model.invalidate();
  report.castsRemoved(removeRedundantCasts(model).length);
}
