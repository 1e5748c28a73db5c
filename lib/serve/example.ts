// The built-in example repository: what `onnxforge serve` serves when given no repository.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildMlp } from '../onnx/models/mlp';
import { saveModel } from '../onnx/save';
import { createServer, type ModelServer, type ServerOptions } from './server';

export const EXAMPLE_MODEL = 'example';

/** A request the example model answers, as the curl line `onnxforge serve` prints sends it. */
export const EXAMPLE_REQUEST = { inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [0.1, 0.2, 0.3, 0.4] }] };

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

/** A server over a fresh example repository in a temporary folder, which close() removes again. */
export function createExampleServer(options: Omit<ServerOptions, 'repository'> = {}): ModelServer {
  const repository = writeExampleRepository();
  let server: ModelServer;
  try {
    server = createServer({ ...options, repository });
  } catch (err) {
    fs.rmSync(repository, { recursive: true, force: true });
    throw err;
  }
  return {
    ...server,
    close: () => server.close().finally(() => fs.rmSync(repository, { recursive: true, force: true })),
  };
}
