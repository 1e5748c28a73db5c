// engineWeights / enginePlan check everything they are handed: a plan that would read or write
// outside a value, or name a missing value, layer or op, is refused with a RangeError; a run
// with the wrong arrays is refused; nothing crashes.
import type { EnginePlanSpec, EngineWeightsSpec } from '../../binding';
import { native } from '../../lib/native';

const F32 = 1, I64 = 7;

interface ValueDesc { storage: number; dtype: number; count: number; offset?: number; index?: number }

function spec(values: ValueDesc[], steps: EnginePlanSpec['steps'], extra: Partial<EnginePlanSpec> = {}): EnginePlanSpec {
  return {
    values: {
      storage: Uint8Array.from(values.map((v) => v.storage)),
      dtype: Uint8Array.from(values.map((v) => v.dtype)),
      count: Float64Array.from(values.map((v) => v.count)),
      offset: Float64Array.from(values.map((v) => v.offset ?? 0)),
      index: Uint32Array.from(values.map((v) => v.index ?? 0)),
    },
    steps, planConstants: [], inputs: Int32Array.of(0), outputs: Int32Array.of(1), arenaBytes: 0, ...extra,
  };
}

function step(op: string, inputs: number[], outputs: number[], ints: number[] = [], floats: number[] = [], linear?: number) {
  return { op, inputs: Int32Array.from(inputs), outputs: Int32Array.from(outputs), ints: Float64Array.from(ints), floats: Float32Array.from(floats), linear };
}

const weightsSpec: EngineWeightsSpec = {
  constants: [{ type: F32, data: Float32Array.of(1, 2, 3, 4) }],
  linears: [{ kind: 'dense', k: 2, n: 3, weights: Float32Array.of(1, 0, 0, 0, 1, 0) }],
};
const input = { storage: 3, dtype: F32, count: 4 };
const output = { storage: 4, dtype: F32, count: 4 };

describe('a valid plan', () => {
  test('adds a model constant to the input, with a broadcast row', () => {
    const weights = native().engineWeights(weightsSpec);
    const plan = native().enginePlan(weights, spec(
      [input, output, { storage: 1, dtype: F32, count: 4, index: 0 }, { storage: 5, dtype: F32, count: 2, index: 2, offset: 8 }],
      [step('Binary', [0, 3], [1], [0, 2, 2, 2, 2, 1, 0, 1])],
    ));
    const [out] = plan.run([Float32Array.of(10, 20, 30, 40)]) as Float32Array[];
    // x [2,2] + (constant elements 2..3 as a row) -> [[13, 24], [33, 44]].
    expect(Array.from(out)).toEqual([13, 24, 33, 44]);
  });

  test('a linear layer in the arena-free path, with bias and activation', async () => {
    const weights = native().engineWeights(weightsSpec);
    const plan = native().enginePlan(weights, spec(
      [input, { storage: 4, dtype: F32, count: 6 }, { storage: 2, dtype: F32, count: 3, index: 0 }],
      [step('Linear', [0, 2], [1], [2, 2, 3, 1, 2], [], 0)],
      { planConstants: [new Uint8Array(Float32Array.of(0.5, -10, 0).buffer)] },
    ));
    const [out] = (await plan.runAsync([Float32Array.of(1, 2, 3, 4)])) as Float32Array[];
    // relu([x0, x1, 0] + [0.5, -10, 0])
    expect(Array.from(out)).toEqual([1.5, 0, 0, 3.5, 0, 0]);
    // Packed into one panel of 32 columns (AVX-512), 16 (AVX2) or 8 (scalar), zero-padded.
    expect(weights.layers).toEqual([{ kind: 'dense', k: 2, n: 3, sparsity: 4 / 6, bytes: expect.any(Number) }]);
    expect([2 * 8 * 4, 2 * 16 * 4, 2 * 32 * 4]).toContain(weights.layers[0].bytes);
  });
});

