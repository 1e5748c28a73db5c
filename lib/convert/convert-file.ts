// convertFile: what `onnxforge convert` does, as one call: load, replace weights, change float precision,
// save inline or with external data, and optionally compare the result with the original.
import { type CompareOptions, type CompareReport } from '../compare/compare';
import { compareWritten } from '../compare/compare-written';
import { loadModel } from '../onnx/load';
import { assertNotInput } from '../onnx/output-path';
import type { Model } from '../onnx/model';
import { saveModel, serializeModel, type ExternalDataOptions } from '../onnx/save';
import { allTensors } from '../onnx/proto-walk';
import { isExternal } from '../onnx/tensor';
import { convertFloat, type ConvertFloatOptions } from './convert-float';
import type { FloatConversionReport } from './float-report';
import { withFloat32Io } from './float32-io';
import { modelFiles, modelFilesBytes } from '../onnx/model-files';
import { applyWeights, type ApplyWeightsReport, type WeightMap } from './weights';

export interface ConvertFileOptions {
  /** Change float precision (float16, bfloat16, or back to float32). */
  float?: ConvertFloatOptions & { dtype: NonNullable<ConvertFloatOptions['dtype']> };
  /** Replace tensors from a safetensors file first. */
  weights?: { file: string; map?: WeightMap };
  /** 'external': tensors to external data files; 'inline': everything in the .onnx. Default: as the input. */
  layout?: 'external' | 'inline';
  external?: ExternalDataOptions;
  /** Run compareModels(original, result) with these options. */
  compare?: CompareOptions;
}

export interface ConvertFileReport {
  input: string;
  output: string;
  /** Model file plus external data files, before and after. */
  bytesBefore: number;
  bytesAfter: number;
  sizeRatio: number;
  layout: 'external' | 'inline';
  /** External data files written. */
  dataFiles: string[];
  externalTensors: number;
  weights?: ApplyWeightsReport;
  float?: FloatConversionReport;
  compare?: CompareReport;
  /** How the result was made comparable when it could not be run as saved. */
  compareNote?: string;
}

function usesExternalData(model: Model): boolean {
  return allTensors(model.proto).some(isExternal);
}

/** What compare runs in place of the saved result when onnxruntime cannot feed or run it as is. */
function comparable(model: Model, float: FloatConversionReport | undefined): { source: Model; note: string } | undefined {
  if (float?.dtype === 'bfloat16') {
    return { source: convertFloat(model, { dtype: 'float32' }).model, note: 'bfloat16 has no onnxruntime CPU kernels: compared the result widened back to float32' };
  }
  const narrowIo = [...model.inputs, ...model.outputs].some((v) => v.dtype === 'float16' || v.dtype === 'bfloat16');
  if (float?.dtype === 'float16' && narrowIo) {
    return { source: withFloat32Io(model), note: 'float16 inputs/outputs: compared through Casts to float32 at the edges' };
  }
  return undefined;
}

export async function convertFile(input: string, output: string, options: ConvertFileOptions = {}): Promise<ConvertFileReport> {
  assertNotInput(input, output);
  let model = loadModel(input);
  const inputFiles = [...modelFiles(model), ...(options.weights ? [options.weights.file] : [])];
  assertNotInput(inputFiles, output);
  const bytesBefore = modelFilesBytes(model);
  const inputLayout = usesExternalData(model) ? 'external' : undefined;
  let weights: ApplyWeightsReport | undefined;
  let float: FloatConversionReport | undefined;
  if (options.weights) ({ model, report: weights } = applyWeights(model, options.weights.file, { map: options.weights.map }));
  if (options.float) ({ model, report: float } = convertFloat(model, options.float));

  const layout = options.layout ?? inputLayout;
  const saved = saveModel(model, output, { externalData: layout === 'inline' ? false : layout === 'external' ? (options.external ?? {}) : undefined, inputFiles });
  const result = loadModel(saved.path);
  const bytesAfter = modelFilesBytes(result);
  const report: ConvertFileReport = {
    input, output: saved.path, bytesBefore, bytesAfter, sizeRatio: bytesAfter / bytesBefore,
    layout: saved.externalTensors > 0 ? 'external' : 'inline', dataFiles: saved.dataFiles, externalTensors: saved.externalTensors,
  };
  if (weights) report.weights = weights;
  if (float) report.float = float;
  if (options.compare) {
    const stand = comparable(result, float);
    report.compare = await compareWritten(input, stand ? serializeModel(stand.source) : saved.path, saved.path, options.compare);
    if (stand) report.compareNote = stand.note;
  }
  return report;
}
