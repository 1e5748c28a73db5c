// onnxforge distill --teacher T --student-from SPEC --data D -o OUT: trains a smaller student on the
// teacher's outputs, writes it as a plain inference model and compares it with the teacher.
import { Command } from 'commander';
import { distillFile, type DistillFileReport } from '../../train/distill-file';
import { formatCount, printJson } from '../output';
import { againstOriginal } from '../compare-tables';
import { UsageError } from '../errors';
import { nonNegativeInt } from '../options';
import { addTrainingOptions, collect, evaluationTable, nonNegativeNumber, positiveNumber, trainingLines, trainingOptionsFrom, type TrainingFlags } from '../training-options';

function parseMatches(pairs: string[]): { teacher: string; student: string }[] {
  return pairs.map((pair) => {
    const at = pair.indexOf('=');
    if (at <= 0 || at === pair.length - 1) throw new UsageError(`--match expects TEACHER_VALUE=STUDENT_VALUE, got "${pair}"`);
    return { teacher: pair.slice(0, at), student: pair.slice(at + 1) };
  });
}

function formatReport(r: DistillFileReport): string {
  const s = r.student.size;
  const t = r.teacher.size;
  const loss = [`KL at temperature ${r.temperature} (weight ${r.alpha})`, ...(r.alpha < 1 ? [`cross-entropy with labels (weight ${(1 - r.alpha).toFixed(2)})`] : []),
    ...r.matches.map((m) => `squared error ${m.teacher} = ${m.student}`)].join(' + ');
  const lines = [
    `${r.output}: student ${r.student.source === 'model' ? 'model' : r.student.source} distilled from ${r.teacherFile}`,
    `student: ${r.student.description}; ${formatCount(s.parameters)} parameters (${formatCount(s.nonzero)} non-zero) against the teacher's ${formatCount(t.parameters)}`,
    `loss on "${r.logits}": ${loss}; teacher outputs ${r.teacherOutputs}`,
    ...trainingLines(r.training),
    '',
    `${r.evaluatedOn === 'eval' ? 'held-out' : 'training'} samples (${r.evaluation.after.samples}):`,
    evaluationTable([['teacher', r.evaluation.teacher], ['student before', r.evaluation.before], ['student after', r.evaluation.after]]),
  ];
  if (r.compare) lines.push('', ...againstOriginal(r.compare, 'student', 'the teacher is the original'));
  lines.push('', `wrote ${r.output}`);
  return lines.join('\n');
}

export function registerDistill(program: Command): void {
  addTrainingOptions(program
    .command('distill')
    .description('train a smaller student (a pruned or layer-dropped teacher, or a model file) on the teacher\'s outputs')
    .requiredOption('--teacher <model>', 'teacher model (.onnx)')
    .option('--student <model>', 'student model (.onnx)')
    .option('--student-from <spec>', 'make the student from the teacher: prune:channel=0.5, prune:unstructured=0.9, prune:2:4, layers:keep=0,2,4 (prune specs take ,min-params=N,round-to=N)')
    .requiredOption('-o, --output <file>', 'where to write the student')
    .option('--labels <file>', 'labels of --data (.npy): adds cross-entropy with weight 1 - alpha')
    .option('--temperature <t>', 'softmax temperature of the KL term', positiveNumber, 2)
    .option('--alpha <a>', 'weight of the teacher term (default 0.5 with --labels, else 1)', nonNegativeNumber)
    .option('--match <teacher=student>', 'pull a student value toward a teacher value (squared error; a learned projection when widths differ; repeatable)', collect, [])
    .option('--match-weight <w>', 'weight of each --match term', nonNegativeNumber, 1)
    .option('--output-name <name>', 'the logits output (default: the only output, or "logits")')
    .option('--cache-teacher <file>', 'compute the teacher outputs once into this file (safetensors), or read them from it')
    .option('--no-compare', 'skip comparing the student with the teacher in onnxruntime')
    .option('--runs <n>', 'timed runs per model for the latency comparison (0 skips)', nonNegativeInt, 10))
    .action(async (opts: TrainingFlags & Record<string, unknown>) => {
      const { options, done } = trainingOptionsFrom(opts, opts.output as string);
      let report: DistillFileReport;
      try {
        report = await distillFile(opts.teacher as string, opts.output as string, {
          ...options,
          student: opts.student as string | undefined,
          studentFrom: opts.studentFrom as string | undefined,
          labels: opts.labels as string | undefined,
          temperature: opts.temperature as number,
          alpha: opts.alpha as number | undefined,
          matches: parseMatches(opts.match as string[]),
          matchWeight: opts.matchWeight as number,
          output: opts.outputName as string | undefined,
          cacheTeacher: opts.cacheTeacher as string | undefined,
          compare: opts.compare === false ? false : { latencyRuns: opts.runs as number },
        });
      } finally {
        done();
      }
      if (opts.json) printJson(report);
      else process.stdout.write(formatReport(report) + '\n');
    });
}
