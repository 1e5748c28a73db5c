// What `quantize` accepts, and the defaults each mode fills in.
import type { Feeds } from '../engine/tensor';
import type { EngineOptions } from '../engine/engine';
import type { QuantType } from './quant-math';
import type { EvalData } from '../compare/labelled-accuracy';
import type { AutoGoal } from './auto/auto-report';
import type { LatencySource } from './auto/latency';
import type { KernelSpeedTable } from './kernel-speed';
import { STATIC_OP_TYPES } from './static/op-kinds';

export type QuantizeMode = 'dynamic' | 'static' | 'weight-only';
export type QuantFormat = 'qoperator' | 'qdq';
export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy';
export type WeightAlgorithm = 'rtn' | 'gptq';

/** Calibration samples: a folder (see readCalibrationDir) or feeds, sync or async. */
export type CalibrationData = string | Iterable<Feeds> | AsyncIterable<Feeds>;

export interface QuantizeOptions {
  /** 'auto' tries recipes and returns the fastest within a budget (see the auto options below). */
  mode: QuantizeMode | 'auto';
  /**
   * dynamic: 'qoperator' (default: DynamicQuantizeLinear + MatMulInteger/ConvInteger + rescale, which
   * onnxruntime fuses into MatMulIntegerToFloat) or 'qdq'. static: always 'qdq'.
   */
  format?: QuantFormat;
  /**
   * One scale per output channel of each weight (default true): much more accurate on conv nets whose
   * batch norm was folded into the weights, at little cost in speed. false: one scale per tensor.
   */
  perChannel?: boolean;
  /** Weight integer type for dynamic and static modes (default 'int8'). */
  weightType?: QuantType;
  /** Activation type for static mode (default 'uint8'; dynamic mode always uses uint8). */
  activationType?: QuantType;
  /** Weights centred on zero (default true). */
  symmetricWeights?: boolean;
  /** Static activations centred on zero (default false). */
  symmetricActivations?: boolean;
  /** 7-bit weights for CPUs without VNNI whose u8s8 instructions can saturate (default false). */
  reduceRange?: boolean;

  /** static: the samples ranges come from; generated random inputs (with a warning) when absent. */
  calibration?: CalibrationData;
  /** static: how a range is chosen from what calibration saw (default 'minmax'). */
  method?: CalibrationMethod;
  /** static, method 'percentile': the percentile of |x| kept (default 99.999). */
  percentile?: number;
  /** static: histogram bins for percentile/entropy (default 2048). */
  bins?: number;
  /** static: samples run through onnxruntime per call during calibration (default 8). */
  calibrationBatch?: number;
  /** static: generated samples when no calibration data is given (default 16). */
  randomSamples?: number;
  /**
   * static: SmoothQuant's α in (0, 1) (0.5 is the paper's default). Before calibration, the inputs of
   * MatMul/Gemm layers made by a LayerNorm, a per-channel Mul/Add or another linear layer are divided per
   * channel by s_j = max|X_j|^α / max|W_j|^(1-α) there and the weight rows multiplied by s_j (likewise
   * between a Conv and the convs reading its output): same float outputs, activation outliers moved into
   * the weights. Off when absent.
   */
  smoothQuant?: number;

  /** weight-only: 4 (com.microsoft MatMulNBits) or 8 (DequantizeLinear + MatMul). Default 4. */
  bits?: 4 | 8;
  /** weight-only 4-bit: block size along K, 16..256, power of two (default 32). */
  blockSize?: number;
  /** weight-only 4-bit: symmetric blocks (default true) or blocks with their own zero point. */
  symmetric?: boolean;
  /** weight-only 4-bit: MatMulNBits accuracy_level; 4 lets onnxruntime multiply in int8 (default 4). */
  accuracyLevel?: number;
  /** weight-only 4-bit: per block, search the clipping range with the least squared error (default true). */
  clipSearch?: boolean;
  /**
   * weight-only 4-bit: 'rtn' (default) rounds each block to nearest (with clipSearch); 'gptq' uses the
   * calibration inputs of each layer (H = 2XᵀX) to spread rounding error over the rows not yet quantized.
   */
  algorithm?: WeightAlgorithm;
  /** gptq: quantize rows in order of decreasing activation energy (default false). */
  actOrder?: boolean;
  /** gptq: dampening added to H's diagonal, as a fraction of its mean (default 0.01). */
  gptqDamp?: number;

