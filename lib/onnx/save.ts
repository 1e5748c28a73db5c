// saveModel / serializeModel. Output is atomic; tensors above a threshold can go to external data files,
// which is how models beyond protobuf's 2 GiB limit are stored.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, type TensorProto } from './gen/onnx_pb';
import { assertReplaceable, writeFully } from './atomic-file';
import { DataType, isKnownDataType } from './dtype';
import { describeError, ModelSaveError, OnnxError } from './errors';
import { PROTOBUF_LIMIT } from './load';
import type { Model } from './model';
import { allGraphs, allTensors } from './proto-walk';
import { StorageSwap } from './tensor-storage';
import { isExternal, tensorBytes } from './tensor';
import { assertNotInput } from './output-path';
import { StagedModelSave } from './staged-save';
import { assertOpsValid } from './check-ops';

export interface ExternalDataOptions {
  /** Initializers of at least this many bytes go to external data (default 1024). */
  threshold?: number;
  /** One data file for all tensors (default) or one file per tensor. */
  singleFile?: boolean;
  /** Data file name, in the model's folder (default "<model file name>.data"). */
  location?: string;
  /** Offsets in the single data file are multiples of this (default 4096, for mmap). */
  alignment?: number;
  /**
   * Also move large tensors held by node attributes (Constant values) out, not just initializers
   * (default true; exporters such as paddle2onnx keep all weights in Constant nodes).
   */
  attributes?: boolean;
}

export interface SaveOptions {
  /**
   * true or options: write external data. false: keep everything inside the .onnx (fails above 2 GiB).
   * Default: external data when the model already used it or would not fit in 2 GiB, else inline.
   */
  externalData?: boolean | ExternalDataOptions;
  /**
   * Files this save must not write over: the files the model was made from (see modelFiles). By
   * default, the files a model loaded from disk reads, unless it is saved back to its own path.
   */
  inputFiles?: readonly string[];
  /**
   * Check every node against the op schemas we know before anything is written (default true): an
   * unknown op, an opset onnxruntime does not have, a missing input or attribute, or an attribute given
   * twice is a ModelValidationError naming the node, instead of a file onnxruntime refuses to load.
   */
  checkOps?: boolean;
}

export interface SaveResult {
  path: string;
  /** External data files written (absolute paths). */
  dataFiles: string[];
  /** Tensors stored in external data. */
  externalTensors: number;
  /** Size of the .onnx file. */
  modelBytes: number;
}

interface Placement {
  tensor: TensorProto;
  size: number;
  external: boolean;
}

const DEFAULT_THRESHOLD = 1024;
const DEFAULT_ALIGNMENT = 4096;

function storedSize(model: Model, t: TensorProto): number {
  if (isExternal(t)) {
    if (!model.externalData) return tensorBytes(t).byteLength; // throws the "no baseDir" error
    return model.externalData.byteLength(t);
  }
  // Strings and element types this schema does not know stay inline, exactly as they are.
  if (t.rawData.byteLength > 0 || !isMovableType(t)) return t.rawData.byteLength;
  return tensorBytes(t).byteLength;
}

function isMovableType(t: TensorProto): boolean {
  return isKnownDataType(t.dataType) && t.dataType !== DataType.STRING && t.dataType !== DataType.UNDEFINED;
}

function plan(model: Model, externalData: SaveOptions['externalData']): { placements: Placement[]; external: ExternalDataOptions | undefined } {
  const tensors = allTensors(model.proto);
  const movable = new Set<TensorProto>();
  if (model.proto.graph) {
    for (const { graph } of allGraphs(model.proto.graph)) {
      for (const t of graph.initializer) movable.add(t);
      if (typeof externalData === 'object' && externalData.attributes === false) continue;
      for (const node of graph.node) for (const a of node.attribute) if (a.t) movable.add(a.t);
    }
  }
  const sizes = tensors.map((t) => storedSize(model, t));
  let external: ExternalDataOptions | undefined;
  if (externalData === true) external = {};
  else if (typeof externalData === 'object') external = externalData;
  else if (externalData === undefined) {
    const total = sizes.reduce((a, b) => a + b, 0);
    if (tensors.some(isExternal) || total > PROTOBUF_LIMIT) external = {};
  }
  const threshold = external?.threshold ?? DEFAULT_THRESHOLD;
  const placements = tensors.map((tensor, i) => ({
    tensor,
    size: sizes[i],
    external: external !== undefined && (isExternal(tensor) || (movable.has(tensor) && isMovableType(tensor) && sizes[i] >= threshold)),
  }));
  const inline = placements.reduce((sum, p) => sum + (p.external ? 0 : p.size), 0);
  if (inline > PROTOBUF_LIMIT) {
    throw new ModelSaveError(`tensor data kept inside the .onnx would be ${inline} bytes, over protobuf's 2 GiB limit; save with externalData`);
  }
  return { placements, external };
}

