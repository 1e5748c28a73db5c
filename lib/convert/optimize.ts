// optimizeModel: onnxruntime's own graph optimizer (constant folding, redundant node removal, fusions),
// saved through the session option optimizedModelFilePath. The fusions are onnxruntime's, not ours.
// onnxruntime's log level is lowered to errors for these sessions: its warnings (the result of level
// "all" is tied to this CPU) are stated in the command's help instead.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { type CompareOptions, type CompareReport } from '../compare/compare';
import { compareWritten } from '../compare/compare-written';
import { tempPath } from '../onnx/atomic-file';
import { loadModel } from '../onnx/load';
import { assertNotInput } from '../onnx/output-path';
import { saveModel } from '../onnx/save';
import type { Model } from '../onnx/model';
import { modelFiles, modelFilesBytes } from '../onnx/model-files';
import { uniquifyInitializerNames } from './unique-initializers';

export type OptimizationLevel = 'basic' | 'extended' | 'all';
export const OPTIMIZATION_LEVELS: readonly OptimizationLevel[] = ['basic', 'extended', 'all'];

export interface OptimizeOptions {
  level: OptimizationLevel;
  /** Write initializers of at least `threshold` bytes (default 1024) to "<output>.data". */
  externalData?: boolean | { threshold?: number };
  /** Run compareModels(input, result) with these options. */
  compare?: CompareOptions;
}

export interface OptimizeReport {
  level: OptimizationLevel;
  /** The optimized model file. */
  output: string;
  nodesBefore: number;
  nodesAfter: number;
  opsBefore: Record<string, number>;
  opsAfter: Record<string, number>;
  /** Initializers onnxruntime wrote twice in a graph (dropped) or under a name another graph used (renamed). */
  renamedInitializers: number;
  /** Model file plus external data files. */
  bytesBefore: number;
  bytesAfter: number;
  /** Every file written (the model and its external data, if any). */
  files: string[];
  compare?: CompareReport;
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
 * onnxruntime writes into a temporary folder; the result is checked, its repeated initializer names
 * made unique, and saved atomically (with external data when asked), then loaded once more by onnxruntime.
 */
export async function optimizeModel(input: string, output: string, options: OptimizeOptions): Promise<OptimizeReport> {
  if (!OPTIMIZATION_LEVELS.includes(options.level)) throw new RangeError(`optimization level must be one of ${OPTIMIZATION_LEVELS.join(', ')}, got "${options.level}"`);
  assertNotInput(input, output);
  const before = loadModel(input);
  const inputFiles = modelFiles(before);
  assertNotInput(inputFiles, output);
  const target = path.resolve(output);
  const name = path.basename(target);
  const staging = tempPath(target); // a folder; the next save here removes it if this process is killed
  fs.mkdirSync(staging);
  try {
    const external = options.externalData;
    const threshold = typeof external === 'object' && external.threshold !== undefined ? external.threshold : 1024;
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: options.level,
      executionProviders: ['cpu'],
      optimizedModelFilePath: path.join(staging, name),
      logSeverityLevel: 3,
    };
    if (external) {
      // Needed for models beyond 2 GiB, which onnxruntime cannot write inline.
      sessionOptions.extra = {
        session: {
          optimized_model_external_initializers_file_name: `${name}.data`,
          optimized_model_external_initializers_min_size_in_bytes: String(threshold),
        },
      };
    }
    const session = await ort.InferenceSession.create(path.resolve(input), sessionOptions);
    await session.release();
    const optimized = loadModel(path.join(staging, name), { validate: false });
    const renamedInitializers = uniquifyInitializerNames(optimized);
    const saved = saveModel(optimized, target, { externalData: external ? { threshold } : false, inputFiles });
    const check = await ort.InferenceSession.create(saved.path, { executionProviders: ['cpu'], logSeverityLevel: 3 });
    await check.release();
    const after = loadModel(saved.path);
    const opsBefore = opCounts(before);
    const opsAfter = opCounts(after);
    const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    const report: OptimizeReport = {
      level: options.level,
      output: saved.path,
      nodesBefore: sum(opsBefore),
      nodesAfter: sum(opsAfter),
      opsBefore,
      opsAfter,
      renamedInitializers,
      bytesBefore: modelFilesBytes(before),
      bytesAfter: modelFilesBytes(after),
      files: [saved.path, ...saved.dataFiles],
    };
    if (options.compare) report.compare = await compareWritten(input, saved.path, saved.path, options.compare);
    return report;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
