// One training graph: the student's forward pass, the loss, the backward pass and the optimizer update,
// in standard ONNX ops that onnxruntime-node runs as one `run` per step. The trained parameters travel
// as one flat vector (cut into the weights by Slice/Reshape at the start, the gradients concatenated
// at the end), so the optimizer is a handful of nodes whatever the number of tensors. Parameters,
// optimizer state and running statistics are graph inputs whose next values are graph outputs: the
// trainer feeds each step the tensors the previous step returned.
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
import { appendOptimizer, type OptimizerOptions } from './optimizer';
import { probeValues } from './probe';
import { raiseTrainingOpset } from './training-opset';
import { hostToOrt } from './tensors';

export type CarriedKind = 'parameters' | 'optimizer' | 'statistic';

/** A value carried from step to step: fed as `input`, its next value comes out as `output`. */
export interface CarriedValue {
  kind: CarriedKind;
  input: string;
  output: string;
  dtype: FloatType;
  dims: number[];
  /** Value before the first step. */
  initial: Float32Array | Float64Array;
  /** The student initializer it becomes in the trained model (running statistics). */
  initializer?: string;
}

/** Where one trained tensor sits in the flat parameter vector. */
export interface ParameterSlice {
  name: string;
  offset: number;
  dims: number[];
  /** Projections for matched values train with the student and are left out of it. */
  projection: boolean;
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
  /** The trained tensors, in the order of the flat parameter vector. */
  layout: ParameterSlice[];
  /** The student's data inputs. */
  dataInputs: string[];
  targets: LossGraph;
  learningRate: string;
  biasCorrections?: [string, string];
  loss: string;
  gradNorm?: string;
  /** Float initializers the loss does not depend on, left as they are. */
  untouched: string[];
}

const elements = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** Turns an initializer into a graph input of the same name (its value then comes from the feeds). */
function initializerToInput(model: Model, t: TensorProto): void {
  const list = model.graph.initializer;
  list.splice(list.indexOf(t), 1);
  model.graph.input.push(makeValueInfo(t.name, dtypeInfo(t.dataType).name, tensorDims(t)));
}

function removeInput(model: Model, name: string): void {
  model.graph.input.splice(model.graph.input.findIndex((v) => v.name === name), 1);
}

function allocate(dtype: FloatType, size: number): Float32Array | Float64Array {
  return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
}

/** Feeds for a probe run: each target input zero (class 0 for labels). */
function targetFeeds(model: Model, targets: LossGraph, labelsAreIds: boolean, dtype: FloatType): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const v of model.graph.input.filter((i) => [targets.teacherLogits, targets.labels, ...targets.matchTargets].includes(i.name))) {
    const dims = v.type?.value.case === 'tensorType' ? (v.type.value.value.shape?.dim ?? []).map((d) => Number(d.value.value)) : [];
    const ids = v.name === targets.labels && labelsAreIds;
    feeds[v.name] = hostToOrt({ type: ids ? 'int64' : dtype, dims, data: ids ? new BigInt64Array(elements(dims)) : allocate(dtype, elements(dims)) });
  }
  return feeds;
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
  const candidates = model.graph.initializer.filter((t) => dtypeInfo(t.dataType).name === dtype && elements(tensorDims(t)) > 1 && !statisticNames.has(t.name)
    && (projections.has(t.name) || (student.initializerProto(t.name) !== undefined && !o.frozen(t.name))));
  const statisticTensors = model.graph.initializer.filter((t) => statisticNames.has(t.name));
  const initial = new Map<string, Float32Array | Float64Array>();
  const feeds: Record<string, ort.Tensor> = { ...batch, ...targetFeeds(model, targets, o.loss.labels?.dtype === 'int64', dtype) };
  for (const t of [...candidates, ...statisticTensors]) {
    const data = (decodeTensor(t, model.externalData).data as Float32Array).slice();
    initial.set(t.name, data);
    initializerToInput(model, t);
    feeds[t.name] = hostToOrt({ type: dtypeInfo(t.dataType).name as FloatType, dims: tensorDims(t), data });
  }
  const shapes = await probeValues(model, feeds);
  const grads = differentiate(model, w, { loss: targets.loss, wrt: candidates.map((t) => t.name), shapes });

  const untouched = candidates.filter((t) => !grads.has(t.name));
  for (const t of untouched) {
    removeInput(model, t.name);
    model.graph.initializer.push(t);
  }
  // The flat vector: trained tensors in initializer order, each read back by a Slice and a Reshape.
  const trained = candidates.filter((t) => grads.has(t.name));
  let size = 0;
  const layout: ParameterSlice[] = trained.map((t) => {
    const slice = { name: t.name, offset: size, dims: tensorDims(t), projection: projections.has(t.name) };
    size += elements(slice.dims);
    return slice;
  });
  const flat = w.input('parameters', dtype, [size]);
  const flatInitial = allocate(dtype, size);
  const decay = allocate(dtype, size);
  const mask = allocate(dtype, size);
  for (const s of layout) {
    const n = elements(s.dims);
    removeInput(model, s.name);
    w.op('Reshape', [w.op('Slice', [flat, w.ints([s.offset]), w.ints([s.offset + n])]), w.ints(s.dims)], {}, s.name);
    flatInitial.set(initial.get(s.name) as Float32Array, s.offset);
    // Weight decay on weights only: biases and normalization scales keep theirs.
    if (s.dims.length >= 2) decay.fill(1, s.offset, s.offset + n);
    const pruned = o.masks.get(s.name);
    if (pruned) mask.set(pruned, s.offset);
    else mask.fill(1, s.offset, s.offset + n);
  }
  const flatGrad = w.op('Concat', layout.map((s) => w.reshape(grads.get(s.name) as string, [-1])), { axis: 0 });
  const optimizer = appendOptimizer(w, {
    value: flat,
    grad: flatGrad,
    size,
    dtype,
    mask: layout.some((s) => o.masks.has(s.name)) ? w.initializer('mask', mask, [size]) : undefined,
    decay: w.initializer('decay', decay, [size]),
  }, o.optimizer);

  const carried: CarriedValue[] = [
    { kind: 'parameters', input: flat, output: optimizer.updated, dtype, dims: [size], initial: flatInitial },
    ...optimizer.slots.map((s): CarriedValue => ({ kind: 'optimizer', input: s.input, output: s.output, dtype, dims: [size], initial: allocate(dtype, size) })),
    ...statistics.map((s): CarriedValue => {
      const t = statisticTensors.find((x) => x.name === s.initializer) as TensorProto;
      return { kind: 'statistic', input: s.initializer, output: s.updated, dtype: dtypeInfo(t.dataType).name as FloatType, dims: tensorDims(t), initial: initial.get(s.initializer) as Float32Array, initializer: s.initializer };
    }),
  ];
  model.graph.output.splice(0, model.graph.output.length);
  for (const name of [targets.loss, ...(optimizer.gradNorm ? [optimizer.gradNorm] : []), ...carried.map((c) => c.output)]) w.output(name);
  const { order } = sortNodes(model.graph);
  model.graph.node = order.map((i) => model.graph.node[i]);
  model.invalidate();
  return {
    model,
    carried,
    layout,
    dataInputs: Object.keys(batch),
    targets,
    learningRate: optimizer.learningRate,
    biasCorrections: optimizer.biasCorrections,
    loss: targets.loss,
    gradNorm: optimizer.gradNorm,
    untouched: untouched.map((t) => t.name),
  };
}