// Streaming copies go through one small reused buffer: a fresh buffer per chunk costs a page fault per
// 4 KiB, which made copying gigabytes of external data several times slower than the I/O itself.
const COPY_CHUNK = 16 * 1024 * 1024;

/** Copy a tensor's bytes to `fd` at `position`, streaming from its source file when not already in memory. */
function writeTensorData(model: Model, t: TensorProto, fd: number, position: number): void {
  const source = model.externalData;
  if (isExternal(t) && source && !source.cached(t)) {
    const range = source.resolve(t);
    const chunk = new Uint8Array(Math.min(COPY_CHUNK, range.length));
    source.withFile(range.file, t, (src) => {
      for (let done = 0; done < range.length;) {
        const n = Math.min(chunk.length, range.length - done);
        const read = fs.readSync(src, chunk, 0, n, range.offset + done);
        if (read === 0) throw new Error(`unexpected end of file after ${range.offset + done} bytes`);
        writeFully(fd, chunk.subarray(0, read), position + done);
        done += read;
      }
    });
    return;
  }
  writeFully(fd, tensorBytes(t, source), position);
}

function checkFileName(name: string): void {
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new ModelSaveError(`external data location "${name}" must be a plain file name in the model's folder`);
  }
}

function perTensorNames(modelName: string, tensors: TensorProto[]): string[] {
  const used = new Set<string>();
  return tensors.map((t) => {
    const base = `${modelName}.${(t.name || 'tensor').replace(/[^A-Za-z0-9._-]/g, '_')}`;
    let name = `${base}.data`;
    for (let i = 2; used.has(name); i++) name = `${base}_${i}.data`;
    used.add(name);
    return name;
  });
}

/** Before a data file the model still reads from is replaced, pull its remaining ranges into memory. */
function detachOverwrittenSources(model: Model, targets: string[]): void {
  const source = model.externalData;
  if (!source) return;
  const replaced = new Set(targets);
  for (const t of allTensors(model.proto)) {
    if (isExternal(t) && !source.cached(t) && replaced.has(source.resolve(t).file)) source.read(t);
  }
}

/** The files a loaded model reads, which saving it elsewhere must leave alone. */
function sourceFiles(model: Model, target: string): string[] {
  if (!model.sourcePath) return [];
  if (path.resolve(model.sourcePath) === target) return []; // saved back in place: replaced as a set
  const files = new Set([model.sourcePath]);
  const source = model.externalData;
  if (source) for (const t of allTensors(model.proto)) if (isExternal(t)) files.add(source.resolve(t).file);
  return [...files];
}

/**
 * Write `model` to `file` atomically (temporary files + rename). With external data, tensors go to
 * "<file name>.data" (or one file per tensor) at aligned offsets. The in-memory model is left unchanged.
 */
