// A compact table of ONNX operator schemas: the ops our passes emit and the ones common in exported
// models, with what a runtime checks before it runs anything (inputs, outputs, attributes). Not the
// whole ONNX spec: each op lists the version it first appeared in, the input and output counts and
// attributes allowed across all its versions (a union, so that no version's valid node is refused),
// and the attributes every version requires. Ops of the default domain not named here at all are
// unknown; OTHER_ONNX_OPS names real ONNX ops that are checked by version only.

export interface OpSchema {
  /** First default-domain opset (or domain version) that has the op. */
  since: number;
  inputs: [min: number, max: number];
  outputs: [min: number, max: number];
  /** Attribute names any version accepts; undefined: not checked. */
  attributes: readonly string[] | undefined;
  /** Attributes every version requires. */
  required: readonly string[];
}

/** The newest default-domain opset onnxruntime-node (1.30) loads. */
export const NEWEST_ONNX_OPSET = 26;

const ANY = Number.POSITIVE_INFINITY;

type Spec = [since: number, inputs: number | [number, number], outputs: number | [number, number], attributes?: string, required?: string];

function schema([since, inputs, outputs, attributes, required]: Spec): OpSchema {
  const range = (n: number | [number, number]): [number, number] => (typeof n === 'number' ? [n, n] : n);
  const words = (s: string | undefined) => (s ? s.split(' ') : []);
  return { since, inputs: range(inputs), outputs: range(outputs), attributes: attributes === '*' ? undefined : words(attributes), required: words(required) };
}

const CONV = 'auto_pad dilations group kernel_shape pads strides';
const REDUCE = 'axes keepdims noop_with_empty_axes';
const BROADCAST = 'axis broadcast consumed_inputs'; // opsets before 7 had explicit broadcasting
const RNN = 'activation_alpha activation_beta activations clip direction hidden_size layout';

const unary = (since: number, attributes = ''): Spec => [since, 1, 1, attributes];
const binary = (since: number, attributes = BROADCAST): Spec => [since, 2, 1, attributes];

