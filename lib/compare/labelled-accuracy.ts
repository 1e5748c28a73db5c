// Top-1 accuracy against true labels: `--eval DIR --eval-labels labels.npy`. DIR holds input samples in
// the layout --calibration reads (one folder or .npz per sample, in name order); labels.npy holds int64
// (or int32) class indices, one per row of the scored output over all samples in that order (a sample of
// batch 4 takes 4 labels). The scored output is the first one with a class axis (last axis > 1), or the
// one named.
import * as fs from 'fs';
import type { Session, ValueMetadata } from '../engine/engine';
import { toFloat64, type Feeds, type HostTensor } from '../engine/tensor';
import { readCalibrationDir } from '../quantize/calibration/samples';
import { InputError } from './input-error';
import { adaptFeeds } from './adapt-feeds';
import { parseNpy } from './npy';

/** A labelled evaluation set: samples and one class index per output row. */
export interface LabelledSet {
  samples: Feeds[];
  labels: readonly number[];
  /** The output whose argmax over the last axis is the predicted class (default: the first with a class axis). */
  output?: string;
}

/** Where a labelled set lives on disk (CLI), or the set itself (API). */
export type EvalData = { dir: string; labels: string; output?: string } | LabelledSet;

export interface LabelledAccuracy {
  /** Rows scored (labels used). */
  rows: number;
  output: string;
  a: number;
  b: number;
  /** a - b: the accuracy the candidate lost (negative: it gained). */
  drop: number;
}

export function readLabels(file: string): number[] {
  if (!fs.existsSync(file)) throw new InputError(`${file}: no such labels file`);
  const tensor = parseNpy(fs.readFileSync(file), file);
  if (tensor.type !== 'int64' && tensor.type !== 'int32') throw new InputError(`${file}: labels must be int64 (or int32) class indices, the file holds ${tensor.type}`);
  const labels = Array.from(tensor.data as ArrayLike<number | bigint>, Number);
  if (labels.some((l) => !Number.isSafeInteger(l) || l < 0)) throw new InputError(`${file}: labels must be non-negative class indices`);
  return labels;
}

export function loadLabelledSet(data: EvalData, inputs: readonly ValueMetadata[]): LabelledSet {
  if ('samples' in data) return data;
  return { samples: readCalibrationDir(data.dir, inputs), labels: readLabels(data.labels), output: data.output };
}

function argmaxRows(t: HostTensor): number[] {
  const values = toFloat64(t);
  const classes = t.dims[t.dims.length - 1];
  const rows: number[] = [];
  for (let r = 0; r * classes < values.length; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (values[r * classes + c] > values[r * classes + best]) best = c;
    rows.push(best);
  }
  return rows;
}

export function scoredOutput(session: Session, requested: string | undefined): string {
  if (requested) {
    if (!session.outputs.some((o) => o.name === requested)) throw new InputError(`the model has no output named ${requested}`);
    return requested;
  }
  const classAxis = session.outputs.find((o) => {
    const last = o.shape?.[o.shape.length - 1];
    return typeof last === 'number' ? last > 1 : o.shape !== null && o.shape.length > 0;
  });
  return (classAxis ?? session.outputs[0]).name;
}

/** Predicted classes of every row of `output`, sample after sample. */
export async function predictions(session: Session, samples: readonly Feeds[], output: string): Promise<number[]> {
  const out: number[] = [];
  for (const feeds of samples) {
    const result = await session.run(adaptFeeds(feeds, session.inputs), [output]);
    const tensor = result[output];
    if (tensor.dims.length === 0 || tensor.dims[tensor.dims.length - 1] < 2) throw new InputError(`output ${output} has no class axis (its last axis must hold 2 or more classes)`);
    out.push(...argmaxRows(tensor));
  }
  return out;
}

export function top1(predicted: readonly number[], labels: readonly number[]): number {
  if (predicted.length !== labels.length) {
    throw new InputError(`the eval samples give ${predicted.length} prediction(s) but the labels file holds ${labels.length} label(s)`);
  }
  let hits = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) hits++;
  return labels.length ? hits / labels.length : 0;
}

/** Top-1 accuracy of two sessions on one labelled set. */
export async function labelledAccuracy(a: Session, b: Session, set: LabelledSet): Promise<LabelledAccuracy> {
  const output = scoredOutput(a, set.output);
  const accA = top1(await predictions(a, set.samples, output), set.labels);
  const accB = top1(await predictions(b, set.samples, output), set.labels);
  return { rows: set.labels.length, output, a: accA, b: accB, drop: accA - accB };
}
