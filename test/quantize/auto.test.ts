// quantize(model, { mode: 'auto' }): candidates scored against float, timed by an injected latency
// source (a table by recipe, so the choice never depends on this machine's clock), the fastest within
// budget returned, never one slower than float.
import { buildConvNet, buildMlp, type Model } from '../../lib/onnx';
import { createRandom } from '../../lib/onnx/random';
import type { Feeds } from '../../lib/engine/tensor';
import { quantize, type QuantizeOptions } from '../../lib/quantize';
import type { LatencySource } from '../../lib/quantize/auto/latency';
import * as ort from 'onnxruntime-node';
import { opCounts, runModel } from './helpers';

const mlp = () => buildMlp({ inputSize: 32, hidden: [64, 64], outputSize: 10, seed: 4 });
const conv = () => buildConvNet({ channels: 3, size: 16, classes: 10, widths: [8, 16], seed: 2 });

function samples(model: Model, count: number, seed = 1): Feeds[] {
  const input = model.inputs[0];
  const dims = (input.dims ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : 2));
  const size = dims.reduce((a, b) => a * b, 1);
  return Array.from({ length: count }, (_, i) => {
    const next = createRandom(seed * 100 + i);
    return { [input.name]: { type: 'float32', dims, data: Float32Array.from({ length: size }, () => next() * 2 - 1) } };
  });
}

/** Milliseconds per recipe label: float 10 ms, otherwise the first matching entry. */
function table(entries: [RegExp, number][], floatMs = 10): { source: LatencySource; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    source: async ({ label }) => {
      asked.push(label);
      if (label === 'float') return floatMs;
      return entries.find(([re]) => re.test(label))?.[1] ?? 20;
    },
  };
}

const auto = (model: Model, extra: Partial<QuantizeOptions>) => quantize(model, { mode: 'auto', calibration: samples(model, 8), verify: false, ...extra });

