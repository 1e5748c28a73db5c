// onnxforge train MODEL --data D --labels L -o OUT: supervised training (cross-entropy on class ids,
// squared error on float targets) with the machinery distill uses.
import { Command } from 'commander';
import { trainFile, type TrainFileReport } from '../../train/train-file';
import { printJson } from '../output';
import { addTrainingOptions, evaluationTable, trainingLines, trainingOptionsFrom, type TrainingFlags } from '../training-options';

function formatReport(r: TrainFileReport): string {
  return [
    `${r.output}: ${r.input} trained on the labels of "${r.logits}"`,
    ...trainingLines(r.training),
    '',
    `${r.evaluatedOn === 'eval' ? 'held-out' : 'training'} samples (${r.after.samples}):`,
    evaluationTable([['before', r.before], ['after', r.after]]),
    '',
    `wrote ${r.output}`,
  ].join('\n');
}

export function registerTrain(program: Command): void {
  addTrainingOptions(program
    .command('train')
    .description('train a model on labelled data (cross-entropy for class ids, squared error for float targets)')
    .argument('<model>', 'model to train (.onnx)')
    .requiredOption('-o, --output <file>', 'where to write the trained model')
    .requiredOption('--labels <file>', 'labels of --data (.npy): int class ids or float targets')
    .option('--output-name <name>', 'the output the loss reads (default: the only output, or "logits")'))
    .action(async (file: string, opts: TrainingFlags & Record<string, unknown>) => {
      const { options, done } = trainingOptionsFrom(opts, opts.output as string);
      let report: TrainFileReport;
      try {
        report = await trainFile(file, opts.output as string, { ...options, labels: opts.labels as string, output: opts.outputName as string | undefined });
      } finally {
        done();
      }
      if (opts.json) printJson(report);
      else process.stdout.write(formatReport(report) + '\n');
    });
}
