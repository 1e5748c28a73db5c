// quantizeFile: what `onnxforge quantize` does, as one call: load, quantize, save.
import { loadModel } from '../onnx/load';
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
  const { model, report } = await quantize(loadModel(input), quantizeOptions);
  saveModel(model, output, { externalData });
  return { ...report, output };
}
