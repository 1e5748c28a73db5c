// A model as onnxruntime can load it: its bytes, or — above protobuf's 2 GiB limit — a temporary
// file with external data. Sizes are what the model occupies either way.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ModelSaveError } from '../onnx/errors';
import type { Model } from '../onnx/model';
import { saveModel, serializeModel } from '../onnx/save';

export interface ModelSource {
  /** Bytes, or the path of a saved copy. */
  source: Uint8Array | string;
  bytes: number;
  /** Removes the temporary copy, if one was written. */
  dispose(): void;
}

export function modelSource(model: Model, label: string): ModelSource {
  try {
    const bytes = serializeModel(model);
    return { source: bytes, bytes: bytes.byteLength, dispose: () => undefined };
  } catch (err) {
    if (!(err instanceof ModelSaveError)) throw err;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxforge-quantize-'));
    const file = path.join(dir, `${label}.onnx`);
    const saved = saveModel(model, file, { externalData: true });
    const bytes = [saved.path, ...saved.dataFiles].reduce((sum, f) => sum + fs.statSync(f).size, 0);
    return { source: file, bytes, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
}
