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

/** Every model folder in the repository, by name. */
export function scanRepository(root: string): RepositoryModel[] {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new Error(`model repository ${root} is not a directory`);
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && MODEL_NAME.test(e.name))
    .map((e) => readRepositoryModel(root, e.name))
    .sort((a, b) => a.name.localeCompare(b.name));
}
