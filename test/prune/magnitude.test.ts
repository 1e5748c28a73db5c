import {
  buildConvNet, buildMlp, DataType, float16ToFloat32, float32ToFloat16, GraphBuilder, makeTensor, randomNormal, tensorValues,
} from '../../lib/onnx';
import { pruneModel } from '../../lib/prune';
import { floatInput, runModel, weight, zeros } from './helpers';

/** Largest pruned |w| and smallest kept |w| of a weight against its original. */
function magnitudeSplit(original: Float32Array, pruned: Float32Array): { maxPruned: number; minKept: number } {
  let maxPruned = 0;
  let minKept = Infinity;
  original.forEach((w, i) => {
    if (pruned[i] === 0) maxPruned = Math.max(maxPruned, Math.abs(w));
    else {
      expect(pruned[i]).toBe(w);
      minKept = Math.min(minKept, Math.abs(w));
    }
  });
  return { maxPruned, minKept };
}

/** Non-zeros of every group of m consecutive weights along the reduction axis: element (r, c) at at(r, c). */
function groupCounts(k: number, n: number, m: number, at: (r: number, c: number) => number): number[] {
  const counts: number[] = [];
  for (let c = 0; c < n; c++) {
    for (let r0 = 0; r0 < k; r0 += m) {
      let nonzero = 0;
      for (let r = r0; r < r0 + m; r++) if (at(r, c) !== 0) nonzero++;
      counts.push(nonzero);
    }
  }
  return counts;
}

