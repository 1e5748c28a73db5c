// The one-layer onnxruntime graphs the kernel suites time our calls against, weights as initializers
// so that onnxruntime prepacks them once, as we do.
import * as ort from 'onnxruntime-node';
import { GraphBuilder, serializeModel } from '../lib/onnx';

/** One MatMulInteger node: A uint8 [m, k] (input), B int8 [k, n] and, when given, A's zero point as initializers. */
export function matmulIntegerGraph(b: Int8Array, k: number, n: number, aZeroPoint?: number): Uint8Array {
  const g = new GraphBuilder('matmul_integer');
  g.input('A', 'uint8', ['m', k]);
  g.initializer('B', b, [k, n], 'int8');
  const inputs = ['A', 'B'];
  if (aZeroPoint !== undefined) inputs.push(g.initializer('a_zero_point', Uint8Array.of(aZeroPoint), [], 'uint8'));
  g.node('MatMulInteger', inputs, ['Y']);
  g.output('Y', 'int32', ['m', n]);
  return serializeModel(g.build({ opset: 21 }));
}

/** The dynamic-quantized Linear layer as onnxruntime's quantizer writes it (per-column weight scales, optional bias). */
export function dynamicLinearGraph(b: Int8Array, k: number, n: number, scales: Float32Array, bias?: Float32Array): Uint8Array {
  const g = new GraphBuilder('dynamic_linear');
  g.input('x', 'float32', ['m', k]);
  g.initializer('W', b, [k, n], 'int8');
  g.initializer('W_scale', scales, [n], 'float32');
  g.node('DynamicQuantizeLinear', ['x'], ['x_q', 'x_scale', 'x_zero_point']);
  g.node('MatMulInteger', ['x_q', 'W', 'x_zero_point'], ['y_int']);
  g.node('Cast', ['y_int'], ['y_cast'], { to: 1 });
  g.node('Mul', ['x_scale', 'W_scale'], ['y_scale']);
  if (bias) {
    g.initializer('bias', bias, [n], 'float32');
    g.node('Mul', ['y_cast', 'y_scale'], ['y_unbiased']);
    g.node('Add', ['y_unbiased', 'bias'], ['y']);
  } else {
    g.node('Mul', ['y_cast', 'y_scale'], ['y']);
  }
  g.output('y', 'float32', ['m', n]);
  return serializeModel(g.build({ opset: 21 }));
}

/** One float32 MatMul x [m, k] · W [k, n]. */
export function matmulGraph(w: Float32Array, k: number, n: number): Uint8Array {
  const g = new GraphBuilder('matmul');
  g.input('x', 'float32', ['m', k]);
  g.initializer('W', w, [k, n], 'float32');
  g.node('MatMul', ['x', 'W'], ['y']);
  g.output('y', 'float32', ['m', n]);
  return serializeModel(g.build({ opset: 21 }));
}

/** One Gemm node as exporters write nn.Linear: x [m, k], W [n, k] with transB = 1, bias [n]. */
export function gemmGraph(wT: Float32Array, bias: Float32Array, k: number, n: number): Uint8Array {
  const g = new GraphBuilder('gemm');
  g.input('x', 'float32', ['m', k]);
  g.initializer('W', wT, [n, k], 'float32');
  g.initializer('bias', bias, [n], 'float32');
  g.node('Gemm', ['x', 'W', 'bias'], ['y'], { transB: 1 });
  g.output('y', 'float32', ['m', n]);
  return serializeModel(g.build({ opset: 21 }));
}

/** The options both sides of the kernel suites use: `threads` intra-op threads, one inter-op. */
export function kernelSessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionProviders: ['cpu'] };
}
