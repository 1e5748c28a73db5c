// Public API of the quantization pass.
export { quantize, type QuantizeResult } from './quantize';
export { quantizeFile, type QuantizeFileOptions } from './quantize-file';
export type { QuantizeOptions, QuantizeMode, QuantFormat, CalibrationMethod, CalibrationData, WeightAlgorithm } from './options';
export type { QuantizeReport, CalibrationSummary } from './report';
export type { NodeOutcome } from './selection';
export type { OpsetUpgrade } from './opset-upgrade';
export { readCalibrationDir } from './calibration/samples';
export { parseNpz, DEFAULT_NPZ_MAX_BYTES, type ParseNpzOptions } from './calibration/npz';
export { quantizeBlockwise, dequantizeBlockwise, type BlockwiseOptions, type BlockwiseWeights } from './blockwise';
export type { AutoReport, AutoCandidate, AutoBudget, AutoGoal } from './auto/auto-report';
export type { LatencySource, LatencyProbe } from './auto/latency';
export type { GptqReport } from './gptq/summary';
export type { GptqLayerReport } from './gptq/nbits-weights';
export { quantizeGptq, HessianAccumulator, type GptqOptions } from './gptq/gptq';
export { MEASURED_KERNEL_SPEEDS, type KernelSpeedTable, type KernelSpeedEntry } from './kernel-speed';
export { smoothQuantModel, type SmoothQuantOptions } from './smooth/smooth-model';
export type { SmoothQuantReport, SmoothedLayer } from './smooth/smooth-quant';
