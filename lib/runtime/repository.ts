// The model repository on disk (Triton layout):
//   <repo>/<model>/config.json            optional; all defaults when absent
//   <repo>/<model>/<version>/model.onnx   version = positive integer folder name
import * as fs from 'fs';
import * as path from 'path';
import { ModelConfigError, ModelConfig, parseModelConfigText } from './config';
import { ModelNotFoundError } from './errors';

export const MODEL_FILE = 'model.onnx';
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export interface ModelVersionFiles {
  version: number;
  file: string;
  /** Bytes of everything in the version folder (model + external data). */
  bytes: number;
}

export interface RepositoryModel {
  name: string;
  dir: string;
  /** Undefined when the model cannot be served; `error` says why. */
  config?: ModelConfig;
  error?: string;
  /** The versions the version policy serves, ascending. */
  versions: ModelVersionFiles[];
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isFile()) total += fs.statSync(full).size;
    else if (entry.isDirectory()) total += folderBytes(full);
  }
  return total;
}

function availableVersions(dir: string): ModelVersionFiles[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^[1-9][0-9]*$/.test(e.name) && fs.existsSync(path.join(dir, e.name, MODEL_FILE)))
    .map((e) => ({ version: Number(e.name), file: path.join(dir, e.name, MODEL_FILE), bytes: folderBytes(path.join(dir, e.name)) }))
    .sort((a, b) => a.version - b.version);
}

function applyPolicy(config: ModelConfig, available: ModelVersionFiles[], name: string): ModelVersionFiles[] {
  const policy = config.versionPolicy;
  if ('latest' in policy) return available.slice(-policy.latest);
  if ('all' in policy) return available;
  const missing = policy.specific.filter((v) => !available.some((a) => a.version === v));
  if (missing.length) throw new ModelConfigError(`model ${name}: version_policy names version(s) ${missing.join(', ')} that have no ${MODEL_FILE}`);
  return available.filter((a) => policy.specific.includes(a.version));
}

/** Reads one model's folder. Problems with the model are reported in `error`, not thrown. */
export function readRepositoryModel(root: string, name: string): RepositoryModel {
  const dir = path.join(root, name);
  if (!MODEL_NAME.test(name) || !fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new ModelNotFoundError(`unknown model "${name}"`);
  }
  const model: RepositoryModel = { name, dir, versions: [] };
  try {
    const configFile = path.join(dir, 'config.json');
    const text = fs.existsSync(configFile) ? fs.readFileSync(configFile, 'utf8') : undefined;
    const config = parseModelConfigText(text, `${name}/config.json`);
    if (config.name !== undefined && config.name !== name) {
      throw new ModelConfigError(`${name}/config.json: name "${config.name}" differs from the folder name "${name}"`);
    }
    const available = availableVersions(dir);
    if (available.length === 0) throw new ModelConfigError(`model ${name}: no version folder holds a ${MODEL_FILE} (expected ${name}/1/${MODEL_FILE})`);
    model.versions = applyPolicy(config, available, name);
    model.config = config;
  } catch (err) {
    if (!(err instanceof ModelConfigError)) throw err;
    model.error = err.message;
  }
  return model;
}

/**
 * Model files lying loose in the repository folder are refused, saying where each belongs: served
 * silently as nothing, they would leave a server that reports ready with none of the user's models.
 */
function refuseLooseModelFiles(root: string, entries: fs.Dirent[]): void {
  const loose = entries.filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.onnx')).map((e) => e.name).sort();
  if (loose.length === 0) return;
  const moves = loose.slice(0, 3).map((f) => `${path.join(root, f)} should be ${path.join(root, f.slice(0, -'.onnx'.length), '1', MODEL_FILE)}`);
  const more = loose.length > 3 ? ` (and ${loose.length - 3} more)` : '';
  throw new Error(`model repository ${root} holds loose .onnx files; each model needs its own folder, <repo>/<model>/<version>/${MODEL_FILE}: ${moves.join(', ')}${more}`);
}

/** Throws, with what to do, when `root` is not a folder or holds model files outside the layout. */
export function checkRepositoryLayout(root: string): fs.Dirent[] {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new Error(`model repository ${root} is not a directory`);
  const entries = fs.readdirSync(root, { withFileTypes: true });
  refuseLooseModelFiles(root, entries);
  return entries;
}

/** Every model folder in the repository, by name. */
export function scanRepository(root: string): RepositoryModel[] {
  return checkRepositoryLayout(root)
    .filter((e) => e.isDirectory() && MODEL_NAME.test(e.name))
    .map((e) => readRepositoryModel(root, e.name))
    .sort((a, b) => a.name.localeCompare(b.name));
}