  /** auto: most top-1 accuracy a result may lose on `eval` (default 0.01 when eval data is given). */
  maxAccuracyDrop?: number;
  /** auto: lowest worst-output cosine against float (default 0.99 without eval data). */
  minCosine?: number;
  /** auto: 'speed' (default: fastest within budget, never slower than float) or 'size' (smallest within budget). */
  goal?: AutoGoal;
  /** auto, goal speed: float's latency over a candidate's must reach this to count as faster (default 1.05, a noise guard). */
  minSpeedup?: number;
  /** auto: timed runs per candidate for the default latency source (default 5). */
  autoRuns?: number;
  /** auto: how candidates are timed (default: onnxruntime-node, median of autoRuns after warm-up). */
  latencySource?: LatencySource;
  /** auto: scan per-layer sensitivity and try static with the most sensitive layers float (default true). */
  sensitivity?: boolean;

  /** Op types to quantize (default per mode; add 'Gather' for embeddings). */
  opTypes?: string[];
  /** Quantize only these nodes (by name, or by first output name). */
  nodes?: string[];
  /** Never quantize these nodes (by name, or by first output name). */
  exclude?: string[];
  /** Fold BatchNormalization (and in static mode a Mul/Add by a constant) into the Conv before it, first (default true when Conv is quantized). */
  foldBatchNorm?: boolean;
  /** Keep the first layer in float: the quantizable nodes no other quantizable node feeds. */
  keepFirst?: boolean;
  /** Keep the last layer in float: the quantizable nodes that feed no other quantizable node. */
  keepLast?: boolean;

  /**
   * Quantize op types even where onnxruntime's quantized kernel was measured slower than its float one
   * (default false: kernel-speed-table.json keeps those in float, and the report says why).
   */
  force?: boolean;
  /** The measured kernel speeds that decide what stays in float (default: lib/quantize/kernel-speed-table.json). */
  kernelSpeeds?: KernelSpeedTable;

  /** Compare the result against the original in onnxruntime (default true). */
  verify?: boolean;
  /** Labelled samples: verification reports top-1 accuracy of both models against the labels. */
  eval?: EvalData;
  /** Samples for verification when there is no calibration data (default 4). */
  verifySamples?: number;
  /** Timed runs per model in verification (default 10; 0 skips latency). */
  latencyRuns?: number;
  /** Values for symbolic dims of generated inputs, e.g. { batch: 4 }. */
  dims?: Record<string, number>;
  /** Whole shapes of generated inputs by input name, e.g. { input_ids: [1, 512] } (reaches unnamed dims too). */
  shapes?: Record<string, readonly number[]>;
  /** Inputs generated as one constant, e.g. { sr: 16000 }. */
  values?: Record<string, number>;
  seed?: number;
  engine?: EngineOptions;
  /** Progress of long steps (calibration, verification). */
  onProgress?: (step: string, done: number, total: number) => void;
}

export const DEFAULT_OP_TYPES: Record<QuantizeMode, string[]> = {
  dynamic: ['MatMul', 'Gemm', 'Conv', 'LSTM', 'GRU'],
  static: STATIC_OP_TYPES,
  'weight-only': ['MatMul', 'Gemm', 'Conv'],
};

/** Op types each mode knows how to rewrite (a request for others is refused up front). */
export const SUPPORTED_OP_TYPES: Record<QuantizeMode, string[]> = {
  dynamic: ['MatMul', 'Gemm', 'Conv', 'Gather', 'LSTM', 'GRU'],
  static: STATIC_OP_TYPES,
  'weight-only': ['MatMul', 'Gemm', 'Conv', 'Gather'],
};

export interface ResolvedOptions extends QuantizeOptions {
  mode: QuantizeMode;
  format: QuantFormat;
  perChannel: boolean;
  weightType: QuantType;
  activationType: QuantType;
  symmetricWeights: boolean;
  symmetricActivations: boolean;
  reduceRange: boolean;
  method: CalibrationMethod;
  percentile: number;
  bins: number;
  calibrationBatch: number;
  randomSamples: number;
  bits: 4 | 8;
  blockSize: number;
  symmetric: boolean;
  accuracyLevel: number;
  clipSearch: boolean;
  algorithm: WeightAlgorithm;
  opTypes: string[];
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new RangeError(message);
}