describe('magnitude pruning', () => {
  const mlp = buildMlp({ inputSize: 32, hidden: [64], outputSize: 16, batch: 2 });

  test('unstructured, per layer: exactly round(s * size) zeros, the smallest magnitudes, and it runs', async () => {
    const { model, report } = pruneModel(mlp, { pattern: 'unstructured', sparsity: 0.7, minParams: 0 });
    for (const [name, size] of [['fc0.weight', 32 * 64], ['fc1.weight', 64 * 16]] as const) {
      const pruned = weight(model, name);
      expect(zeros(pruned)).toBe(Math.round(0.7 * size));
      const { maxPruned, minKept } = magnitudeSplit(weight(mlp, name), pruned);
      expect(maxPruned).toBeLessThanOrEqual(minKept);
    }
    expect(report.layers.map((l) => [l.weight, l.targetSparsity, l.sparsity])).toEqual([
      ['fc0.weight', 0.7, Math.round(0.7 * 2048) / 2048], ['fc1.weight', 0.7, Math.round(0.7 * 1024) / 1024],
    ]);
    expect(zeros(weight(mlp, 'fc0.weight'))).toBe(0);
    expect(report.parameters.nonzeroBefore - report.parameters.nonzeroAfter).toBe(Math.round(0.7 * 2048) + Math.round(0.7 * 1024));
    const out = await runModel(model, { input: floatInput([2, 32], 1) });
    expect(out.output.dims).toEqual([2, 16]);
  });

  test('2:4 and 4:8 keep the N largest of every M weights along the reduction axis of MatMul, Gemm and Conv', async () => {
    const conv = buildConvNet({ channels: 4, size: 8, classes: 8, widths: [8, 16] });
    for (const [pattern, n, m] of [['2:4', 2, 4], ['4:8', 4, 8]] as const) {
      const prunedMlp = pruneModel(mlp, { pattern, minParams: 0 }).model;
      const w = weight(prunedMlp, 'fc0.weight');
      expect(groupCounts(32, 64, m, (r, c) => w[r * 64 + c]).every((count) => count === n)).toBe(true);
      const original = weight(mlp, 'fc0.weight');
      for (let c = 0; c < 64; c++) {
        for (let r0 = 0; r0 < 32; r0 += m) {
          const group = Array.from({ length: m }, (_, i) => original[(r0 + i) * 64 + c]);
          const kept = group.filter((_, i) => w[(r0 + i) * 64 + c] !== 0).map(Math.abs);
          const dropped = group.filter((_, i) => w[(r0 + i) * 64 + c] === 0).map(Math.abs);
          expect(Math.min(...kept)).toBeGreaterThanOrEqual(Math.max(...dropped));
        }
      }
      const { model, report } = pruneModel(conv, { pattern, minParams: 0 });
      const conv1 = weight(model, 'conv1.weight'); // [16, 8, 3, 3]: reduction 72 per filter
      expect(groupCounts(72, 16, m, (r, c) => conv1[c * 72 + r]).every((count) => count === n)).toBe(true);
      const fc = weight(model, 'fc.weight'); // Gemm transB: [8 classes, 16]
      expect(groupCounts(16, 8, m, (r, c) => fc[c * 16 + r]).every((count) => count === n)).toBe(true);
      expect(report.skipped).toEqual(m === 8 ? [{ layers: [conv.consumers('conv0.weight')[0].node.name], kind: 'unsupported', reason: 'reduction size 36 is not a multiple of 8' }] : []);
      expect((await runModel(model, { input: floatInput([1, 4, 8, 8], 2) })).output.dims).toEqual([1, 8]);
    }
  });

  test('global scope: one magnitude cut over all layers, exact in total; overrides stay per layer', () => {
    const wide = buildMlp({ inputSize: 48, hidden: [64, 32], outputSize: 16 });
    const names = ['fc0.weight', 'fc1.weight', 'fc2.weight'];
    const sizes = [48 * 64, 64 * 32, 32 * 16];
    const { model, report } = pruneModel(wide, { pattern: 'unstructured', sparsity: 0.6, scope: 'global', minParams: 0 });
    expect(names.reduce((sum, n) => sum + zeros(weight(model, n)), 0)).toBe(Math.round(0.6 * sizes.reduce((a, b) => a + b)));
    const splits = names.map((n) => magnitudeSplit(weight(wide, n), weight(model, n)));
    expect(Math.max(...splits.map((s) => s.maxPruned))).toBeLessThanOrEqual(Math.min(...splits.map((s) => s.minKept)));
    expect(new Set(report.layers.map((l) => l.sparsity.toFixed(3))).size).toBeGreaterThan(1);

    const withOverride = pruneModel(wide, { pattern: 'unstructured', sparsity: 0.6, scope: 'global', minParams: 0, layers: { 'fc2.*': 0.25 } }).model;
    expect(zeros(weight(withOverride, 'fc2.weight'))).toBe(Math.round(0.25 * sizes[2]));
    expect(zeros(weight(withOverride, 'fc0.weight')) + zeros(weight(withOverride, 'fc1.weight'))).toBe(Math.round(0.6 * (sizes[0] + sizes[1])));
  });

  test('excluded, dense-by-override and small layers are skipped and listed', () => {
    const { model, report } = pruneModel(mlp, { pattern: 'unstructured', sparsity: 0.5, exclude: ['fc1.*'], minParams: 4096 });
    expect(report.layers).toEqual([]);
    const nodeOf = (w: string): string => mlp.consumers(w)[0].node.name;
    expect(report.skipped).toEqual([
      { layers: [nodeOf('fc0.weight')], kind: 'too-small', reason: 'too small (2048 weights < 4096)' },
      { layers: [nodeOf('fc1.weight')], kind: 'excluded', reason: 'excluded' },
    ]);
    expect(report.warnings).toContain('no layer was pruned; see the skipped list');
    expect(zeros(weight(model, 'fc0.weight'))).toBe(0);
    const dense = pruneModel(mlp, { pattern: 'unstructured', sparsity: 0.5, minParams: 0, layers: { [nodeOf('fc0.weight')]: 0 } }).report;
    expect(dense.skipped).toEqual([{ layers: [nodeOf('fc0.weight')], kind: 'dense', reason: 'sparsity 0' }]);
  });

  test('tied weights are pruned once for all readers; Constant-node and float16 weights are pruned in their own form', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [1, 16]);
    const shared = g.initializer('shared', randomNormal(256, 3), [16, 16]);
    const half = g.initializer('half', float32ToFloat16(randomNormal(256, 4)), [16, 16], 'float16');
    g.node('Constant', [], ['constant_w'], { value: makeTensor('constant_w', randomNormal(256, 5), [16, 16]) });
    g.node('MatMul', [g.node('MatMul', [x, shared]), shared], ['tied']);
    g.node('Cast', [g.node('MatMul', [g.node('Cast', [x], 1, { to: DataType.FLOAT16 }), half])], ['from_half'], { to: DataType.FLOAT });
    g.node('MatMul', [x, 'constant_w'], ['from_constant']);
    for (const name of ['tied', 'from_half', 'from_constant']) g.output(name, 'float32', [1, 16]);
    const original = g.build();
    const { model, report } = pruneModel(original, { pattern: 'unstructured', sparsity: 0.75, minParams: 0 });

    expect(report.layers.map((l) => [l.weight, l.sparsity])).toEqual([['shared', 0.75], ['half', 0.75], ['constant_w', 0.75]]);
    expect(report.layers[0].layer).toMatch(/, /); // both readers named
    expect(model.graph.initializer.filter((t) => t.name.startsWith('shared'))).toHaveLength(1);
    expect(zeros(weight(model, 'shared'))).toBe(192);
    expect(zeros(float16ToFloat32(model.initializer('half')!.data as Uint16Array))).toBe(192);
    const constantNode = model.graph.node.find((n) => n.opType === 'Constant')!;
    expect(zeros(tensorValues(constantNode.attribute.find((a) => a.name === 'value')!.t!) as Float32Array)).toBe(192);
    const out = await runModel(model, { x: floatInput([1, 16], 6) });
    expect(out.tied.dims).toEqual([1, 16]);
  });
});
