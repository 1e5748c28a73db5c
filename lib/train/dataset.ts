// Training data: every model input as one array with a leading sample axis, plus optional labels.
// Read from one .npy/.npz per input (large sets), one .npz holding every input, or the sample folders
// calibration reads (each sample's arrays stacked, their own leading batch axis included).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ValueMetadata } from '../engine/engine';
import type { HostTensor, TensorData } from '../engine/tensor';
import { InputError } from '../compare/inputs';
import { parseNpy } from '../compare/npy';
import { parseNpz } from '../quantize/calibration/npz';
import { readCalibrationDir } from '../quantize/calibration/samples';

export interface Dataset {
  /** Input name -> [samples, ...] array. */
  inputs: Record<string, HostTensor>;
  /** Per-sample labels: class ids [samples, ...] or float targets. */
  labels?: HostTensor;
  size: number;
}

type NumericData = Exclude<TensorData, string[]>;

/** Concatenate along axis 0. */
export function stackRows(parts: readonly HostTensor[]): HostTensor {
  const first = parts[0];
  const Ctor = (first.data as NumericData).constructor as new (n: number) => NumericData;
  const total = parts.reduce((n, p) => n + (p.data as NumericData).length, 0);
  const out = new Ctor(total);
  let at = 0;
  for (const p of parts) {
    (out as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(p.data as ArrayLike<unknown>, at);
    at += (p.data as NumericData).length;
  }
  return { type: first.type, dims: [parts.reduce((n, p) => n + p.dims[0], 0), ...first.dims.slice(1)], data: out };
}

/** Rows `indices` of a [samples, ...] array, in that order. */
export function takeRows(tensor: HostTensor, indices: readonly number[]): HostTensor {
  const data = tensor.data as NumericData;
  const row = tensor.dims.slice(1).reduce((a, b) => a * b, 1);
  const Ctor = data.constructor as new (n: number) => NumericData;
  const out = new Ctor(indices.length * row);
  const target = out as unknown as { set(a: ArrayLike<unknown>, o: number): void };
  indices.forEach((r, i) => target.set(data.subarray(r * row, (r + 1) * row) as ArrayLike<unknown>, i * row));
  return { type: tensor.type, dims: [indices.length, ...tensor.dims.slice(1)], data: out };
}

function readArrayFile(file: string): HostTensor {
  const bytes = fs.readFileSync(file);
  if (file.endsWith('.npy')) return parseNpy(bytes, file);
  const arrays = parseNpz(bytes, file);
  if (arrays.size !== 1) throw new InputError(`${file}: expected one array, found ${arrays.size}`);
  return [...arrays.values()][0];
}

/** A single sample (without the leading axis) gets one. */
function withSampleAxis(tensor: HostTensor, input: ValueMetadata): HostTensor {
  const rank = input.shape?.length;
  return rank !== undefined && tensor.dims.length === rank - 1 ? { ...tensor, dims: [1, ...tensor.dims] } : tensor;
}

function checkInputs(inputs: Record<string, HostTensor>, metadata: readonly ValueMetadata[], source: string): number {
  let size: number | undefined;
  for (const m of metadata) {
    const t = inputs[m.name];
    if (!t) throw new InputError(`${source}: no data for input ${m.name}`);
    if (t.type !== m.type) throw new InputError(`${source}: input ${m.name} wants ${m.type}, the data holds ${t.type}`);
    if (m.shape && t.dims.length !== m.shape.length) throw new InputError(`${source}: input ${m.name} has rank ${m.shape.length}, the data [${t.dims.join(', ')}]`);
    if (size !== undefined && t.dims[0] !== size) throw new InputError(`${source}: inputs hold different numbers of samples (${size} and ${t.dims[0]})`);
    size = t.dims[0];
  }
  if (!size) throw new InputError(`${source}: no samples`);
  return size;
}

/**
 * Reads `source`: a folder with `<input>.npy`/`<input>.npz` for every input (a leading sample axis each),
 * an .npz file holding every input by name, or a folder of calibration-style samples.
 */
export function readDataset(source: string, metadata: readonly ValueMetadata[], labelsFile?: string): Dataset {
  if (!fs.existsSync(source)) throw new InputError(`${source} does not exist`);
  let inputs: Record<string, HostTensor>;
  const perInput = (name: string): string | undefined => ['.npy', '.npz'].map((ext) => path.join(source, `${name}${ext}`)).find((f) => fs.existsSync(f));
  if (fs.statSync(source).isFile()) {
    const arrays = parseNpz(fs.readFileSync(source), source);
    inputs = Object.fromEntries(metadata.map((m) => [m.name, arrays.get(m.name) ?? (metadata.length === 1 && arrays.size === 1 ? [...arrays.values()][0] : undefined)])
      .filter((e): e is [string, HostTensor] => e[1] !== undefined));
  } else if (metadata.every((m) => perInput(m.name))) {
    inputs = Object.fromEntries(metadata.map((m) => [m.name, readArrayFile(perInput(m.name) as string)]));
  } else {
    const samples = readCalibrationDir(source, metadata);
    inputs = Object.fromEntries(metadata.map((m) => [m.name, stackRows(samples.map((s) => withSampleAxis(s[m.name], m)))]));
  }
  const size = checkInputs(inputs, metadata, source);
  const dataset: Dataset = { inputs, size };
  if (labelsFile) dataset.labels = readLabels(labelsFile, size);
  return dataset;
}

/** Labels with one row per sample: int64 class ids (int32 widened) or float32 targets. */
export function readLabels(file: string, size: number): HostTensor {
  let labels = readArrayFile(file);
  if (labels.type === 'int32') labels = { type: 'int64', dims: labels.dims, data: BigInt64Array.from(labels.data as Int32Array, BigInt) };
  if (labels.type !== 'int64' && labels.type !== 'float32') throw new InputError(`${file}: labels must be int64 class ids or float32 targets, not ${labels.type}`);
  if (labels.dims[0] !== size) throw new InputError(`${file}: ${labels.dims[0]} labels for ${size} samples`);
  return labels;
}
