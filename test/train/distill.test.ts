// Distillation end to end, all inside the test: a BERT-style encoder and a conv net built by the
// builder are trained as teachers on synthetic labelled tasks, pruned (50% of channels; 90% of weights),
// and distilled on unlabelled inputs. The students get back within 2 points of the teacher's accuracy on
// held-out samples, far above the pruned models', and the sparse ones keep exactly their zeros.
import { buildBertEncoder, buildConvNet } from '../../lib/onnx';
import type { Model } from '../../lib/onnx/model';
import type { Dataset } from '../../lib/train/dataset';
import { distill, type DistillOptions } from '../../lib/train/distill';
import { studentFromSpec } from '../../lib/train/student';
import { train } from '../../lib/train/train';
import { barImages, majorityTokens, sequenceVocab } from './tasks';

interface Setup {
  name: string;
  untrained: () => Model;
  data: Dataset;
  held: Dataset;
  options: DistillOptions;
  /** Prune settings: tiny layers are pruned too (min-params), except for the 90% student where the smallest stay dense. */
  channel: string;
  unstructured: string;
}

const GROUPS = 5;
const LENGTH = 12;

const SETUPS: Setup[] = [
  {
    name: 'BERT-style encoder (2 layers, hidden 32, exporter form)',
    untrained: () => buildBertEncoder({ layers: 2, hidden: 32, heads: 4, ffn: 64, vocab: sequenceVocab(GROUPS), maxPositions: LENGTH, numLabels: GROUPS, seed: 1 }),
    data: majorityTokens(2048, LENGTH, 1, GROUPS, 1),
    held: majorityTokens(512, LENGTH, 2, GROUPS, 1),
    options: { epochs: 10, learningRate: 3e-3 },
    channel: 'prune:channel=0.5,min-params=0',
    unstructured: 'prune:unstructured=0.9,min-params=1000',
  },
  {
    name: 'conv net (16 and 32 channels)',
    untrained: () => buildConvNet({ channels: 1, size: 12, classes: 4, widths: [16, 32], batch: 'batch', seed: 1 }),
    data: barImages(2048, 12, 1),
    held: barImages(512, 12, 2),
    options: { epochs: 10, learningRate: 3e-3 },
    channel: 'prune:channel=0.5,min-params=0',
    unstructured: 'prune:unstructured=0.9,min-params=1000',
  },
];

const unlabelled = (d: Dataset): Dataset => ({ inputs: d.inputs, size: d.size });

function zeroPositions(model: Model): Map<string, number[]> {
  return new Map(model.initializers().filter((t) => t.dims.length >= 2 && t.dtype === 'float32').map((t) => {
    const data = t.data as Float32Array;
    return [t.name, Array.from(data.keys()).filter((i) => data[i] === 0)];
  }));
}

describe.each(SETUPS)('$name', (s) => {
  let teacher: Model;
  let teacherAccuracy: number;

  beforeAll(async () => {
    const { model, report } = await train(s.untrained(), s.data, { ...s.options, eval: s.held });
    teacher = model;
    teacherAccuracy = report.after.accuracy as number;
  });

  test('the teacher learns the task (at least 95% on held-out samples)', () => {
    expect(teacherAccuracy).toBeGreaterThanOrEqual(0.95);
  });

  test('a 50% channel-pruned student loses accuracy and distillation brings it back within 2 points', async () => {
    const { model, report } = await distill(teacher, s.channel, unlabelled(s.data), { ...s.options, eval: s.held });
    const { before, after, teacher: t } = report.evaluation;
    expect(t.accuracy).toBe(teacherAccuracy);
    expect(before.accuracy as number).toBeLessThan(teacherAccuracy - 0.1);
    expect(after.accuracy as number).toBeGreaterThanOrEqual(teacherAccuracy - 0.02);
    expect(after.accuracy as number).toBeGreaterThan((before.accuracy as number) + 0.1);
    expect(after.agreement as number).toBeGreaterThan(before.agreement as number);
    expect(report.student.size.parameters).toBeLessThan(report.teacher.size.parameters * 0.8);
    const shapes = (m: Model) => m.graph.initializer.map((t) => [t.name, t.dims.map(Number)]);
    expect(shapes(model)).toEqual(shapes(studentFromSpec(teacher, s.channel).model));
  });

  test('a 90% unstructured student keeps exactly its zeros and gets back within 2 points', async () => {
    const { model, report } = await distill(teacher, s.unstructured, unlabelled(s.data), { ...s.options, eval: s.held });
    const { before, after } = report.evaluation;
    expect(before.accuracy as number).toBeLessThan(teacherAccuracy - 0.1);
    expect(after.accuracy as number).toBeGreaterThanOrEqual(teacherAccuracy - 0.02);
    expect(report.training.masked.length).toBeGreaterThan(0);
    const expected = zeroPositions(studentFromSpec(teacher, s.unstructured).model);
    const kept = zeroPositions(model);
    for (const { name, sparsity } of report.training.masked) {
      expect(sparsity).toBeGreaterThanOrEqual(0.9 - 1e-3);
      expect(kept.get(name)).toEqual(expected.get(name));
    }
  });
});
