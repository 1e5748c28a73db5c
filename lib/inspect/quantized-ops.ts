// Quantized ops seen as the float op they compute, so shapes and MACs of a quantized model are
// counted like those of the model it came from: MatMulInteger / QLinearMatMul as MatMul,
// ConvInteger / QLinearConv as Conv (their data and weight inputs sit at other positions).
import type { NodeProto } from '../onnx/gen/onnx_pb';

export interface FloatView {
  op: 'MatMul' | 'Conv';
  /** The data input and the weight input. */
  x: string;
  w: string;
}

const POSITIONS: Record<string, { op: FloatView['op']; x: number; w: number }> = {
  MatMul: { op: 'MatMul', x: 0, w: 1 },
  MatMulInteger: { op: 'MatMul', x: 0, w: 1 },
  QLinearMatMul: { op: 'MatMul', x: 0, w: 3 },
  Conv: { op: 'Conv', x: 0, w: 1 },
  ConvInteger: { op: 'Conv', x: 0, w: 1 },
  QLinearConv: { op: 'Conv', x: 0, w: 3 },
};

/** The float op a (quantized) MatMul or Conv node computes, with its inputs; undefined for other ops. */
export function floatView(node: NodeProto): FloatView | undefined {
  const at = node.domain === '' || node.domain === 'ai.onnx' ? POSITIONS[node.opType] : undefined;
  return at && { op: at.op, x: node.input[at.x] ?? '', w: node.input[at.w] ?? '' };
}