export function saveModel(model: Model, file: string, options: SaveOptions = {}): SaveResult {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  let realDir: string;
  try {
    realDir = fs.realpathSync(dir);
  } catch (err) {
    throw new ModelSaveError(`cannot save model to "${file}": folder "${dir}" is not accessible (${describeError(err)})`, { cause: err });
  }

  if (options.checkOps !== false) {
    try {
      assertOpsValid(model);
    } catch (err) {
      if (err instanceof OnnxError) throw err;
      throw new ModelSaveError(`cannot save model to "${file}": ${describeError(err)}`, { cause: err });
    }
  }
  const staged = new StagedModelSave(target);
  const swap = new StorageSwap();
  try {
    const { placements, external } = plan(model, options.externalData);
    const outside = placements.filter((p) => p.external);
    const modelName = path.basename(target);
    const perTensor = outside.length > 0 && external?.singleFile === false;
    const location = external?.location ?? `${modelName}.data`;
    const names = outside.length === 0 ? [] : perTensor ? perTensorNames(modelName, outside.map((p) => p.tensor)) : [location];
    if (!perTensor) names.forEach(checkFileName);
    // Every path this save replaces is checked before anything is written.
    const writes = [target, ...names.map((n) => path.join(dir, n))];
    for (const w of writes) assertReplaceable(w, w === target ? file : w);
    const inputFiles = options.inputFiles ?? sourceFiles(model, target);
    assertNotInput(inputFiles, writes);
    const dataFiles: string[] = [];
    /** Where each external tensor went: its data file's name, for the switching model to read it under the staged name. */
    const locations: { tensor: TensorProto; name: string }[] = [];
    if (outside.length > 0) {
      if (perTensor) {
        outside.forEach((p, i) => {
          const fd = staged.openData(path.join(dir, names[i]));
          writeTensorData(model, p.tensor, fd, 0);
          dataFiles.push(path.join(realDir, names[i]));
          swap.external(p.tensor, names[i], 0, p.size);
          locations.push({ tensor: p.tensor, name: names[i] });
        });
      } else {
        const alignment = external?.alignment ?? DEFAULT_ALIGNMENT;
        if (!Number.isSafeInteger(alignment) || alignment < 1) throw new ModelSaveError(`alignment ${alignment} must be a positive integer`);
        const fd = staged.openData(path.join(dir, location));
        let end = 0;
        for (const p of outside) {
          const offset = Math.ceil(end / alignment) * alignment;
          writeTensorData(model, p.tensor, fd, offset);
          swap.external(p.tensor, location, offset, p.size);
          locations.push({ tensor: p.tensor, name: location });
          end = offset + p.size;
        }
        if (end > 0) fs.ftruncateSync(fd, end);
        dataFiles.push(path.join(realDir, location));
      }
    }
    for (const p of placements) {
      if (!p.external && isExternal(p.tensor)) swap.inline(p.tensor, tensorBytes(p.tensor, model.externalData));
    }
    const bytes = toBinary(ModelProtoSchema, model.proto);
    if (bytes.byteLength > PROTOBUF_LIMIT) throw new ModelSaveError(`the model is ${bytes.byteLength} bytes, over protobuf's 2 GiB limit; save with externalData`);
    let switching: Uint8Array | undefined;
    if (locations.length > 0) {
      for (const { tensor, name } of locations) setLocation(tensor, staged.stagedLocation(path.join(dir, name)));
      switching = toBinary(ModelProtoSchema, model.proto);
    }
    swap.restore();
    const oldData = staged.oldDataFiles(inputFiles);
    detachOverwrittenSources(model, [...dataFiles, path.join(realDir, path.basename(target)), ...oldData]);
    staged.commit(bytes, switching, oldData);
    return { path: target, dataFiles, externalTensors: outside.length, modelBytes: bytes.byteLength };
  } catch (err) {
    staged.abort();
    if (err instanceof OnnxError) throw err;
    throw new ModelSaveError(`cannot save model to "${file}": ${describeError(err)}`, { cause: err });
  } finally {
    swap.restore();
  }
}

/** Re-point an external tensor (already re-pointed by a StorageSwap, so its entries are ours) at another file. */
function setLocation(tensor: TensorProto, location: string): void {
  for (const entry of tensor.externalData) if (entry.key === 'location') entry.value = location;
}

/** The model as one protobuf buffer with all tensor data inline (e.g. for InferenceSession.create). */
export function serializeModel(model: Model): Uint8Array {
  const swap = new StorageSwap();
  try {
    const { placements } = plan(model, false);
    for (const p of placements) {
      if (isExternal(p.tensor)) swap.inline(p.tensor, tensorBytes(p.tensor, model.externalData));
    }
    const bytes = toBinary(ModelProtoSchema, model.proto);
    if (bytes.byteLength > PROTOBUF_LIMIT) throw new ModelSaveError(`the model is ${bytes.byteLength} bytes, over protobuf's 2 GiB limit`);
    return bytes;
  } finally {
    swap.restore();
  }
}
