// Model repositories for runtime and server tests, written into temp folders with the builder.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildMlp, buildTransformerBlock, GraphBuilder, Model, randomNormal, saveModel } from '../../lib/onnx';

export interface FixtureModel {
  config?: Record<string, unknown> | string;
  /** Version number -> model; a string is written as the (bad) model file's bytes. */
  versions: Record<number, Model | string>;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `onnxforge-${prefix}-`));
}

export function writeModel(root: string, name: string, model: FixtureModel): void {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  if (model.config !== undefined) {
    fs.writeFileSync(path.join(dir, 'config.json'), typeof model.config === 'string' ? model.config : JSON.stringify(model.config, null, 2));
  }
  for (const [version, m] of Object.entries(model.versions)) {
    fs.mkdirSync(path.join(dir, version), { recursive: true });
    const file = path.join(dir, version, 'model.onnx');
    if (typeof m === 'string') fs.writeFileSync(file, m);
    else saveModel(m, file);
  }
}

export function writeRepository(models: Record<string, FixtureModel>): string {
  const root = tempDir('repo');
  for (const [name, model] of Object.entries(models)) writeModel(root, name, model);
  return root;
}

/** input [batch, 8] -> output [batch, 4]. */
export function smallMlp(seed = 0): Model {
  return buildMlp({ inputSize: 8, hidden: [16], outputSize: 4, seed });
}

export function smallTransformer(): Model {
  return buildTransformerBlock({ seq: 8, hidden: 32, heads: 4, ffn: 64, batch: 'batch' });
}

/**
 * input [batch, 8] -> output [batch, 8] through `repeats` width x width MatMul+Relu with one
 * shared weight: small on disk, slow enough (tens of ms at 64 rows) to keep a queue filled in tests.
 */
export function slowModel(repeats = 50, width = 1024): Model {
  const g = new GraphBuilder('slow');
  const x = g.input('input', 'float32', ['batch', 8]);
  const up = g.initializer('up', randomNormal(8 * width, 1, 1 / Math.sqrt(8)), [8, width]);
  const w = g.initializer('w', randomNormal(width * width, 2, 1 / Math.sqrt(width)), [width, width]);
  const down = g.initializer('down', randomNormal(width * 8, 3, 1 / Math.sqrt(width)), [width, 8]);
  let h = g.node('MatMul', [x, up]);
  for (let i = 0; i < repeats; i++) h = g.node('Relu', [g.node('MatMul', [h, w])]);
  g.node('MatMul', [h, down], ['output']);
  g.output('output', 'float32', ['batch', 8]);
  return g.build();
}

/** Values of a float32 [rows, cols] input filled with a simple pattern. */
export function rowsInput(rows: number, cols: number, offset = 0): Float32Array {
  return Float32Array.from({ length: rows * cols }, (_, i) => ((i + offset) % 7) / 7 - 0.5);
}
