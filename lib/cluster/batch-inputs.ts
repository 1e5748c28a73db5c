// The samples of a batch: one per entry of the inputs folder, named after it. An entry is a
// .npy file (models with one input), an .npz file holding every input by name, or a sub-folder
// with one file per input (the layouts `quantize --calibration` reads).
import * as fs from 'fs';
import * as path from 'path';
import type { ValueMetadata } from '../engine/engine';
import type { Feeds } from '../engine/tensor';
import { InputError } from '../compare/inputs';
import { parseNpy } from '../compare/npy';
import { readSampleEntry } from '../quantize/calibration/samples';

export interface Sample {
  /** The entry's name without .npy/.npz: the output is <out>/<name>.npz. */
  name: string;
  path: string;
  /** Sizes and modification times of what it reads: a changed input makes a new job, never a stale result. */
  identity: string;
}

function fileIdentity(file: string, label: string): string {
  const stat = fs.statSync(file);
  return `${label}:${stat.size}:${stat.mtimeMs}`;
}

function folderIdentity(dir: string): string {
  return fs.readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort()
    .map((name) => fileIdentity(path.join(dir, name), name))
    .join('|');
}

/** Every sample of `dir`, sorted by name; hidden entries and other files are ignored. */
export function listSamples(dir: string): Sample[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new InputError(`${dir} is not a directory`);
  const byName = new Map<string, Sample>();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    let sample: Sample | undefined;
    if (entry.isDirectory()) sample = { name: entry.name, path: full, identity: folderIdentity(full) };
    else if (entry.isFile() && /\.np[yz]$/.test(entry.name)) sample = { name: entry.name.slice(0, -4), path: full, identity: fileIdentity(full, '') };
    if (!sample) continue;
    const clash = byName.get(sample.name);
    if (clash) throw new InputError(`${dir}: ${path.basename(clash.path)} and ${entry.name} are both sample "${sample.name}"`);
    byName.set(sample.name, sample);
  }
  if (byName.size === 0) throw new InputError(`${dir} holds no samples (.npy or .npz files, or one folder per sample)`);
  return [...byName.values()];
}

export function readSample(sample: Sample, inputs: readonly ValueMetadata[]): Feeds {
  if (!sample.path.endsWith('.npy') || fs.statSync(sample.path).isDirectory()) return readSampleEntry(sample.path, inputs);
  if (inputs.length !== 1) throw new InputError(`${sample.path}: a .npy sample fits a model with one input; this one has ${inputs.map((i) => i.name).join(', ')} (use .npz or a folder)`);
  const tensor = parseNpy(fs.readFileSync(sample.path), sample.path);
  if (tensor.type !== inputs[0].type) throw new InputError(`${sample.path}: input ${inputs[0].name} wants ${inputs[0].type}, the file holds ${tensor.type}`);
  return { [inputs[0].name]: tensor };
}
