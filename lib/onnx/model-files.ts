// The files a saved model occupies: the .onnx and the external data files its tensors name.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseExternalLocation } from './external-location';
import { loadModel } from './load';
import type { Model } from './model';
import { allTensors } from './proto-walk';
import { isExternal } from './tensor';

/** Absolute paths of the model file and its external data files; a Model must have been loaded from a file. */
export function modelFiles(source: string | Model): string[] {
  const model = typeof source === 'string' ? loadModel(source, { validate: false }) : source;
  if (!model.sourcePath) throw new Error('the model was not loaded from a file');
  const base = path.dirname(model.sourcePath);
  const data = new Set<string>();
  for (const t of allTensors(model.proto)) if (isExternal(t)) data.add(path.resolve(base, parseExternalLocation(t).location));
  return [model.sourcePath, ...data];
}

/** Bytes on disk of the model file and its external data files. */
export function modelFilesBytes(source: string | Model): number {
  return modelFiles(source).reduce((total, file) => total + fs.statSync(file).size, 0);
}
