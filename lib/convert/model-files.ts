// The files a saved model occupies: the .onnx and the external data files its tensors name.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseExternalLocation } from '../onnx/external-location';
import type { Model } from '../onnx/model';
import { allTensors } from '../onnx/proto-walk';
import { isExternal } from '../onnx/tensor';

/** Absolute paths of the model file and its external data files (the model must come from a file). */
export function modelFiles(model: Model): string[] {
  if (!model.sourcePath) throw new Error('the model was not loaded from a file');
  const base = path.dirname(model.sourcePath);
  const data = new Set<string>();
  for (const t of allTensors(model.proto)) if (isExternal(t)) data.add(path.resolve(base, parseExternalLocation(t).location));
  return [model.sourcePath, ...data];
}

/** Total bytes of the model file and its external data files. */
export function modelFileBytes(model: Model): number {
  return modelFiles(model).reduce((sum, file) => sum + fs.statSync(file).size, 0);
}
