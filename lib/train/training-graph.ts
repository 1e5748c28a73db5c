// One training graph: the student's forward pass, the loss, the backward pass and the optimizer update,
// in standard ONNX ops that onnxruntime-node runs as one `run` per step. Weights, optimizer state and
// running statistics are graph inputs whose next values are graph outputs: the trainer feeds each step
// the tensors the previous step returned.
import type * as ort from 'onnxruntime-node';
import { dtypeInfo } from '../onnx/dtype';
import type { TensorProto } from '../onnx/gen/onnx_pb';
import type { Model } from '../onnx/model';
import { sortNodes } from '../onnx/topo';
import { decodeTensor, tensorDims } from '../onnx/tensor';
import { makeValueInfo } from '../onnx/value-info';
import { differentiate } from './autodiff';
import { batchNormsForTraining } from './batch-norm';
import { GraphWriter, type FloatType } from './graph-writer';
import { appendLoss, type LossGraph, type LossTerms } from './losses';
import { appendOptimizer, type OptimizerOptions, type Parameter } from './optimizer';
import { probeValues } from './probe';
import { raiseTrainingOpset } from './training-opset';
import { hostToOrt } from './tensors';

export type CarriedKind = 'parameter' | 'optimizer' | 'statistic' | 'projection';

/** A value carried from step to step: fed as `input`, its next value comes out as `output`. */
export interface CarriedValue {
  kind: CarriedKind;
  input: string;
  output: string;
  dtype: FloatType;
  dims: number[];
  /** Value before the first step. */
  initial: Float32Array | Float64Array;
  /** The student initializer it becomes in the trained model (parameters and statistics). */
  initializer?: string;
}

export interface TrainingGraphOptions {
  loss: Omit<LossTerms, 'seed'>;
  optimizer: OptimizerOptions;
  /** Float initializers never trained (besides scalars, which are constants). */
  frozen: (name: string) => boolean;
  /** Per weight: 1 where it may change, 0 where it was pruned. */
  masks: Map<string, Float32Array>;
  seed: number;
}

export interface TrainingGraph {
  model: Model;
  carried: CarriedValue[];
  /** The student's data inputs. */
  dataInputs: string[];
  targets: LossGraph;
  learningRate: string;
  biasCorrections?: [string, string];
  loss: string;
  gradNorm?: string;
  /** Student initializers the gradient reaches, trained. */
  parameters: string[];
  /** Float initializers the loss does not depend on, left as they are. */
  untouched: string[];
}

const isFloat = (t: TensorProto): boolean => t.dataType === dtypeInfo('float32').dataType || t.dataType === dtypeInfo('float64').dataType;
const elements = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

function floatCopy(model: Model, t: TensorProto): Float32Array | Float64Array {
  const data = decodeTensor(t, model.externalData).data as Float32Array | Float64Array;
  return data.slice();
}

/** Turns an initializer into a graph input of the same name (its value then comes from the feeds). */
function initializerToInput(model: Model, t: TensorProto): void {
  const list = model.graph.initializer;
  list.splice(list.indexOf(t), 1);
  model.graph.input.push(makeValueInfo(t.name, dtypeInfo(t.dataType).name, tensorDims(t)));
}

function inputToInitializer(model: Model, t: TensorProto): void {
  model.graph.input.splice(model.graph.input.findIndex((v) => v.name === t.name), 1);
  model.graph.initializer.push(t);
}

function zerosLike(dims: number[], dtype: FloatType): Float32Array | Float64Array {
  return dtype === 'float64' ? new Float64Array(elements(dims)) : new Float32Array(elements(dims));
}

