// Calibration samples from a folder. Each sample is either
//   - a sub-folder with one file per model input: <input>.npy, <input>.npz or ONNX test-data style
//     input_<i>.pb, or a single .npz holding every input by name; or
//   - an .npz file directly in the folder holding every input by name (np.savez(f, x=..., sr=...)).
// Samples are taken in name order.
import * as fs from 'fs';
import * as path from 'path';
import type { ValueMetadata } from '../../engine/engine';
import type { Feeds, HostTensor } from '../../engine/tensor';
import { InputError } from '../../compare/inputs';
import { parseNpy } from '../../compare/npy';
import { parseTensorProtoFile } from '../../compare/tensor-proto-file';
import { parseNpz } from './npz';

function checkType(tensor: HostTensor, input: ValueMetadata, source: string): HostTensor {
  if (tensor.type !== input.type) throw new InputError(`${source}: input ${input.name} wants ${input.type}, the file holds ${tensor.type}`);
  return tensor;
}

function fromArchive(file: string, inputs: readonly ValueMetadata[]): Feeds {
  const arrays = parseNpz(fs.readFileSync(file), file);
  const feeds: Feeds = {};
  for (const input of inputs) {
    const tensor = arrays.get(input.name) ?? (inputs.length === 1 && arrays.size === 1 ? [...arrays.values()][0] : undefined);
    if (!tensor) throw new InputError(`${file}: no array named ${input.name} (holds ${[...arrays.keys()].join(', ') || 'nothing'})`);
    feeds[input.name] = checkType(tensor, input, file);
  }
  return feeds;
}

function singleArray(file: string, input: ValueMetadata): HostTensor {
  const arrays = parseNpz(fs.readFileSync(file), file);
  const tensor = arrays.get(input.name) ?? (arrays.size === 1 ? [...arrays.values()][0] : undefined);
  if (!tensor) throw new InputError(`${file}: expected one array or one named ${input.name}`);
  return checkType(tensor, input, file);
}

function fromFolder(folder: string, inputs: readonly ValueMetadata[]): Feeds {
  const archives = fs.readdirSync(folder).filter((f) => f.endsWith('.npz') && !inputs.some((i) => `${i.name}.npz` === f));
  const perInput = inputs.every((input, i) => ['.npy', '.npz'].some((ext) => fs.existsSync(path.join(folder, `${input.name}${ext}`))) || fs.existsSync(path.join(folder, `input_${i}.pb`)));
  if (!perInput && archives.length === 1) return fromArchive(path.join(folder, archives[0]), inputs);
  const feeds: Feeds = {};
  inputs.forEach((input, i) => {
    const npy = path.join(folder, `${input.name}.npy`);
    const npz = path.join(folder, `${input.name}.npz`);
    const pb = path.join(folder, `input_${i}.pb`);
    if (fs.existsSync(npy)) feeds[input.name] = checkType(parseNpy(fs.readFileSync(npy), npy), input, npy);
    else if (fs.existsSync(npz)) feeds[input.name] = singleArray(npz, input);
    else if (fs.existsSync(pb)) feeds[input.name] = checkType(parseTensorProtoFile(fs.readFileSync(pb), pb), input, pb);
    else throw new InputError(`${folder}: no file for input ${input.name} (${input.name}.npy, ${input.name}.npz, input_${i}.pb or one .npz with every input)`);
  });
  return feeds;
}

/** One sample: a sub-folder or an .npz file (see the file comment for the layouts). */
export function readSampleEntry(full: string, inputs: readonly ValueMetadata[]): Feeds {
  return fs.statSync(full).isDirectory() ? fromFolder(full, inputs) : fromArchive(full, inputs);
}

/** Reads every sample in `dir` (see the file comment for the layouts). */
export function readCalibrationDir(dir: string, inputs: readonly ValueMetadata[]): Feeds[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new InputError(`${dir} is not a directory`);
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  const samples: Feeds[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() || (entry.isFile() && entry.name.endsWith('.npz'))) samples.push(readSampleEntry(full, inputs));
  }
  if (samples.length === 0) throw new InputError(`${dir} holds no samples (one folder or one .npz per sample)`);
  return samples;
}
