// Accuracy is reported so it cannot mislead (issue 22): a one-value output has no cosine (it would always
// read 1.0), every output has its relative error, and a pass whose result answers far from the original
// says so in a warning with a hint.
import { accuracyWarnings } from '../../lib/compare/accuracy-warnings';
import type { CompareReport } from '../../lib/compare/compare';
import { compareOutput } from '../../lib/compare/metrics';
import { buildMlp } from '../../lib/onnx';
import { prune } from '../../lib/prune';

const tensor = (data: number[], dims: number[]) => ({ type: 'float32' as const, dims, data: Float32Array.from(data) });

test('a one-value output: no cosine, its relative error instead', () => {
  // The wake-word head at int4: cosine 1.0 with an error of 0.128.
  const m = compareOutput('score', tensor([0.9], [1, 1]), tensor([0.772], [1, 1]));
  expect(m.cosine).toBeNull();
  expect(m.maxRelativeError).toBeCloseTo(0.128 / 0.9, 6);
  expect(accuracyWarnings({ outputs: [m] } as unknown as CompareReport, 'HINT')).toEqual([
    'output score (one value) is off by 14.2% of the original\'s; HINT',
  ]);
});

test('an all-zero result and a low cosine are called out; a close one is not', () => {
  const zero = compareOutput('map', tensor([0.5, -1, 2], [3]), tensor([0, 0, 0], [3]));
  expect(zero).toMatchObject({ allZero: true, cosine: 0 });
  const low = compareOutput('state', tensor([1, 0, 0, 1], [4]), tensor([1, 1, 0, 0.2], [4]));
  const close = compareOutput('logits', tensor([1, 2, 3], [3]), tensor([1, 2, 3.001], [3]));
  const warnings = accuracyWarnings({ outputs: [zero, low, close] } as unknown as CompareReport, 'HINT');
  expect(warnings).toHaveLength(2);
  expect(warnings[0]).toMatch(/^output map is all zeros where the original's is not; HINT$/);
  expect(warnings[1]).toMatch(/^output state has cosine 0\.\d{4} against the original \(max relative error .*\); HINT$/);
});

test('prune says in its warnings when the result answers far from the original, with what to do', async () => {
  const model = buildMlp({ inputSize: 32, hidden: [64], outputSize: 16, seed: 2 });
  const mild = await prune(model, { sparsity: 0.1, pattern: 'unstructured', minParams: 0, compare: { latencyRuns: 0 } });
  expect(mild.report.warnings.filter((w) => /cosine|all zeros/.test(w))).toEqual([]);
  const harsh = await prune(model, { sparsity: 0.995, pattern: 'unstructured', minParams: 0, compare: { latencyRuns: 0 } });
  expect(harsh.report.compare!.outputs[0].cosine!).toBeLessThan(0.99);
  expect(harsh.report.warnings.some((w) => /^output output (has cosine|is all zeros).*onnxforge distill$/.test(w))).toBe(true);
});
