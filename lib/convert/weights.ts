// Weights in and out of a model through safetensors: replace initializers (or Constant nodes' values)
// by name, with dtype and shape checked; export them for training tools and diffing.
import * as fs from 'node:fs';
import type { GraphProto, NodeProto, TensorProto } from '../onnx/gen/onnx_pb';
import { attr, makeAttribute } from '../onnx/attributes';
import { dtypeInfo, type DTypeName } from '../onnx/dtype';
import { describeError } from '../onnx/errors';
import type { Model } from '../onnx/model';
import { elementCount, makeTensor, tensorDims, viewBytesAs } from '../onnx/tensor';
import { SafetensorsError, SafetensorsFile, safetensorsDtype, writeSafetensors } from './safetensors';
import { modelFiles } from '../onnx/model-files';
import { assertNotInput } from '../onnx/output-path';

/** safetensors name -> model tensor name; null ignores that tensor of the file. */
export type WeightMap = Record<string, string | null>;

export interface ApplyWeightsOptions {
  map?: WeightMap;
}

export interface ApplyWeightsReport {
  file: string;
  tensorsInFile: number;
  /** Model tensors replaced from the file. */
  replaced: number;
  bytesReplaced: number;
  /** File tensors the map told us to ignore. */
  ignored: number;
  /** Initializers the file did not touch. */
  initializersUntouched: number;
}

interface Target {
  tensor: TensorProto;
  /** Where to put the replacement: an initializer list slot, or a Constant's value attribute. */
  replace: (tensor: TensorProto) => void;
}

/** Model tensors by name: initializers of every graph, then Constant nodes' values under their output name. */
function targetsOf(model: Model): Map<string, Target> {
  const targets = new Map<string, Target>();
  const constants: { graph: GraphProto; node: NodeProto }[] = [];
  for (const { graph } of model.graphs()) {
    graph.initializer.forEach((tensor, i) => {
      if (targets.has(tensor.name)) throw new SafetensorsError(`the model has more than one initializer named "${tensor.name}"`);
      targets.set(tensor.name, { tensor, replace: (t) => (graph.initializer[i] = t) });
    });
    for (const node of graph.node) if (node.opType === 'Constant') constants.push({ graph, node });
  }
  for (const { node } of constants) {
    const at = node.attribute.findIndex((a) => a.name === 'value' && a.t);
    const name = node.output[0];
    if (at < 0 || targets.has(name)) continue;
    targets.set(name, { tensor: node.attribute[at].t as TensorProto, replace: (t) => (node.attribute[at] = makeAttribute('value', attr.tensor(t))) });
  }
  return targets;
}

