// trainFile: what `onnxforge train` does, as one call: load, read the labelled data, train, write.
import { loadModel } from '../onnx/load';
import { modelFiles } from '../onnx/model-files';
import { assertNotInput } from '../onnx/output-path';
import { saveModel } from '../onnx/save';
import { inputMetadata } from '../quantize/calibrate';
import { readDataset } from './dataset';
import { TrainingInterrupted } from './interrupted';
import { train, type TrainModelOptions, type TrainReport } from './train';

export interface TrainFileOptions extends Omit<TrainModelOptions, 'eval'> {
  data: string;
  labels: string;
  evalData?: string;
  evalLabels?: string;
}

export interface TrainFileReport extends TrainReport {
  input: string;
  output: string;
}

export async function trainFile(input: string, output: string, o: TrainFileOptions): Promise<TrainFileReport> {
  assertNotInput(input, output);
  const source = loadModel(input);
  const inputFiles = modelFiles(source);
  assertNotInput(inputFiles, output);
  const metadata = inputMetadata(source);
  const data = readDataset(o.data, metadata, o.labels);
  const evalSet = o.evalData ? readDataset(o.evalData, metadata, o.evalLabels) : undefined;
  const { model, report } = await train(source, data, { ...o, eval: evalSet });
  if (report.training.interrupted) throw new TrainingInterrupted(report.training.steps, report.training.plannedSteps, o.checkpoint);
  saveModel(model, output, { inputFiles });
  return { ...report, input, output };
}