/** Builds the training graph of `student` for batches shaped like `batch` (the student's inputs). */
export async function buildTrainingGraph(student: Model, batch: Record<string, ort.Tensor>, o: TrainingGraphOptions): Promise<TrainingGraph> {
  const model = student.clone();
  raiseTrainingOpset(model);
  const forwardShapes = await probeValues(model, batch);
  const w = new GraphWriter(model, 'train/');
  const statistics = batchNormsForTraining(model, w, forwardShapes);
  const targets = appendLoss(w, { ...o.loss, seed: o.seed }, forwardShapes);
  const dtype = forwardShapes.get(o.loss.logits)?.dtype as FloatType;

  const projections = new Set(targets.projections);
  const statisticNames = new Set(statistics.map((s) => s.initializer));
  const candidates = model.graph.initializer.filter((t) => isFloat(t) && elements(tensorDims(t)) > 1 && !statisticNames.has(t.name)
    && (projections.has(t.name) || (student.initializerProto(t.name) !== undefined && !o.frozen(t.name))));
  const statisticTensors = model.graph.initializer.filter((t) => statisticNames.has(t.name));
  const initial = new Map<string, Float32Array | Float64Array>();
  for (const t of [...candidates, ...statisticTensors]) {
    initial.set(t.name, floatCopy(model, t));
    initializerToInput(model, t);
  }

  const feeds: Record<string, ort.Tensor> = { ...batch };
  for (const t of [...candidates, ...statisticTensors]) {
    feeds[t.name] = hostToOrt({ type: dtypeInfo(t.dataType).name as FloatType, dims: tensorDims(t), data: initial.get(t.name) as Float32Array });
  }
  const targetInputs = model.graph.input.filter((v) => [targets.teacherLogits, targets.labels, ...targets.matchTargets].includes(v.name));
  for (const v of targetInputs) {
    const dims = v.type?.value.case === 'tensorType' ? (v.type.value.value.shape?.dim ?? []).map((d) => Number(d.value.value)) : [];
    const type = v.name === targets.labels && o.loss.labels?.dtype === 'int64' ? 'int64' : dtype;
    feeds[v.name] = hostToOrt({ type, dims, data: type === 'int64' ? new BigInt64Array(elements(dims)) : zerosLike(dims, dtype) });
  }
  const shapes = await probeValues(model, feeds);
  const grads = differentiate(model, w, { loss: targets.loss, wrt: candidates.map((t) => t.name), shapes });

  const trained = candidates.filter((t) => grads.has(t.name));
  const untouched = candidates.filter((t) => !grads.has(t.name));
  for (const t of untouched) inputToInitializer(model, t);
  const params: Parameter[] = trained.map((t) => {
    const dims = tensorDims(t);
    const mask = o.masks.get(t.name);
    return { name: t.name, grad: grads.get(t.name) as string, dims, dtype: dtypeInfo(t.dataType).name as FloatType, mask: mask && w.initializer(`mask/${t.name}`, mask, dims) };
  });
  const optimizer = appendOptimizer(w, params, o.optimizer, dtype);

  const carried: CarriedValue[] = [];
  for (const p of params) {
    const kind = projections.has(p.name) ? 'projection' : 'parameter';
    carried.push({ kind, input: p.name, output: optimizer.updated.get(p.name) as string, dtype: p.dtype, dims: p.dims, initial: initial.get(p.name) as Float32Array, initializer: kind === 'parameter' ? p.name : undefined });
  }
  for (const s of optimizer.slots) carried.push({ kind: 'optimizer', input: s.input, output: s.output, dtype: s.dtype, dims: s.dims, initial: zerosLike(s.dims, s.dtype) });
  for (const s of statistics) {
    const t = statisticTensors.find((x) => x.name === s.initializer) as TensorProto;
    carried.push({ kind: 'statistic', input: s.initializer, output: s.updated, dtype: dtypeInfo(t.dataType).name as FloatType, dims: tensorDims(t), initial: initial.get(s.initializer) as Float32Array, initializer: s.initializer });
  }
  model.graph.output.splice(0, model.graph.output.length);
  for (const name of [targets.loss, ...(optimizer.gradNorm ? [optimizer.gradNorm] : []), ...carried.map((c) => c.output)]) w.output(name);
  const { order } = sortNodes(model.graph);
  model.graph.node = order.map((i) => model.graph.node[i]);
  model.invalidate();
  return {
    model,
    carried,
    dataInputs: Object.keys(batch),
    targets,
    learningRate: optimizer.learningRate,
    biasCorrections: optimizer.biasCorrections,
    loss: targets.loss,
    gradNorm: optimizer.gradNorm,
    parameters: trained.filter((t) => !projections.has(t.name)).map((t) => t.name),
    untouched: untouched.map((t) => t.name),
  };
}
