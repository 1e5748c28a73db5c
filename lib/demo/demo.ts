// runDemo: the main job on a built-in model, so a newcomer sees it work at once: build a
// transformer-encoder block, quantize it to int8 (dynamic), and compare both in onnxruntime.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CpuInfo } from '../../binding';
import { compareModels, type CompareReport } from '../compare/compare';
import { inspectModel, type InspectReport } from '../inspect/inspect';
import { kernels } from '../kernels';
import { buildTransformerBlock } from '../onnx/models/transformer-block';
import { saveModel } from '../onnx/save';
import { quantize } from '../quantize/quantize';
import type { QuantizeReport } from '../quantize/report';

export interface DemoOptions {
  /** Folder for the two models, kept afterwards (default: a temporary folder, removed when done or on failure). */
  dir?: string;
}

export interface DemoReport {
  dir: string;
  /** False when `dir` was a temporary folder, removed before runDemo returned: the files are gone. */
  kept: boolean;
  /** The float encoder block and its int8 version. */
  files: { original: string; quantized: string };
  cpu: CpuInfo;
  inspect: InspectReport;
  quantize: QuantizeReport;
  compare: CompareReport;
}

async function demoIn(dir: string, kept: boolean): Promise<DemoReport> {
  const files = { original: path.join(dir, 'encoder-block.onnx'), quantized: path.join(dir, 'encoder-block.int8.onnx') };
  const original = buildTransformerBlock({ seq: 128, hidden: 768, heads: 12, ffn: 3072, batch: 'batch' });
  saveModel(original, files.original);
  const { model: quantized, report: quantizeReport } = await quantize(original, { mode: 'dynamic', verify: false });
  saveModel(quantized, files.quantized);
  const compare = await compareModels(files.original, files.quantized, { dims: { batch: 1 }, sampleCount: 2, latencyRuns: 20 });
  return { dir, kept, files, cpu: kernels.cpuInfo(), inspect: inspectModel(original), quantize: quantizeReport, compare };
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  if (options.dir !== undefined) {
    fs.mkdirSync(options.dir, { recursive: true });
    return demoIn(options.dir, true);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxforge-demo-'));
  try {
    return await demoIn(dir, false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
