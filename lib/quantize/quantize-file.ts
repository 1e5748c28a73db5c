// quantizeFile: what `onnxforge quantize` does, as one call: load, quantize, save.
import { loadModel } from '../onnx/load';
import { modelFiles } from '../onnx/model-files';
import { assertNotInput } from '../onnx/output-path';
import { saveModel, type SaveOptions } from '../onnx/save';
import type { QuantizeOptions } from './options';
import { quantize } from './quantize';
import type { QuantizeReport } from './report';

export interface QuantizeFileOptions extends QuantizeOptions {
  /** As saveModel's option: true writes the weights to an external data file next to the model. */
  externalData?: SaveOptions['externalData'];
}

/** Quantize the model file `input` into `output`; the report says where it went. */
export async function quantizeFile(input: string, output: string, options: QuantizeFileOptions): Promise<QuantizeReport & { output: string }> {
  assertNotInput(input, output);
  const { externalData, ...quantizeOptions } = options;
  const source = loadModel(input);
  const inputFiles = modelFiles(source);
  assertNotInput(inputFiles, output);
  const { model, report } = await quantize(source, quantizeOptions);
  saveModel(model, output, { externalData, inputFiles });
  return { ...report, output };
}
