// The package root: require('onnxforge').
import { cleanUpOrtTempFilesAtExit } from './engine/ort-temp-files';

cleanUpOrtTempFilesAtExit();
export * from './onnx';
export { kernels } from './kernels';
export { NativeLoadError, nativeAddonInfo, type NativeAddonInfo, type BinarySource } from './native';
export type { BuildInfo, CpuInfo, CpuFeatureFlags, IsaName, NativeBinding } from '../binding';
export { compareModels, type CompareOptions, type CompareReport, type ModelFigures } from './compare/compare';
export { benchModel, type BenchModelOptions, type BenchModelReport, type EngineBenchFigures } from './compare/bench-model';
export { generateFeeds, readSamplesDir, type GenerateOptions } from './compare/inputs';
export { parseNpy, encodeNpy } from './compare/npy';
export type { OutputMetrics } from './compare/metrics';
export { inspectModel, type InspectReport, type InspectOptions } from './inspect/inspect';
export { runDemo, type DemoOptions, type DemoReport } from './demo/demo';
export { OrtEngine } from './engine/ort-engine';
export { NativeEngine, NativeSession, type NativeEngineOptions, type NativeSessionReport } from './engine/native/native-engine';
export { NativeEngineUnsupportedError, type UnsupportedNode } from './engine/native/errors';
export { SPARSE_CROSSOVER, type LinearKind, type LinearChoice } from './engine/native/weights';
export { loadWithEngine, ENGINE_CHOICES, type EngineChoice, type LoadedSession } from './engine/select';
export { OrtCudaUnavailableError, ortCudaSupport, type OrtCudaSupport } from './engine/ort-cuda';
export type { Engine, EngineOptions, Session, ValueMetadata } from './engine/engine';
export type { HostTensor, Feeds, TensorType } from './engine/tensor';
export { prune, pruneModel, pruneFile, PRUNE_PATTERNS, type PruneResult, type PruneOptions, type PruneRunOptions, type PrunePattern, type PruneReport } from './prune';
export {
  distill, distillFile, train, trainFile, readDataset, readLabels, studentFromSpec, dropLayers, differentiate, findUnsupported,
  buildTrainingGraph, TrainingSession, GRADIENT_RULES, GradientError, StudentSpecError, LayerDropError, TrainingInterrupted,
  type DistillOptions, type DistillReport, type DistillResult, type DistillFileOptions, type DistillFileReport, type TrainOptions,
  type TrainModelOptions, type TrainReport, type TrainResult, type TrainFileOptions, type TrainFileReport, type TrainingProgress,
  type TrainingSummary, type Evaluation, type Dataset, type ValueMatch, type UnsupportedNode as UnsupportedGradientNode, type TrainingGraph,
} from './train';
export { quantize, quantizeFile, readCalibrationDir, parseNpz, type QuantizeResult, type QuantizeOptions, type QuantizeFileOptions, type QuantizeReport, type QuantizeMode, type QuantFormat, type CalibrationMethod, type CalibrationData } from './quantize';
export {
  convertFloat, convertFile, optimizeModel, applyWeights, exportWeights, readWeightMap, withFloat32Io,
  SafetensorsFile, SafetensorsError, writeSafetensors, DEFAULT_BLOCKED_OPS, OPTIMIZATION_LEVELS,
  type ConvertFloatOptions, type ConvertFloatResult, type FloatConversionReport, type FloatTarget,
  type ConvertFileOptions, type ConvertFileReport, type OptimizationLevel, type OptimizeOptions, type OptimizeReport,
  type ApplyWeightsOptions, type ApplyWeightsReport, type ExportWeightsOptions, type ExportWeightsReport, type WeightMap,
  type SafetensorsEntry, type TensorToWrite,
} from './convert';
export { createServer, createExampleServer, writeExampleRepository, type ServerOptions, type ListenOptions, type ModelServer } from './serve';
export { serveGrpc, inferenceClient, GRPC_PROTO_FILE, type GrpcOptions, type GrpcServer } from './serve';
export {
  ModelRuntime, parseModelConfig, ModelConfigError, RuntimeError, InvalidRequestError, ModelNotFoundError,
  ModelUnavailableError, ModelLoadFailedError, OverloadedError, CapacityError, RequestTimeoutError,
  DeadlineExceededError, RequestCancelledError, ShuttingDownError, ExecutionError,
  type RuntimeOptions, type InferOptions, type InferResult, type IndexEntry, type ModelMetadata, type ModelConfig,
} from './runtime';
export {
  ClusterClient, ClusterWorker, createClusterServer, runBatch, ClusterConfigError,
  type ClusterOptions, type ClusterClientOptions, type ClusterInferOptions, type ClusterInferResult, type ClusterWorkerOptions, type ClusterServer,
  type ClusterServerOptions, type BatchOptions, type BatchReport, type ClusterStatus, type WorkerInfo,
} from './cluster';
