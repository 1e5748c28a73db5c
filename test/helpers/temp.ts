// Temporary folders removed after each test file.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildMlp, saveModel } from '../../lib/onnx';

export function makeTempDir(prefix = 'onnxforge-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A folder for one test file's outputs, holding mlp.onnx (32 -> 64 -> 10, batch dim "batch"); ready from beforeAll on. */
export function folderWithMlp(): { dir: string; mlp: string } {
  const folder = { dir: '', mlp: '' };
  beforeAll(() => {
    folder.dir = makeTempDir();
    folder.mlp = path.join(folder.dir, 'mlp.onnx');
    saveModel(buildMlp({ inputSize: 32, hidden: [64], outputSize: 10 }), folder.mlp);
  });
  afterAll(() => removeDir(folder.dir));
  return folder;
}
