// What train() and distill() share: build the training graph for the student, run the steps (resuming
// from a checkpoint when asked), and return the trained inference model.
import type * as ort from 'onnxruntime-node';
import type { HostTensor } from '../engine/tensor';
import type { Model } from '../onnx/model';
import { inputMetadata } from '../quantize/calibrate';
import { loadCheckpoint } from './checkpoint';
import { takeRows, type Dataset } from './dataset';
import type { LossTerms } from './losses';
import { runSteps, type LoopResult } from './loop';
import { pruningMasks, type MaskedWeight } from './masks';
import { resolveTrainOptions, type ResolvedTrainOptions, type TrainOptions } from './options';
import { BatchSampler } from './sampler';
import { hostToOrt } from './tensors';
import { buildTrainingGraph } from './training-graph';
import { TrainingSession } from './training-session';

/** What the loss compares the student with, for the samples of one batch. */
export interface BatchTargets {
  teacherLogits?: HostTensor;
  labels?: HostTensor;
  matches?: HostTensor[];
}

export interface FitSpec {
  student: Model;
  data: Dataset;
  loss: Omit<LossTerms, 'seed'>;
  targets: (indices: number[]) => Promise<BatchTargets>;
  options: TrainOptions;
}

export interface TrainingSummary {
  /** Steps done (all of `plannedSteps` unless interrupted). */
  steps: number;
  plannedSteps: number;
  /** Steps done before this run (resumed from a checkpoint). */
  resumedAt: number;
  batch: number;
  epochs: number;
  optimizer: string;
  learningRate: number;
  /** Trained parameter tensors and their elements. */
  tensors: number;
  elements: number;
  /** Weights whose pruned zeros were kept. */
  masked: MaskedWeight[];
  /** Float initializers the loss does not reach, left as they were. */
  untouched: string[];
  /** Nodes of the training graph. */
  graphNodes: number;
  /** Mean loss over the first and the last tenth of the steps run here. */
  loss: { first: number; last: number };
  /** Median milliseconds of one training step's run. */
  stepMs: number;
  totalMs: number;
  samplesPerSecond: number;
  interrupted: boolean;
}

export interface FitResult {
  model: Model;
  summary: TrainingSummary;
  resolved: ResolvedTrainOptions;
}

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
}

function summarize(loop: LoopResult, resolved: ResolvedTrainOptions, samples: number): Pick<TrainingSummary, 'loss' | 'stepMs' | 'totalMs' | 'samplesPerSecond' | 'interrupted' | 'epochs'> {
  const tenth = Math.max(1, Math.floor(loop.losses.length / 10));
  return {
    loss: { first: mean(loop.losses.slice(0, tenth)), last: mean(loop.losses.slice(-tenth)) },
    stepMs: median(loop.stepMs),
    totalMs: loop.totalMs,
    samplesPerSecond: (loop.losses.length * resolved.batch) / (loop.totalMs / 1000),
    interrupted: loop.interrupted,
    epochs: (loop.stepsDone * resolved.batch) / samples,
  };
}

export async function fit(spec: FitSpec): Promise<FitResult> {
  const { student, data, options } = spec;
  const first = inputMetadata(student)[0]?.shape?.[0];
  const resolved = resolveTrainOptions(options, data.size, typeof first === 'number' ? first : undefined);
  const sampler = new BatchSampler(data.size, resolved.batch, resolved.seed);
  const { masks, weights } = pruningMasks(student);
  const dataFeeds = (indices: number[]): Record<string, ort.Tensor> =>
    Object.fromEntries(Object.entries(data.inputs).map(([name, t]) => [name, hostToOrt(takeRows(t, indices))]));
  const graph = await buildTrainingGraph(student, dataFeeds(sampler.indices(0)), {
    loss: spec.loss,
    optimizer: resolved.optimizer,
    frozen: (name) => resolved.freeze.some((re) => re.test(name)),
    masks,
    seed: resolved.seed,
  });
  const session = await TrainingSession.create(graph, resolved.optimizer, options.threads);
  try {
    const resumed = options.resume ? loadCheckpoint(options.resume) : undefined;
    if (resumed) session.restore(resumed.values);
    const startStep = resumed?.step ?? 0;
    if (startStep > resolved.steps) throw new RangeError(`the checkpoint is at step ${startStep}, past the ${resolved.steps} steps asked for`);
    const feedsFor = async (indices: number[]): Promise<Record<string, ort.Tensor>> => {
      const feeds = dataFeeds(indices);
      const t = await spec.targets(indices);
      if (graph.targets.teacherLogits) feeds[graph.targets.teacherLogits] = hostToOrt(t.teacherLogits as HostTensor);
      if (graph.targets.labels) feeds[graph.targets.labels] = hostToOrt(t.labels as HostTensor);
      graph.targets.matchTargets.forEach((name, i) => (feeds[name] = hostToOrt((t.matches as HostTensor[])[i])));
      return feeds;
    };
    const loop = await runSteps(session, sampler, feedsFor, {
      schedule: { kind: resolved.schedule, base: resolved.learningRate, warmup: resolved.warmup, total: resolved.steps },
      startStep,
      checkpoint: options.checkpoint ? { path: options.checkpoint, every: options.checkpointEvery } : undefined,
      onProgress: options.onProgress,
      signal: options.signal,
    });
    const parameters = graph.layout.filter((s) => !s.projection);
    return {
      model: session.trainedModel(student),
      resolved,
      summary: {
        steps: loop.stepsDone,
        plannedSteps: resolved.steps,
        resumedAt: startStep,
        batch: resolved.batch,
        optimizer: resolved.optimizer.kind,
        learningRate: resolved.learningRate,
        tensors: parameters.length,
        elements: parameters.reduce((n, s) => n + s.dims.reduce((a, b) => a * b, 1), 0),
        masked: weights.filter((w) => parameters.some((s) => s.name === w.name)),
        untouched: graph.untouched,
        graphNodes: graph.model.graph.node.length,
        ...summarize(loop, resolved, data.size),
      },
    };
  } finally {
    await session.release();
  }
}
