// The files a saved model occupies: the .onnx and the external data files it names.
import * as fs from 'fs';
import * as path from 'path';
import { parseExternalLocation } from './external-location';
import { loadModel } from './load';
import { allTensors } from './proto-walk';
import { isExternal } from './tensor';

export function modelFiles(file: string): string[] {
  const model = loadModel(file, { validate: false });
  const dir = path.dirname(path.resolve(file));
  const locations = new Set(allTensors(model.proto).filter(isExternal).map((t) => parseExternalLocation(t).location));
  return [path.resolve(file), ...[...locations].map((l) => path.join(dir, l))];
}

/** Bytes on disk of the model and its external data. */
export function modelFilesBytes(file: string): number {
  return modelFiles(file).reduce((total, f) => total + fs.statSync(f).size, 0);
}
