// The op types static mode quantizes, by how their activations are treated.

/** Ops with a constant weight (and int32 bias): QLinearConv / QLinearMatMul / QGemm; MatMul also activation x activation. */
export const WEIGHTED_OPS = ['Conv', 'MatMul', 'Gemm'];
/** Elementwise ops of two inputs (a float constant operand is quantized too): QLinearAdd / QLinearMul. */
export const BINARY_OPS = ['Add', 'Mul'];
/** Ops of one activation with their own calibrated output scale (QLinearSigmoid, QLinearGlobalAveragePool, ...). */
export const UNARY_OPS = ['Sigmoid', 'HardSigmoid', 'HardSwish', 'Softmax', 'AveragePool', 'GlobalAveragePool'];
/** Ops that move or select values without computing new ones: their output keeps the input's scale. */
export const PASS_THROUGH_OPS = ['Reshape', 'Transpose', 'Flatten', 'Squeeze', 'Unsqueeze', 'MaxPool', 'Resize'];
/** Inputs and output share one scale. */
export const CONCAT_OPS = ['Concat'];
/** Clamping activations folded into the output range of the quantized op before them (never quantized alone). */
export const FOLDED_ACTIVATIONS = ['Relu', 'Clip'];

export const STATIC_OP_TYPES = [...WEIGHTED_OPS, ...BINARY_OPS, ...UNARY_OPS, ...PASS_THROUGH_OPS, ...CONCAT_OPS];
