// The options `distill` and `train` share: steps, batch, optimizer, schedule, checkpoints, and the
// progress bar (loss, samples/s, ETA) and Ctrl-C handling of a training run.
import { Command, Option } from 'commander';
import type { TrainOptions } from '../train/options';
import type { TrainingProgress } from '../train/loop';
import type { TrainingSummary } from '../train/fit';
import type { Evaluation } from '../train/evaluate';
import { UsageError } from './errors';
import { nonNegativeInt, positiveInt } from './options';
import { table } from './output';
import { createProgress } from './progress';

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`expected a positive number, got "${value}"`);
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`expected a non-negative number, got "${value}"`);
  return n;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function addTrainingOptions(command: Command): Command {
  return command
    .requiredOption('--data <path>', 'training inputs: a folder with <input>.npy/.npz per input (leading sample axis), an .npz, or calibration-style sample folders')
    .option('--steps <n>', 'optimizer steps', positiveInt)
    .option('--epochs <e>', 'passes over the data (default 3, when --steps is not given)', positiveNumber)
    .option('--batch <n>', 'samples per step', positiveInt, 32)
    .option('--lr <x>', 'peak learning rate (default 1e-3 AdamW, 1e-2 SGD)', positiveNumber)
    .addOption(new Option('--optimizer <kind>', 'optimizer').choices(['adamw', 'sgd']).default('adamw'))
    .option('--weight-decay <x>', 'decoupled weight decay of weights (default 0.01 AdamW, 0 SGD)', nonNegativeNumber)
    .option('--warmup <n>', 'warm-up steps (default 5% of the steps)', nonNegativeInt)
    .addOption(new Option('--schedule <kind>', 'decay after warm-up').choices(['linear', 'cosine', 'constant']).default('linear'))
    .option('--clip <x>', 'largest global gradient norm (0: no clipping)', nonNegativeNumber, 1)
    .option('--freeze <glob>', 'keep matching initializers as they are (repeatable)', collect, [])
    .option('--eval <path>', 'held-out inputs for the accuracy figures (same layouts as --data)')
    .option('--eval-labels <file>', 'labels of --eval (.npy)')
    .option('--checkpoint <file>', 'checkpoint file (default OUT.ckpt): written on Ctrl-C, and every --checkpoint-every steps')
    .option('--checkpoint-every <n>', 'write the checkpoint every n steps and at the end', positiveInt)
    .option('--resume <file>', 'continue from a checkpoint of the same run')
    .option('--seed <n>', 'seed of the batch order and of new weights', nonNegativeInt, 0)
    .option('--threads <n>', 'onnxruntime intra-op threads', positiveInt)
    .option('--json', 'print the report as JSON');
}

export interface TrainingFlags {
  data: string;
  steps?: number;
  epochs?: number;
  batch: number;
  lr?: number;
  optimizer: 'adamw' | 'sgd';
  weightDecay?: number;
  warmup?: number;
  schedule: 'linear' | 'cosine' | 'constant';
  clip: number;
  freeze: string[];
  eval?: string;
  evalLabels?: string;
  checkpoint?: string;
  checkpointEvery?: number;
  resume?: string;
  seed: number;
  threads?: number;
  json?: boolean;
}

/** Training options from the flags, with a progress bar and a Ctrl-C that stops after the current step. */
export function trainingOptionsFrom(flags: TrainingFlags, output: string): { options: TrainOptions & { data: string; evalData?: string; evalLabels?: string }; done: () => void } {
  if (flags.evalLabels && !flags.eval) throw new UsageError('--eval-labels needs --eval');
  const progress = createProgress('train');
  const stop = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    // The second Ctrl-C ends at once: the checkpoint on disk is whole (written atomically).
    if (++interrupts > 1) process.exit(130);
    process.stderr.write('\nstopping after this step (Ctrl-C again to quit now)\n');
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  const options = {
    data: flags.data,
    evalData: flags.eval,
    evalLabels: flags.evalLabels,
    steps: flags.steps,
    epochs: flags.epochs,
    batch: flags.batch,
    learningRate: flags.lr,
    optimizer: flags.optimizer,
    weightDecay: flags.weightDecay,
    warmup: flags.warmup,
    schedule: flags.schedule,
    clip: flags.clip,
    freeze: flags.freeze,
    checkpoint: flags.checkpoint ?? `${output}.ckpt`,
    checkpointEvery: flags.checkpointEvery,
    resume: flags.resume,
    seed: flags.seed,
    threads: flags.threads,
    signal: stop.signal,
    onProgress: (p: TrainingProgress) => progress.update(p.step, p.steps,
      `loss ${p.loss.toPrecision(4)}, ${Math.round(p.samplesPerSecond)} samples/s, ETA ${Math.ceil(p.etaSeconds)} s`),
  };
  return { options, done: () => { progress.finish(); process.off('SIGINT', onSigint); } };
}

const percent = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);

export function trainingLines(t: TrainingSummary): string[] {
  const resumed = t.resumedAt ? `, resumed at step ${t.resumedAt}` : '';
  return [
    `training: ${t.steps} steps (${t.epochs.toFixed(1)} epochs, batch ${t.batch}${resumed}), ${t.optimizer} lr ${t.learningRate}, `
      + `${t.tensors} tensor(s) / ${t.elements} values trained${t.masked.length ? `, ${t.masked.length} sparse weight(s) kept sparse` : ''}`,
    `time: ${(t.totalMs / 1000).toFixed(1)} s, ${t.stepMs.toFixed(2)} ms per step (median), ${Math.round(t.samplesPerSecond)} samples/s`,
    `loss: ${t.loss.first.toPrecision(4)} -> ${t.loss.last.toPrecision(4)} (mean of the first and last tenth of the steps)`,
  ];
}

export function evaluationTable(rows: [string, Evaluation][]): string {
  const fixed = (x: number | null) => (x === null ? '-' : x.toFixed(4));
  return table(['model', 'accuracy', 'agrees with teacher', 'cosine to teacher'],
    rows.map(([name, e]) => [name, percent(e.accuracy), percent(e.agreement), fixed(e.cosine)]));
}
