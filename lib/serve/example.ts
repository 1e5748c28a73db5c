// The built-in example repository: what `onnxforge serve` serves when given no repository.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildMlp } from '../onnx/models/mlp';
import { saveModel } from '../onnx/save';

export const EXAMPLE_MODEL = 'example';

/**
 * Writes a repository with one model, "example": an MLP (input [batch, 4] float32 ->
 * output [batch, 3]) with dynamic batching. Returns the repository folder.
 */
export function writeExampleRepository(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxforge-example-'))): string {
  const modelDir = path.join(dir, EXAMPLE_MODEL);
  fs.mkdirSync(path.join(modelDir, '1'), { recursive: true });
  saveModel(buildMlp({ inputSize: 4, hidden: [16], outputSize: 3, seed: 1 }), path.join(modelDir, '1', 'model.onnx'));
  const config = {
    max_batch_size: 32,
    dynamic_batching: { max_queue_delay_ms: 0 },
    instances: { count: 1 },
    warmup: { samples: 1, batch_sizes: [1, 32] },
  };
  fs.writeFileSync(path.join(modelDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  return dir;
}