export function resolveOptions(options: QuantizeOptions): ResolvedOptions {
  const mode = options.mode as QuantizeMode;
  check(['dynamic', 'static', 'weight-only'].includes(mode), `mode must be dynamic, static, weight-only or auto, got "${mode}"`);
  const format = options.format ?? (mode === 'static' ? 'qdq' : 'qoperator');
  check(['qoperator', 'qdq'].includes(format), `format must be qoperator or qdq, got "${format}"`);
  check(mode !== 'static' || format === 'qdq', 'static quantization writes the QDQ format; --format qoperator applies to dynamic mode');
  const bits = options.bits ?? 4;
  check(bits === 4 || bits === 8, `bits must be 4 or 8, got ${bits}`);
  const blockSize = options.blockSize ?? 32;
  check(Number.isInteger(blockSize) && blockSize >= 16 && blockSize <= 256 && (blockSize & (blockSize - 1)) === 0,
    `block size must be a power of two from 16 to 256, got ${blockSize}`);
  const percentile = options.percentile ?? 99.999;
  check(percentile > 0 && percentile <= 100, `percentile must be in (0, 100], got ${percentile}`);
  const bins = options.bins ?? 2048;
  check(Number.isInteger(bins) && bins >= 128, `bins must be an integer >= 128, got ${bins}`);
  const method = options.method ?? 'minmax';
  check(['minmax', 'percentile', 'entropy'].includes(method), `method must be minmax, percentile or entropy, got "${method}"`);
  const accuracyLevel = options.accuracyLevel ?? 4;
  check([0, 1, 2, 3, 4].includes(accuracyLevel), `accuracy level must be 0..4, got ${accuracyLevel}`);
  const weightType = options.weightType ?? 'int8';
  const activationType = options.activationType ?? 'uint8';
  for (const t of [weightType, activationType]) check(t === 'int8' || t === 'uint8', `quantized types are int8 or uint8, got "${t}"`);
  const algorithm = options.algorithm ?? 'rtn';
  check(algorithm === 'rtn' || algorithm === 'gptq', `algorithm must be rtn or gptq, got "${algorithm}"`);
  check(algorithm === 'rtn' || (mode === 'weight-only' && bits === 4), 'the gptq algorithm applies to weight-only 4-bit quantization (--mode weight-only --bits 4)');
  check(options.gptqDamp === undefined || (options.gptqDamp > 0 && options.gptqDamp < 1), `gptq dampening must be in (0, 1), got ${options.gptqDamp}`);
  const alpha = options.smoothQuant;
  check(alpha === undefined || (typeof alpha === 'number' && alpha > 0 && alpha < 1), `smooth-quant α must be a number in (0, 1) (0.5 is usual), got ${alpha}`);
  check(alpha === undefined || mode === 'static', 'smooth-quant applies to static quantization (--mode static)');
  const opTypes = options.opTypes ?? DEFAULT_OP_TYPES[mode];
  const unsupported = opTypes.filter((op) => !SUPPORTED_OP_TYPES[mode].includes(op));
  check(unsupported.length === 0, `${mode} mode cannot quantize ${unsupported.join(', ')} (supported: ${SUPPORTED_OP_TYPES[mode].join(', ')})`);
  return {
    ...options,
    mode,
    format,
    perChannel: options.perChannel ?? true,
    weightType,
    activationType,
    symmetricWeights: options.symmetricWeights ?? true,
    symmetricActivations: options.symmetricActivations ?? false,
    reduceRange: options.reduceRange ?? false,
    method,
    percentile,
    bins,
    calibrationBatch: options.calibrationBatch ?? 8,
    randomSamples: options.randomSamples ?? 16,
    bits,
    blockSize,
    symmetric: options.symmetric ?? true,
    accuracyLevel,
    clipSearch: options.clipSearch ?? true,
    algorithm,
    opTypes,
  };
}