const DEFAULT_DOMAIN: Record<string, Spec> = {
  // element-wise
  Abs: unary(1, 'consumed_inputs'), Acos: unary(7), Acosh: unary(9), Asin: unary(7), Asinh: unary(9), Atan: unary(7), Atanh: unary(9),
  Ceil: unary(1, 'consumed_inputs'), Cos: unary(7), Cosh: unary(9), Erf: unary(9), Exp: unary(1, 'consumed_inputs'),
  Floor: unary(1, 'consumed_inputs'), Identity: unary(1), IsNaN: unary(9), Log: unary(1, 'consumed_inputs'), Neg: unary(1, 'consumed_inputs'),
  Not: unary(1), Reciprocal: unary(1, 'consumed_inputs'), Relu: unary(1, 'consumed_inputs'), Round: unary(11),
  Sigmoid: unary(1, 'consumed_inputs'), Sign: unary(9), Sin: unary(7), Sinh: unary(9), Softsign: unary(1), Softplus: unary(1),
  Sqrt: unary(1, 'consumed_inputs'), Tan: unary(7), Tanh: unary(1, 'consumed_inputs'), Mish: unary(18), HardSwish: unary(14),
  BitwiseNot: unary(18), Elu: unary(1, 'alpha consumed_inputs'), Celu: unary(12, 'alpha'), Selu: unary(1, 'alpha gamma consumed_inputs'),
  LeakyRelu: unary(1, 'alpha consumed_inputs'), HardSigmoid: unary(1, 'alpha beta consumed_inputs'), ThresholdedRelu: unary(10, 'alpha'),
  Shrink: unary(9, 'bias lambd'), Gelu: unary(20, 'approximate'), IsInf: unary(10, 'detect_negative detect_positive'),
  Softmax: unary(1, 'axis'), LogSoftmax: unary(1, 'axis'), Hardmax: unary(1, 'axis'),
  Cast: [1, 1, 1, 'to saturate round_mode', 'to'], CastLike: [15, 2, 1, 'saturate round_mode'],
  Clip: [1, [1, 3], 1, 'min max consumed_inputs'], PRelu: binary(1, 'consumed_inputs'),
  Add: binary(1), Sub: binary(1), Mul: binary(1), Div: binary(1), Pow: binary(1), And: binary(1), Or: binary(1), Xor: binary(1),
  Equal: binary(1), Greater: binary(1), Less: binary(1), GreaterOrEqual: binary(12, ''), LessOrEqual: binary(12, ''),
  Mod: binary(10, 'fmod'), BitShift: [11, 2, 1, 'direction', 'direction'], BitwiseAnd: binary(18, ''), BitwiseOr: binary(18, ''), BitwiseXor: binary(18, ''),
  Max: [1, [1, ANY], 1, 'consumed_inputs'], Min: [1, [1, ANY], 1, 'consumed_inputs'], Sum: [1, [1, ANY], 1, 'consumed_inputs'], Mean: [1, [1, ANY], 1, 'consumed_inputs'],
  Where: [9, 3, 1],
  // linear algebra and convolution
  MatMul: [1, 2, 1], MatMulInteger: [10, [2, 4], 1], QLinearMatMul: [10, 8, 1],
  Gemm: [1, [2, 3], 1, 'alpha beta transA transB broadcast'], Einsum: [12, [1, ANY], 1, 'equation', 'equation'],
  Conv: [1, [2, 3], 1, CONV], ConvInteger: [10, [2, 4], 1, CONV], QLinearConv: [10, [8, 9], 1, CONV],
  ConvTranspose: [1, [2, 3], 1, `${CONV} output_padding output_shape`],
  AveragePool: [1, 1, 1, 'auto_pad ceil_mode count_include_pad dilations kernel_shape pads strides', 'kernel_shape'],
  MaxPool: [1, 1, [1, 2], 'auto_pad ceil_mode dilations kernel_shape pads storage_order strides', 'kernel_shape'],
  LpPool: [1, 1, 1, 'auto_pad ceil_mode dilations kernel_shape p pads strides'],
  GlobalAveragePool: unary(1), GlobalMaxPool: unary(1), GlobalLpPool: unary(1, 'p'),
  // normalization
  BatchNormalization: [1, 5, [1, 5], 'epsilon momentum spatial is_test consumed_inputs training_mode'],
  InstanceNormalization: [1, 3, 1, 'epsilon consumed_inputs'],
  // ONNX has it from opset 17; onnxruntime runs it at any opset (its optimizer writes it into older models)
  LayerNormalization: [1, [2, 3], [1, 3], 'axis epsilon stash_type'],
  GroupNormalization: [18, 3, 1, 'epsilon num_groups stash_type', 'num_groups'], RMSNormalization: [23, 2, 1, 'axis epsilon stash_type'],
  LpNormalization: unary(1, 'axis p'), MeanVarianceNormalization: unary(9, 'axes'), LRN: [1, 1, 1, 'alpha beta bias size', 'size'],
  Dropout: [1, [1, 3], [1, 2], 'ratio is_test seed consumed_inputs'],
  // shapes and indexing
  Flatten: unary(1, 'axis'), Reshape: [1, [1, 2], 1, 'shape consumed_inputs allowzero'], Transpose: unary(1, 'perm'),
  Squeeze: [1, [1, 2], 1, 'axes'], Unsqueeze: [1, [1, 2], 1, 'axes'], Concat: [1, [1, ANY], 1, 'axis'],
  Split: [1, [1, 2], [1, ANY], 'axis split num_outputs'], Slice: [1, [1, 5], 1, 'axes ends starts'],
  Gather: [1, 2, 1, 'axis'], GatherElements: [11, 2, 1, 'axis'], GatherND: [11, 2, 1, 'batch_dims'],
  Scatter: [9, 3, 1, 'axis'], ScatterElements: [11, 3, 1, 'axis reduction'], ScatterND: [11, 3, 1, 'reduction'],
  Shape: unary(1, 'end start'), Size: unary(1), Expand: [8, 2, 1], Tile: [1, [2, 3], 1],
  ConstantOfShape: unary(9, 'value'), Constant: [1, 0, 1, 'value sparse_value value_float value_floats value_int value_ints value_string value_strings'],
  Range: [11, 3, 1], Pad: [1, [1, 4], 1, 'mode pads value paddings'], NonZero: unary(9), Trilu: [14, [1, 2], 1, 'upper'],
  Resize: [10, [1, 4], 1, 'antialias axes coordinate_transformation_mode cubic_coeff_a exclude_outside extrapolation_value keep_aspect_ratio_policy mode nearest_mode'],
  Upsample: [1, [1, 2], 1, 'mode scales height_scale width_scale'], DepthToSpace: unary(1, 'blocksize mode'), SpaceToDepth: unary(1, 'blocksize'),
  OneHot: [9, 3, 1, 'axis'], Compress: [9, 2, 1, 'axis'], ReverseSequence: [10, 2, 1, 'batch_axis time_axis'], CumSum: [11, 2, 1, 'exclusive reverse'],
  TopK: [1, [1, 2], 2, 'axis k largest sorted'], Unique: [11, 1, [1, 4], 'axis sorted'], EyeLike: unary(9, 'dtype k'),
  ArgMax: unary(1, 'axis keepdims select_last_index'), ArgMin: unary(1, 'axis keepdims select_last_index'),
  ReduceMax: [1, [1, 2], 1, REDUCE], ReduceMin: [1, [1, 2], 1, REDUCE], ReduceMean: [1, [1, 2], 1, REDUCE], ReduceSum: [1, [1, 2], 1, REDUCE],
  ReduceProd: [1, [1, 2], 1, REDUCE], ReduceSumSquare: [1, [1, 2], 1, REDUCE], ReduceL1: [1, [1, 2], 1, REDUCE], ReduceL2: [1, [1, 2], 1, REDUCE],
  ReduceLogSum: [1, [1, 2], 1, REDUCE], ReduceLogSumExp: [1, [1, 2], 1, REDUCE],
  // quantization
  QuantizeLinear: [10, [2, 3], 1, 'axis saturate block_size output_dtype precision'], DequantizeLinear: [10, [2, 3], 1, 'axis block_size output_dtype'],
  DynamicQuantizeLinear: [11, 1, 3],
  // control flow and randomness
  If: [1, 1, [1, ANY], 'then_branch else_branch', 'then_branch else_branch'], Loop: [1, [2, ANY], [1, ANY], 'body', 'body'],
  Scan: [8, [1, ANY], [1, ANY], 'body num_scan_inputs directions scan_input_axes scan_input_directions scan_output_axes scan_output_directions', 'body num_scan_inputs'],
  RandomNormal: [1, 0, 1, 'dtype mean scale seed shape', 'shape'], RandomUniform: [1, 0, 1, 'dtype high low seed shape', 'shape'],
  RandomNormalLike: unary(1, 'dtype mean scale seed'), RandomUniformLike: unary(1, 'dtype high low seed'), Bernoulli: unary(15, 'dtype seed'),
  // sequence models and detection
  LSTM: [1, [3, 8], [0, 3], `${RNN} input_forget`], GRU: [1, [3, 6], [0, 2], `${RNN} linear_before_reset`], RNN: [1, [3, 6], [0, 2], RNN],
  Attention: [23, [3, 6], [1, 4], 'is_causal kv_num_heads q_num_heads qk_matmul_output_mode scale softcap softmax_precision'],
  NonMaxSuppression: [10, [2, 5], 1, 'center_point_box'],
  RoiAlign: [10, 3, 1, 'coordinate_transformation_mode mode output_height output_width sampling_ratio spatial_scale'],
};

