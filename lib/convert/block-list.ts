// Which operators a float32 -> float16/bfloat16 conversion leaves in float32, and which inputs and
// outputs are float32 by the operator's signature whatever the node's precision.
import type { LowFloat } from './narrow-floats';
import { FLOAT_SUPPORT, type FloatSupportEntry } from './onnx-float-support';

/**
 * Numerically fragile in 16-bit floats (the float32 list of mixed-precision training, in ONNX terms):
 * exponentials, logarithms and powers overflow or lose range; long reductions and normalizations
 * accumulate rounding error or overflow (BatchNormalization's running variance often exceeds 65504; a LayerNorm spelled ReduceMean(Pow(x - mean, 2)) squares
 * activations past it); Range counts past 2048; RoiAlign needs float32 coordinates; random ops
 * lose their distribution's tails. Kept in float32 with Casts around them unless `defaultBlockList: false`.
 */
export const DEFAULT_BLOCKED_OPS: readonly string[] = [
  'Exp', 'Log', 'Pow', 'Reciprocal', 'Softplus', 'Sinh', 'Cosh', 'Tan', 'Asin', 'Acos', 'Atan', 'Asinh', 'Acosh', 'Atanh',
  'Softmax', 'LogSoftmax', 'BatchNormalization', 'InstanceNormalization', 'LayerNormalization', 'GroupNormalization', 'RMSNormalization', 'LpNormalization',
  'ReduceMean', 'ReduceSum', 'ReduceSumSquare', 'ReduceProd', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceL1', 'ReduceL2',
  'CumSum', 'Range', 'RoiAlign',
  'RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Bernoulli', 'Multinomial',
];

/** Operators on sequences and optionals, whose element types this pass does not track: always kept. */
export const NON_TENSOR_OPS: ReadonlySet<string> = new Set([
  'SequenceConstruct', 'SequenceInsert', 'SequenceAt', 'SequenceErase', 'SplitToSequence', 'ConcatFromSequence',
  'SequenceEmpty', 'SequenceLength', 'SequenceMap', 'Optional', 'OptionalGetElement', 'OptionalHasElement',
]);

/** Only the default ONNX domain has signatures we know; other domains' ops stay float32. */
export function isDefaultDomain(domain: string): boolean {
  return domain === '' || domain === 'ai.onnx';
}

/** Outputs typed by an attribute rather than by the inputs (LayerNormalization's mean and inverse std). */
const FLOAT32_OUTPUTS: Record<string, readonly number[]> = { LayerNormalization: [1, 2] };

/** What the ONNX schema of `opType` at this opset says about 16-bit floats (undefined: not a float op we know). */
export function schemaFloatSupport(opType: string, opset: number): { admits: (dtype: LowFloat) => boolean; float32Inputs: readonly number[] } | undefined {
  const versions = FLOAT_SUPPORT[opType];
  if (!versions) return undefined;
  let entry: FloatSupportEntry | undefined;
  for (const v of versions) if (v[0] <= opset) entry = v;
  if (!entry) return undefined;
  const [, flags, float32Inputs = []] = entry;
  return { admits: (dtype) => (flags & (dtype === 'float16' ? 1 : 2)) !== 0, float32Inputs };
}

/** The first opset at which `opType`'s data type constraint admits `dtype`. */
export function firstOpsetAdmitting(opType: string, dtype: LowFloat): number | undefined {
  return FLOAT_SUPPORT[opType]?.find(([, flags]) => (flags & (dtype === 'float16' ? 1 : 2)) !== 0)?.[0];
}

export function isFloat32Output(opType: string, index: number): boolean {
  return FLOAT32_OUTPUTS[opType]?.includes(index) ?? false;
}

/** Inputs whose element type does not matter to the op (it reads only the shape, or casts anyway). */
export function acceptsAnyFloat(opType: string, index: number): boolean {
  return opType === 'Shape' || opType === 'Size' || opType === 'Cast' || (opType === 'CastLike' && index === 0);
}