function listNames(names: string[]): string {
  const shown = names.slice(0, 5).map((n) => `"${n}"`).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

/** Read and check a --map file: a JSON object of safetensors name -> model tensor name (or null). */
export function readWeightMap(file: string): WeightMap {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SafetensorsError(`cannot read weight map "${file}": ${describeError(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SafetensorsError(`weight map "${file}" must be a JSON object of "safetensors name": "model tensor name" (or null)`);
  }
  for (const [key, value] of Object.entries(parsed)) {
    if (value !== null && typeof value !== 'string') throw new SafetensorsError(`weight map "${file}": the value for "${key}" must be a tensor name or null`);
  }
  return parsed as WeightMap;
}

/**
 * Replace model tensors with those of a safetensors file, matched by name (through `map` where given).
 * Every file tensor must land on a model tensor of the same dtype and shape; nothing is changed otherwise.
 */
export function applyWeights(source: Model, weights: string | SafetensorsFile, options: ApplyWeightsOptions = {}): { model: Model; report: ApplyWeightsReport } {
  const file = typeof weights === 'string' ? SafetensorsFile.open(weights) : weights;
  const map = options.map ?? {};
  const unknownKeys = Object.keys(map).filter((k) => !file.entry(k));
  if (unknownKeys.length > 0) throw new SafetensorsError(`the weight map names tensors that ${file.path} does not hold: ${listNames(unknownKeys)}`);

  const model = source.clone();
  const targets = targetsOf(model);
  const plan: { entry: (typeof file.entries)[number]; target: string }[] = [];
  const missing: string[] = [];
  const claimed = new Map<string, string>();
  let ignored = 0;
  for (const entry of file.entries) {
    const target = Object.prototype.hasOwnProperty.call(map, entry.name) ? map[entry.name] : entry.name;
    if (target === null) {
      ignored++;
      continue;
    }
    if (!targets.has(target)) {
      missing.push(target === entry.name ? target : `${entry.name} -> ${target}`);
      continue;
    }
    const previous = claimed.get(target);
    if (previous !== undefined) throw new SafetensorsError(`model tensor "${target}" would get both "${previous}" and "${entry.name}" from ${file.path}`);
    claimed.set(target, entry.name);
    plan.push({ entry, target });
  }
  if (missing.length > 0) {
    throw new SafetensorsError(`${file.path}: ${missing.length} tensor(s) match no initializer or Constant in the model: ${listNames(missing)} (use --map to rename, or map them to null)`);
  }
  for (const { entry, target } of plan) {
    const current = targets.get(target)!.tensor;
    const dtype = dtypeInfo(current.dataType).name;
    const dims = tensorDims(current);
    if (dtype !== entry.dtype) throw new SafetensorsError(`tensor "${entry.name}": the file holds ${entry.dtype}, model tensor "${target}" is ${dtype}`);
    if (dims.length !== entry.shape.length || dims.some((d, i) => d !== entry.shape[i])) {
      throw new SafetensorsError(`tensor "${entry.name}": the file holds shape [${entry.shape.join(', ')}], model tensor "${target}" is [${dims.join(', ')}]`);
    }
  }
  let bytesReplaced = 0;
  for (const { entry, target } of plan) {
    const { tensor, replace } = targets.get(target)!;
    const bytes = file.read(entry.name);
    const info = dtypeInfo(entry.dtype);
    const count = info.bits < 8 ? bytes.byteLength : entry.shape.reduce((a, b) => a * b, 1) * info.lanes;
    const replacement = makeTensor(tensor.name, viewBytesAs(bytes, info.array!, count), entry.shape, entry.dtype);
    if (tensor.docString) replacement.docString = tensor.docString;
    replace(replacement);
    bytesReplaced += bytes.byteLength;
  }
  model.invalidate();
  const initializerCount = model.graphs().reduce((n, g) => n + g.graph.initializer.length, 0);
  const initializersReplaced = plan.filter((p) => model.graphs().some((g) => g.graph.initializer.some((t) => t.name === p.target))).length;
  return {
    model,
    report: {
      file: file.path, tensorsInFile: file.entries.length, replaced: plan.length, bytesReplaced, ignored,
      initializersUntouched: initializerCount - initializersReplaced,
    },
  };
}

export interface ExportWeightsOptions {
  /** Export every Constant node's value, named by its output (default: only those feeding a weight input). */
  constants?: boolean;
  /** __metadata__ entries (none by default: loaders such as transformers reject unfamiliar "format" values). */
  metadata?: Record<string, string>;
}

export interface ExportWeightsReport {
  file: string;
  tensors: number;
  bytes: number;
  /** Tensors safetensors cannot hold (strings, 4-bit, complex). */
  skipped: { name: string; dtype: DTypeName }[];
}

/** The inputs of each op that carry learned weights (old exporters feed them from Constant nodes). */
const WEIGHT_INPUTS: Record<string, readonly number[]> = {
  MatMul: [1], Gemm: [1, 2], Conv: [1, 2], ConvTranspose: [1, 2], Gather: [0],
  BatchNormalization: [1, 2, 3, 4], InstanceNormalization: [1, 2], LayerNormalization: [1, 2],
  LSTM: [1, 2, 3], GRU: [1, 2, 3], RNN: [1, 2, 3], PRelu: [1],
  // Biases and scales added by hand (`x @ w + b`); float Constants of more than one element only, see isWeightConstant.
  Add: [0, 1], Sub: [0, 1], Mul: [0, 1], Div: [0, 1],
};

/** A Constant exported by default: float, more than one element (not a shape, an axis or a scalar), feeding a weight input. */
function isWeightConstant(tensor: TensorProto, feedsWeight: boolean): boolean {
  const dtype = dtypeInfo(tensor.dataType).name;
  return feedsWeight && ['float32', 'float16', 'bfloat16', 'float64'].includes(dtype) && elementCount(tensorDims(tensor)) > 1;
}

/** Names of values that feed a weight input of a node in any graph. */
function weightInputNames(model: Model): Set<string> {
  const names = new Set<string>();
  for (const { graph } of model.graphs()) {
    for (const node of graph.node) {
      if (node.domain !== '' && node.domain !== 'ai.onnx') continue;
      for (const i of WEIGHT_INPUTS[node.opType] ?? []) if (node.input[i]) names.add(node.input[i]);
    }
  }
  return names;
}

/**
 * Write the model's weights to a safetensors file: its initializers and the Constant nodes that feed
 * a weight input (MatMul B, Conv W, ...), or every Constant with `constants`. A model with nothing to
 * export is an error, never an empty file.
 */
export function exportWeights(model: Model, file: string, options: ExportWeightsOptions = {}): ExportWeightsReport {
  if (model.sourcePath) assertNotInput(modelFiles(model), file);
  const targets = targetsOf(model);
  const initializerNames = new Set(model.graphs().flatMap((g) => g.graph.initializer.map((t) => t.name)));
  const weightInputs = weightInputNames(model);
  const skipped: ExportWeightsReport['skipped'] = [];
  const tensors = [];
  for (const [name, { tensor }] of targets) {
    if (!options.constants && !initializerNames.has(name) && !isWeightConstant(tensor, weightInputs.has(name))) continue;
    const dtype = dtypeInfo(tensor.dataType).name;
    if (!safetensorsDtype(dtype)) {
      skipped.push({ name, dtype });
      continue;
    }
    tensors.push({ name, dtype, dims: tensorDims(tensor), bytes: () => model.tensorBytes(tensor) });
  }
  if (tensors.length === 0) {
    const held = skipped.length ? `; skipped ${skipped.length} tensor(s) safetensors cannot hold` : '';
    const hint = options.constants ? '' : ' (--constants exports every Constant node)';
    throw new SafetensorsError(`the model has no weights to export: no initializers and no Constant node feeding a weight input${hint}${held}`);
  }
  const { bytes } = writeSafetensors(file, tensors, options.metadata ?? {});
  return { file, tensors: tensors.length, bytes, skipped };
}