/** Real ONNX ops (default domain) outside the table above: known to exist, checked only for their opset. */
const OTHER_ONNX_OPS: Record<string, number> = {
  AffineGrid: 20, BlackmanWindow: 17, Col2Im: 18, ConcatFromSequence: 11, DFT: 17, Det: 11, GridSample: 16, HammingWindow: 17,
  HannWindow: 17, ImageDecoder: 20, MaxRoiPool: 1, MaxUnpool: 9, MelWeightMatrix: 17, Multinomial: 7, NegativeLogLikelihoodLoss: 12,
  Optional: 15, OptionalGetElement: 15, OptionalHasElement: 15, RegexFullMatch: 20, STFT: 17, SequenceAt: 11, SequenceConstruct: 11,
  SequenceEmpty: 11, SequenceErase: 11, SequenceInsert: 11, SequenceLength: 11, SequenceMap: 17, SoftmaxCrossEntropyLoss: 12,
  SplitToSequence: 11, StringConcat: 20, StringNormalizer: 10, StringSplit: 20, TfIdfVectorizer: 9, CenterCropPad: 18, Swish: 24,
  TensorScatter: 24, RotaryEmbedding: 23,
  // experimental ops of early opsets that onnxruntime still runs, and its own SimplifiedLayerNormalization
  Affine: 1, Crop: 1, DynamicSlice: 1, GivenTensorFill: 1, ImageScaler: 1, ParametricSoftplus: 1, Scale: 1, ScaledTanh: 1,
  SimplifiedLayerNormalization: 1,
};

/** Ops of other domains that our passes emit (com.microsoft, domain version 1). */
const OTHER_DOMAINS: Record<string, Record<string, Spec>> = {
  'com.microsoft': {
    MatMulNBits: [1, [3, 6], 1, 'K N bits block_size accuracy_level', 'K N block_size'],
  },
};

const table = new Map<string, OpSchema>();
for (const [op, spec] of Object.entries(DEFAULT_DOMAIN)) table.set(`\0${op}`, schema(spec));
for (const [domain, ops] of Object.entries(OTHER_DOMAINS)) for (const [op, spec] of Object.entries(ops)) table.set(`${domain}\0${op}`, schema(spec));

/** The schema of `op` in `domain` ('' for the default one), or undefined when the table has none. */
export function opSchema(domain: string, op: string): OpSchema | undefined {
  return table.get(`${domain}\0${op}`);
}

/** The first opset of a real default-domain ONNX op that the table knows only by name. */
export function otherOnnxOpSince(op: string): number | undefined {
  return Object.hasOwn(OTHER_ONNX_OPS, op) ? OTHER_ONNX_OPS[op] : undefined;
}
