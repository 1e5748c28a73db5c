// optimizeModel: onnxruntime's own graph optimizer (constant folding, redundant node removal, fusions),
// saved through the session option optimizedModelFilePath. The fusions are onnxruntime's, not ours.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModel } from '../onnx/load';
import type { Model } from '../onnx/model';
import { modelFileBytes } from './model-files';

export type OptimizationLevel = 'basic' | 'extended' | 'all';
export const OPTIMIZATION_LEVELS: readonly OptimizationLevel[] = ['basic', 'extended', 'all'];

export interface OptimizeOptions {
  level: OptimizationLevel;
  /** Write initializers of at least `threshold` bytes (default 1024) to "<output>.data". */
  externalData?: boolean | { threshold?: number };
}

export interface OptimizeReport {
  level: OptimizationLevel;
  /** The optimized model file. */
  output: string;
  nodesBefore: number;
  nodesAfter: number;
  opsBefore: Record<string, number>;
  opsAfter: Record<string, number>;
  /** Model file plus external data files. */
  bytesBefore: number;
  bytesAfter: number;
  /** Every file written (the model and its external data, if any). */
  files: string[];
}

function opCounts(model: Model): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { node } of model.nodes()) {
    const op = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.${node.opType}` : node.opType;
    counts[op] = (counts[op] ?? 0) + 1;
  }
  return counts;
}

/**
 * Run onnxruntime's optimizer at `level` on the model file `input` and save the result at `output`.
 * The result is written in a temporary folder next to `output` and moved into place when complete.
 */
export async function optimizeModel(input: string, output: string, options: OptimizeOptions): Promise<OptimizeReport> {
  if (!OPTIMIZATION_LEVELS.includes(options.level)) throw new RangeError(`optimization level must be one of ${OPTIMIZATION_LEVELS.join(', ')}, got "${options.level}"`);
  const before = loadModel(input);
  const target = path.resolve(output);
  const name = path.basename(target);
  const staging = path.join(path.dirname(target), `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  fs.mkdirSync(staging);
  try {
    const external = options.externalData;
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: options.level,
      executionProviders: ['cpu'],
      optimizedModelFilePath: path.join(staging, name),
    };
    if (external) {
      const threshold = typeof external === 'object' && external.threshold !== undefined ? external.threshold : 1024;
      sessionOptions.extra = {
        session: {
          optimized_model_external_initializers_file_name: `${name}.data`,
          optimized_model_external_initializers_min_size_in_bytes: String(threshold),
        },
      };
    }
    const session = await ort.InferenceSession.create(path.resolve(input), sessionOptions);
    await session.release();
    const written = fs.readdirSync(staging);
    for (const file of written) fs.renameSync(path.join(staging, file), path.join(path.dirname(target), file));
    const after = loadModel(target);
    const opsBefore = opCounts(before);
    const opsAfter = opCounts(after);
    const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    return {
      level: options.level,
      output: target,
      nodesBefore: sum(opsBefore),
      nodesAfter: sum(opsAfter),
      opsBefore,
      opsAfter,
      bytesBefore: modelFileBytes(before),
      bytesAfter: modelFileBytes(after),
      files: written.map((file) => path.join(path.dirname(target), file)),
    };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