describe('quantize mode auto', () => {
  it('tries every recipe of a linear-heavy graph and returns the fastest within the default budget (cosine 0.99)', async () => {
    const latency = table([[/^dynamic/, 4], [/^static.*minmax$/, 5], [/int4/, 3]]);
    const { model, report } = await auto(mlp(), { latencySource: latency.source });
    const a = report.auto!;
    expect(a.budget).toEqual({ minCosine: 0.99, maxAccuracyDrop: null });
    expect(a.candidates.map((c) => c.recipe)).toEqual([
      'static int8 per-channel minmax', 'static int8 per-channel percentile', 'static int8 per-channel entropy',
      expect.stringMatching(/^static int8 per-channel \w+, 1 most sensitive layer\(s\) float$/),
      'dynamic int8 per-channel', 'weight-only int8', 'weight-only int4 (block 32)',
    ]);
    for (const c of a.candidates) {
      expect(c.error).toBeUndefined();
      expect(c.meetsBudget).toBe((c.cosine as number) >= 0.99);
      expect(c.speedup).toBeCloseTo(10 / (c.latencyMs as number), 12);
    }
    // The latency source was asked for float before and after the candidates and once per candidate (the sensitivity scan is not timed).
    expect(latency.asked).toEqual(['float', ...a.candidates.map((c) => c.recipe), 'float']);
    const within = a.candidates.filter((c) => c.meetsBudget);
    const fastest = within.reduce((best, c) => ((c.latencyMs as number) < (best.latencyMs as number) ? c : best));
    expect(a.chosen).toBe(fastest.recipe);
    expect(report.mode).toBe('auto');
    expect(report.size.afterBytes).toBe(fastest.sizeBytes);
    // The returned model is that recipe's: dynamic writes MatMulInteger, int4 MatMulNBits, static QDQ.
    const ops = opCounts(model);
    if (/^dynamic/.test(a.chosen)) expect(ops.MatMulInteger).toBe(3);
    if (/int4/.test(a.chosen)) expect(ops.MatMulNBits).toBe(3);
    // Sensitivity: one entry per node static mode quantizes (the 3 MatMuls and the 2 Adds after them),
    // most sensitive (lowest cosine) first.
    expect(a.sensitivity.map((s) => s.opType).sort()).toEqual(['Add', 'Add', 'MatMul', 'MatMul', 'MatMul']);
    expect(a.sensitivity.map((s) => s.cosine)).toEqual([...a.sensitivity.map((s) => s.cosine)].sort((x, y) => x - y));
  });

  it('the same seed gives the same candidates, scores and choice', async () => {
    const run = async () => (await auto(conv(), { calibration: undefined, randomSamples: 6, seed: 7, latencySource: table([[/percentile/, 6], [/entropy/, 6]]).source })).report.auto!;
    const [first, second] = [await run(), await run()];
    expect(second.candidates).toEqual(first.candidates);
    expect(second.sensitivity).toEqual(first.sensitivity);
    expect(second.chosen).toBe(first.chosen);
    expect(first.candidates.every((c) => c.error === undefined && c.cosine !== null)).toBe(true);
    // A conv net is not linear-heavy: no dynamic candidate (ConvInteger is slower than float Conv).
    expect(first.candidates.some((c) => /^dynamic/.test(c.recipe))).toBe(false);
    expect(first.generated).toBe(true);
  });

  it('never returns a model slower than float: when no candidate within budget is faster, the float model comes back and the report says so', async () => {
    const source = mlp();
    const { model, report } = await auto(source, { latencySource: table([], 1).source });
    expect(report.auto!.candidates.every((c) => (c.latencyMs as number) > 1)).toBe(true);
    expect(report.auto!.chosen).toBe('float');
    expect(report.auto!.reason).toMatch(/none ran faster than float/);
    expect(report.format).toBe('float');
    expect(report.warnings.join('\n')).toMatch(/none ran faster than float/);
    expect(opCounts(model)).toEqual(opCounts(source));
  });

  it('a candidate only noise-faster than float (under the 1.05x guard) does not count; float is timed twice and its best kept', async () => {
    let floatCalls = 0;
    const source: LatencySource = async ({ label }) => (label === 'float' ? (floatCalls++ === 0 ? 12 : 10) : /^dynamic/.test(label) ? 9.7 : 30);
    const { report } = await auto(mlp(), { latencySource: source, sensitivity: false });
    expect(report.auto!.float.latencyMs).toBe(10);
    expect(report.auto!.candidates.find((c) => /^dynamic/.test(c.recipe))!.speedup).toBeCloseTo(10 / 9.7, 12);
    expect(report.auto!.chosen).toBe('float');
    expect(report.auto!.reason).toMatch(/none ran faster than float by 1.05x or more/);
    const relaxed = await auto(mlp(), { latencySource: async ({ label }) => (label === 'float' ? 10 : /^dynamic/.test(label) ? 9.7 : 30), sensitivity: false, minSpeedup: 1 });
    expect(relaxed.report.auto!.chosen).toBe('dynamic int8 per-channel');
  });

  it('a budget nothing meets returns float too', async () => {
    const { report } = await auto(mlp(), { minCosine: 1, latencySource: table([[/./, 1]]).source });
    expect(report.auto!.candidates.every((c) => !c.meetsBudget)).toBe(true);
    expect(report.auto!.chosen).toBe('float');
    expect(report.auto!.reason).toMatch(/no candidate met the budget/);
  });

  it('goal size returns the smallest within budget even when slower, with a warning', async () => {
    const { report } = await auto(mlp(), { goal: 'size', minCosine: 0.95, latencySource: table([[/./, 50]]).source });
    const within = report.auto!.candidates.filter((c) => c.meetsBudget);
    const smallest = Math.min(...within.map((c) => c.sizeBytes));
    expect(report.size.afterBytes).toBe(smallest);
    expect(report.auto!.chosen).toBe(within.find((c) => c.sizeBytes === smallest)!.recipe);
    expect(report.warnings.join('\n')).toMatch(/smaller but not faster than float/);
  });

  it('with labels and max accuracy drop, candidates are judged on top-1 accuracy against float\'s', async () => {
    const source = mlp();
    const evalSamples = samples(source, 6, 9);
    // Labels: the float model's own predictions (batch 2: two per sample), so float scores exactly 100%.
    const labels: number[] = [];
    for (const feeds of evalSamples) {
      const out = await runModel(source, { input: new ort.Tensor('float32', feeds.input.data as Float32Array, feeds.input.dims) });
      const logits = out.output.data as Float32Array;
      for (let r = 0; r < 2; r++) {
        const row = Array.from(logits.subarray(r * 10, r * 10 + 10));
        labels.push(row.indexOf(Math.max(...row)));
      }
    }
    const { report } = await quantize(source, { mode: 'auto', calibration: samples(source, 4), verify: false, sensitivity: false, latencySource: table([]).source,
      eval: { samples: evalSamples, labels } });
    const a = report.auto!;
    expect(a.float.accuracy).toBe(1);
    expect(a.budget).toEqual({ maxAccuracyDrop: 0.01, minCosine: null });
    for (const c of a.candidates) {
      expect(c.accuracy).not.toBeNull();
      expect(c.meetsBudget).toBe(1 - (c.accuracy as number) <= 0.01 + 1e-12);
    }
  });

  it('bad budgets are refused up front', async () => {
    await expect(auto(mlp(), { maxAccuracyDrop: 0.01 })).rejects.toThrow(/needs labelled eval data/);
    await expect(auto(mlp(), { minCosine: 2 })).rejects.toThrow(/min cosine must be in/);
    await expect(auto(mlp(), { goal: 'tiny' as 'size' })).rejects.toThrow(/goal must be speed or size/);
    await expect(auto(mlp(), { minSpeedup: 0.5 })).rejects.toThrow(/min speed-up must be >= 1/);
  });
});
