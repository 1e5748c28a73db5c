// The one table of gradient rules, by op type (default ONNX domain). An op missing here is named
// before training whenever a value the loss depends on passes through it.
import { conv } from './conv';
import {
  add, cast, clip, div, dropout, erf, exp, hardSigmoid, hardSwish, identity, log, mul, neg, pow, relu, sigmoid, sqrt, sub, sum, tanh, where,
} from './elementwise';
import { gemm, matmul } from './matmul';
import { layerNormalization, logSoftmax, softmax } from './normalization';
import { averagePool, maxPool } from './pool';
import { globalAveragePool, reduceMean, reduceSum } from './reduce';
import type { GradientRule } from './rule';
import { concat, expand, gather, reshapeLike, slice, split, transpose } from './shape';

export const GRADIENT_RULES: Readonly<Record<string, GradientRule>> = {
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Sum: sum,
  Pow: pow,
  Neg: neg,
  Sqrt: sqrt,
  Exp: exp,
  Log: log,
  Erf: erf,
  Tanh: tanh,
  Relu: relu,
  Sigmoid: sigmoid,
  Clip: clip,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Identity: identity,
  Cast: cast,
  Dropout: dropout,
  Where: where,
  MatMul: matmul,
  Gemm: gemm,
  Softmax: softmax,
  LogSoftmax: logSoftmax,
  LayerNormalization: layerNormalization,
  ReduceSum: reduceSum,
  ReduceMean: reduceMean,
  GlobalAveragePool: globalAveragePool,
  Reshape: reshapeLike,
  Flatten: reshapeLike,
  Squeeze: reshapeLike,
  Unsqueeze: reshapeLike,
  Transpose: transpose,
  Expand: expand,
  Concat: concat,
  Split: split,
  Slice: slice,
  Gather: gather,
  Conv: conv,
  MaxPool: maxPool,
  AveragePool: averagePool,
};

/** The rule for a node, when its op has one. */
export function ruleFor(opType: string, domain: string): GradientRule | undefined {
  return domain === '' || domain === 'ai.onnx' ? GRADIENT_RULES[opType] : undefined;
}