describe('plans that are refused', () => {
  const weights = native().engineWeights(weightsSpec);
  test.each([
    ['an arena value outside the arena', [input, { storage: 0, dtype: F32, count: 4, offset: 64 }, output], [], /lies outside the arena/, { outputs: Int32Array.of(2), arenaBytes: 64 }],
    ['a misaligned arena offset', [input, { storage: 0, dtype: F32, count: 1, offset: 4 }, output], [], /not 64-byte aligned/, { outputs: Int32Array.of(2), arenaBytes: 128 }],
    ['a missing model constant', [input, output, { storage: 1, dtype: F32, count: 4, index: 5 }], [], /missing model constant/, {}],
    ['a constant of the wrong size', [input, output, { storage: 1, dtype: F32, count: 3, index: 0 }], [], /differs from its model constant/, {}],
    ['a view outside its value', [input, output, { storage: 5, dtype: F32, count: 3, index: 0, offset: 8 }], [], /reaches outside/, {}],
    ['a view of a view', [input, output, { storage: 5, dtype: F32, count: 1, index: 0 }, { storage: 5, dtype: F32, count: 1, index: 2 }], [], /views a view/, {}],
    ['a step naming a missing value', [input, output], [step('Copy', [0], [7])], /outside the plan's 2 values/, {}],
    ['an unknown op', [input, output], [step('Explode', [0], [1])], /not a step kind/, {}],
    ['a broadcast that reads past its operand', [input, output], [step('Binary', [0, 0], [1], [0, 1, 4, 2, 1])], /smaller than its broadcast reaches/, {}],
    ['a step writing into an input', [input, output], [step('Copy', [1], [0])], /writes into a read-only value/, {}],
    ['a linear layer the model lacks', [input, output], [step('Linear', [0], [1], [2, 2, 2, 0, 2], [], 3)], /linear layer 3/, {}],
    ['a linear step of the wrong size', [input, output], [step('Linear', [0], [1], [2, 2, 2, 0, 2], [], 0)], /is 2 x 2 but its layer is 2 x 3/, {}],
    ['a transpose reaching outside its input', [input, output], [step('StridedCopy', [0], [1], [2, 2, 2, 1, 3, 0])], /reads outside its input/, {}],
    ['a gather of a table of the wrong size', [input, { storage: 4, dtype: F32, count: 4 }, { storage: 2, dtype: I64, count: 2 }], [step('Gather', [0, 2], [1], [1, 5, 1])], /data has 4 elements/, { planConstants: [new Uint8Array(16)] }],
    ['an int64 value where float32 is needed', [{ storage: 3, dtype: I64, count: 4 }, output], [step('Softmax', [0], [1], [1, 4, 1, 0])], /input must be float32/, {}],
  ] as const)('%s', (_what, values, steps, message, extra) => {
    expect(() => native().enginePlan(weights, spec(values as unknown as ValueDesc[], steps as never, extra as Partial<EnginePlanSpec>))).toThrow(message);
  });
});

describe('runs with the wrong arrays', () => {
  const weights = native().engineWeights(weightsSpec);
  const plan = native().enginePlan(weights, spec([input, output], [step('Copy', [0], [1])]));
  test.each([
    ['too few inputs', [], /inputs must hold 1 arrays, got 0/],
    ['the wrong kind', [new Int32Array(4)], /inputs\[0\] must be a Float32Array/],
    ['the wrong length', [new Float32Array(3)], /inputs\[0\].*length/],
    ['a non-array input', [{}], /inputs\[0\]/],
  ])('%s', async (_what, inputs, message) => {
    expect(() => plan.run(inputs as never)).toThrow(message);
    await expect(plan.runAsync(inputs as never)).rejects.toThrow(message);
  });

  test('outputs reuse pooled memory once collected, and runs stay correct', () => {
    let last: Float32Array | undefined;
    for (let i = 0; i < 200; i++) {
      [last] = plan.run([Float32Array.of(i, 1, 2, 3)]) as Float32Array[];
      expect(Array.from(last)).toEqual([i, 1, 2, 3]);
    }
  });

  test('a disposed plan refuses to run', () => {
    const p = native().enginePlan(weights, spec([input, output], [step('Copy', [0], [1])]));
    p.dispose();
    expect(() => p.run([new Float32Array(4)])).toThrow(/disposed/);
  });
});

describe("weights packed by kind 'auto'", () => {
  test('each layer on the kernel its zero fraction calls for, transposed or not', () => {
    const sparseish = Float32Array.of(0, 0, 0, 5, 0, 0);  // 5/6 zeros
    const weights = native().engineWeights({
      constants: [],
      linears: [
        { kind: 'auto', sparseFrom: 0.8, k: 2, n: 3, weights: sparseish },
        { kind: 'auto', sparseFrom: 0.9, k: 2, n: 3, weights: sparseish },
        { kind: 'auto', sparseFrom: 0.8, k: 3, n: 2, weights: sparseish, transposed: true },
        { kind: 'auto', sparseFrom: 0.8, k: 2, n: 3, weights: Int8Array.of(0, 0, 0, 5, 0, 0), scales: Float32Array.of(1) },
        { kind: 'auto', sparseFrom: 0.8, k: 2, n: 3, weights: Int8Array.of(0, 0, 0, 5, 0, 0), scales: Float32Array.of(1), zeroPoints: Int8Array.of(1) },
      ],
    });
    expect(weights.layers.map((l) => l.kind)).toEqual(['sparse', 'dense', 'sparse', 'sparse-int8', 'int8']);
    expect(weights.layers.every((l) => Math.abs(l.sparsity - 5 / 6) < 1e-12)).toBe(true);
  });
});

describe('weights that are refused', () => {
  test.each([
    ['an unknown kind', { kind: 'huge', k: 1, n: 1, weights: Float32Array.of(1) }, /must be 'auto', 'dense', 'sparse', 'int8' or 'sparse-int8'/],
    ["'auto' without its threshold", { kind: 'auto', k: 1, n: 1, weights: Float32Array.of(1) }, /sparseFrom must be a number/],
    ['float weights for an int8 kernel', { kind: 'int8', k: 1, n: 1, weights: Float32Array.of(1), scales: Float32Array.of(1) }, /weights must be a Int8Array, got Float32Array/],
    ['weights of the wrong length', { kind: 'dense', k: 2, n: 2, weights: Float32Array.of(1) }, /weights.*length/],
    ['int8 weights without scales', { kind: 'int8', k: 1, n: 1, weights: Int8Array.of(1) }, /scales/],
    ['asymmetric sparse int8 weights', { kind: 'sparse-int8', k: 1, n: 1, weights: Int8Array.of(1), scales: Float32Array.of(1), zeroPoints: Int8Array.of(3) }, /must be symmetric/],
    ['transposed int8 weights', { kind: 'int8', k: 1, n: 1, weights: Int8Array.of(1), scales: Float32Array.of(1), transposed: true }, /only for float32 layers/],
  ])('%s', (_what, layer, message) => {
    expect(() => native().engineWeights({ constants: [], linears: [layer as never] })).toThrow(message);
  });

  test('a constant whose array does not match its type', () => {
    expect(() => native().engineWeights({ constants: [{ type: I64, data: new Float32Array(2) }], linears: [] })).toThrow(/BigInt64Array/);
  });
});
