// pruneFile: what `onnxforge prune` does, as one call: load, prune, save, and compare the saved files
// (external data included) with the original.
import { compareWritten } from '../compare/compare-written';
import { loadModel } from '../onnx/load';
import { modelFiles } from '../onnx/model-files';
import { assertNotInput } from '../onnx/output-path';
import { saveModel } from '../onnx/save';
import type { PruneRunOptions } from './options';
import { pruneModel } from './prune';
import type { PruneReport } from './report';

/** Prune the model file `input` into `output`; `compare: false` skips running both in onnxruntime. */
export async function pruneFile(input: string, output: string, options: PruneRunOptions): Promise<PruneReport> {
  assertNotInput(input, output);
  const source = loadModel(input);
  const inputFiles = modelFiles(source);
  assertNotInput(inputFiles, output);
  const { model, report } = pruneModel(source, options);
  saveModel(model, output, { inputFiles });
  if (options.compare !== false) report.compare = await compareWritten(input, output, output, options.compare ?? {});
  return report;
}
