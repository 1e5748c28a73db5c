// distillFile: what `onnxforge distill` does, as one call: load the teacher, make or load the student,
// read the data, distill, write the student (a plain inference model) and compare it with the teacher
// in onnxruntime on real samples.
import { compareModels, type CompareOptions, type CompareReport } from '../compare/compare';
import { loadModel } from '../onnx/load';
import { modelFiles } from '../onnx/model-files';
import { assertNotInput } from '../onnx/output-path';
import { saveModel } from '../onnx/save';
import { inputMetadata } from '../quantize/calibrate';
import { compareSamples } from './compare-samples';
import { readDataset } from './dataset';
import { distill, type DistillOptions, type DistillReport } from './distill';
import { TrainingInterrupted } from './interrupted';

export interface DistillFileOptions extends Omit<DistillOptions, 'eval'> {
  /** A student model file; or `studentFrom`, a spec that makes one from the teacher. */
  student?: string;
  studentFrom?: string;
  /** Training inputs (see readDataset) and optional labels (.npy). */
  data: string;
  labels?: string;
  /** Held-out inputs and labels for the accuracy figures. */
  evalData?: string;
  evalLabels?: string;
  /** Figures against the teacher from compareModels on real samples; false skips them. */
  compare?: Omit<CompareOptions, 'samples' | 'inputsDir'> | false;
}

export interface DistillFileReport extends DistillReport {
  teacherFile: string;
  output: string;
  /** Student (B) against the teacher (A) in onnxruntime; null when not asked for. */
  compare: CompareReport | null;
}

export async function distillFile(teacherFile: string, output: string, o: DistillFileOptions): Promise<DistillFileReport> {
  assertNotInput(teacherFile, output);
  if (o.student) assertNotInput(o.student, output);
  if ((o.student === undefined) === (o.studentFrom === undefined)) throw new Error('give a student model or a --student-from spec (one of them)');
  const teacher = loadModel(teacherFile);
  const student = o.student ? loadModel(o.student) : undefined;
  const inputFiles = [...modelFiles(teacher), ...(student ? modelFiles(student) : [])];
  assertNotInput(inputFiles, output);
  const metadata = inputMetadata(teacher);
  const data = readDataset(o.data, metadata, o.labels);
  const evalSet = o.evalData ? readDataset(o.evalData, metadata, o.evalLabels) : undefined;
  const { model, report } = await distill(teacher, student ?? (o.studentFrom as string), data, { ...o, eval: evalSet });
  if (report.training.interrupted) throw new TrainingInterrupted(report.training.steps, report.training.plannedSteps, o.checkpoint);
  saveModel(model, output, { inputFiles });
  const compare = o.compare === false ? null : await compareModels(teacherFile, output, {
    ...o.compare,
    samples: compareSamples(evalSet ?? data, o.batch ?? 32),
    engine: { threads: o.threads, ...o.compare?.engine },
  });
  return { ...report, teacherFile, output, compare };
}
