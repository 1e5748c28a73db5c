// Training ONNX models on onnxruntime-node: reverse-mode differentiation, one training graph per step,
// distillation and supervised training.
export { distill, type DistillOptions, type DistillReport, type DistillResult, type ValueMatch, type ModelSize } from './distill';
export { train, type TrainModelOptions, type TrainReport, type TrainResult } from './train';
export { distillFile, type DistillFileOptions, type DistillFileReport } from './distill-file';
export { trainFile, type TrainFileOptions, type TrainFileReport } from './train-file';
export { TrainingInterrupted } from './interrupted';
export type { TrainOptions } from './options';
export type { TrainingProgress } from './loop';
export type { TrainingSummary } from './fit';
export type { Evaluation } from './evaluate';
export { readDataset, readLabels, type Dataset } from './dataset';
export { studentFromSpec, StudentSpecError, type StudentFromSpec } from './student';
export { dropLayers, LayerDropError, type LayerDropResult } from './layer-drop';
export { differentiate, findUnsupported, GradientError, type UnsupportedNode, type DifferentiateOptions } from './autodiff';
export { GRADIENT_RULES } from './rules/table';
export { buildTrainingGraph, type TrainingGraph, type TrainingGraphOptions, type CarriedValue } from './training-graph';
export { TrainingSession } from './training-session';
export { probeValues, type ValueShapes } from './probe';
export { GraphWriter } from './graph-writer';
