// Model inputs for compare and calibration: read from a folder of samples, or
// generated deterministically from a seed.
import * as fs from 'fs';
import * as path from 'path';
import type { ValueMetadata } from '../engine/engine';
import { elementCount, Feeds, HostTensor, TensorType } from '../engine/tensor';
import { parseNpy } from './npy';
import { parseTensorProtoFile } from './tensor-proto-file';
import { createRandom } from '../onnx/random';
import { InputError } from './input-error';
import { resolveInputShape, type ShapeOverrides } from './input-shapes';

/** `dims` sets symbolic dims by name (e.g. batch=4), `shapes` whole inputs; other unknown dims are 1. */
export interface GenerateOptions extends ShapeOverrides {
  seed?: number;
  /** Inputs filled with one constant (e.g. sr=16000 for a model that branches on it). */
  values?: Record<string, number>;
}

export { InputError };

function fill(type: string, count: number, next: () => number, constant: number | undefined): HostTensor['data'] {
  const value = (scale: number, offset: number) => (constant !== undefined ? constant : next() * scale + offset);
  switch (type as TensorType) {
    case 'float32': return Float32Array.from({ length: count }, () => value(2, -1));
    case 'float64': return Float64Array.from({ length: count }, () => value(2, -1));
    case 'int8': return Int8Array.from({ length: count }, () => Math.floor(value(16, -8)));
    case 'uint8': return Uint8Array.from({ length: count }, () => Math.floor(value(256, 0)));
    case 'int16': return Int16Array.from({ length: count }, () => Math.floor(value(16, 0)));
    case 'int32': return Int32Array.from({ length: count }, () => Math.floor(value(16, 0)));
    case 'int64': return BigInt64Array.from({ length: count }, () => BigInt(Math.floor(value(16, 0))));
    case 'bool': return Uint8Array.from({ length: count }, () => (value(1, 0) >= 0.5 ? 1 : 0));
    default: throw new InputError(`cannot generate inputs of type ${type}; pass them with --inputs`);
  }
}

/** One deterministic sample: each input gets its own stream so adding inputs keeps the others stable. */
export function generateFeeds(inputs: readonly ValueMetadata[], sample: number, options: GenerateOptions = {}): Feeds {
  const feeds: Feeds = {};
  inputs.forEach((input, index) => {
    const dims = resolveInputShape(input, options);
    const next = createRandom((options.seed ?? 0) * 1000003 + sample * 7919 + index);
    feeds[input.name] = {
      type: input.type as TensorType,
      dims,
      data: fill(input.type, elementCount(dims), next, options.values?.[input.name]),
    };
  });
  return feeds;
}

function readInputFile(file: string, input: ValueMetadata): HostTensor {
  const bytes = fs.readFileSync(file);
  const tensor = file.endsWith('.npy') ? parseNpy(bytes, file) : parseTensorProtoFile(bytes, file);
  if (tensor.type !== input.type) {
    throw new InputError(`${file}: input ${input.name} wants ${input.type}, the file holds ${tensor.type}`);
  }
  return tensor;
}

/**
 * Samples from DIR: one folder per sample, each with `<input>.npy` or ONNX
 * test-data style `input_<i>.pb` per model input. Samples are sorted by name.
 */
export function readSamplesDir(dir: string, inputs: readonly ValueMetadata[]): Feeds[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new InputError(`${dir} is not a directory`);
  const samples = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  if (samples.length === 0) throw new InputError(`${dir} holds no sample folders (one folder per sample)`);
  return samples.map((sample) => {
    const folder = path.join(dir, sample);
    const feeds: Feeds = {};
    inputs.forEach((input, i) => {
      const candidates = [path.join(folder, `${input.name}.npy`), path.join(folder, `input_${i}.pb`)];
      const file = candidates.find((f) => fs.existsSync(f));
      if (!file) throw new InputError(`${folder}: no file for input ${input.name} (${candidates.map((c) => path.basename(c)).join(' or ')})`);
      feeds[input.name] = readInputFile(file, input);
    });
    return feeds;
  });
}
