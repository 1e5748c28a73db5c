// Public API of the conversion passes.
export { convertFloat, type ConvertFloatOptions, type ConvertFloatResult, type FloatTarget } from './convert-float';
export type { FloatConversionReport } from './float-report';
export { DEFAULT_BLOCKED_OPS } from './block-list';
export { inferElemTypes, type ElemTypes } from './elem-types';
export {
  applyWeights, exportWeights, readWeightMap,
  type ApplyWeightsOptions, type ApplyWeightsReport, type ExportWeightsOptions, type ExportWeightsReport, type WeightMap,
} from './weights';
export { SafetensorsFile, SafetensorsError, writeSafetensors, type SafetensorsEntry, type TensorToWrite } from './safetensors';
export { convertFile, type ConvertFileOptions, type ConvertFileReport } from './convert-file';
export { optimizeModel, OPTIMIZATION_LEVELS, type OptimizationLevel, type OptimizeOptions, type OptimizeReport } from './optimize';
export { withFloat32Io } from './float32-io';
