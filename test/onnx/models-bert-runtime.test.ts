// buildBertEncoder's models run in onnxruntime with dynamic batch and sequence, honour the attention
// mask the way BERT does (padding never changes real tokens' results), compute one function across
// opsets, and have weights that keep attention and tanh out of saturation.
import * as ort from 'onnxruntime-node';
import { buildBertEncoder, createRandom, makeValueInfo, type BertEncoderOptions } from '../../lib/onnx';
import { runOrt } from './helpers';

// Float error of one forward pass at unit scale (summation order differs between batch shapes).
const TOLERANCE = 1e-4;
const VOCAB = 500;

/** Token ids [0, VOCAB), deterministic in `seed`. */
function tokenIds(count: number, seed: number): number[] {
  const next = createRandom(seed);
  return Array.from({ length: count }, () => Math.floor(next() * VOCAB));
}

const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), dims);

/** Rows of real tokens padded to `sequence` with random ids under mask 0: the ids there must not matter. */
function paddedFeeds(rows: number[][], sequence: number, seed = 99): Record<string, ort.Tensor> {
  const filler = tokenIds(rows.length * sequence, seed);
  const ids = rows.flatMap((row, r) => Array.from({ length: sequence }, (_, t) => (t < row.length ? row[t] : filler[r * sequence + t])));
  const mask = rows.flatMap((row) => Array.from({ length: sequence }, (_, t) => (t < row.length ? 1 : 0)));
  return { input_ids: int64(ids, [rows.length, sequence]), attention_mask: int64(mask, [rows.length, sequence]) };
}

const data = (t: ort.Tensor): Float32Array => t.data as Float32Array;
const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
/** Row `r` of a [rows, ...] tensor, its first `keep` entries of `width` each. */
const rowOf = (t: ort.Tensor, r: number, keep: number, width: number): Float32Array => {
  const rowSize = t.dims.slice(1).reduce((a, b) => a * b, 1);
  return data(t).subarray(r * rowSize, r * rowSize + keep * width);
};

describe.each([17, 14] as const)('buildBertEncoder in onnxruntime, opset %i', (opset) => {
  const hidden = 64;
  const logitsModel = buildBertEncoder({ opset, seed: 1 });
  const sequenceModel = buildBertEncoder({ opset, seed: 1, output: 'sequence' });

  test.each([
    [1, 1, [1]],
    [2, 7, [7, 4]],
    [3, 128, [128, 77, 1]],
  ])('batch %i x sequence %i: each padded row gives what it gives alone, unpadded', async (batch, sequence, lengths) => {
    const rows = lengths.map((length, r) => tokenIds(length, 10 + r));
    const feeds = paddedFeeds(rows, sequence);
    const logits = (await runOrt(logitsModel, feeds)).logits;
    const states = (await runOrt(sequenceModel, feeds)).last_hidden_state;
    expect(logits.dims).toEqual([batch, 3]);
    expect(states.dims).toEqual([batch, sequence, hidden]);
    for (const [r, row] of rows.entries()) {
      const alone = paddedFeeds([row], row.length);
      expect(maxAbsDiff(rowOf(logits, r, 1, 3), data((await runOrt(logitsModel, alone)).logits))).toBeLessThan(TOLERANCE);
      const aloneStates = data((await runOrt(sequenceModel, alone)).last_hidden_state);
      expect(maxAbsDiff(rowOf(states, r, row.length, hidden), aloneStates)).toBeLessThan(TOLERANCE);
    }
  });

  test('the mask changes the results of the tokens that remain', async () => {
    const row = tokenIds(7, 20);
    const full = await runOrt(logitsModel, paddedFeeds([row], 7));
    const masked = await runOrt(logitsModel, { ...paddedFeeds([row], 7), attention_mask: int64([1, 1, 1, 1, 0, 0, 0], [1, 7]) });
    expect(maxAbsDiff(data(full.logits), data(masked.logits))).toBeGreaterThan(1e-2);
  });
});

describe('buildBertEncoder across options', () => {
  test('opsets 11 to 17 compute the same function from the same seed', async () => {
    const feeds = paddedFeeds([tokenIds(9, 30), tokenIds(5, 31)], 9);
    const build = (opset: number) => buildBertEncoder({ opset, seed: 2, output: 'sequence' });
    const reference = data((await runOrt(build(17), feeds)).last_hidden_state);
    for (const opset of [11, 12, 13, 14, 15, 16]) {
      expect(maxAbsDiff(data((await runOrt(build(opset), feeds)).last_hidden_state), reference)).toBeLessThan(TOLERANCE);
    }
  });

  test('token_type_ids of zeros give the traced-zeros model; other types change the result', async () => {
    const options: BertEncoderOptions = { seed: 3, output: 'sequence' };
    const feeds = paddedFeeds([tokenIds(6, 40)], 6);
    const plain = data((await runOrt(buildBertEncoder(options), feeds)).last_hidden_state);
    const typed = buildBertEncoder({ ...options, tokenTypes: true });
    const zeros = data((await runOrt(typed, { ...feeds, token_type_ids: int64([0, 0, 0, 0, 0, 0], [1, 6]) })).last_hidden_state);
    const second = data((await runOrt(typed, { ...feeds, token_type_ids: int64([0, 0, 0, 1, 1, 1], [1, 6]) })).last_hidden_state);
    expect(maxAbsDiff(zeros, plain)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(second, plain)).toBeGreaterThan(1e-2);
  });

  test('fixed batch and sequence sizes run', async () => {
    const model = buildBertEncoder({ batch: 2, sequence: 7, numLabels: 4, opset: 14 });
    const out = await runOrt(model, paddedFeeds([tokenIds(7, 50), tokenIds(3, 51)], 7));
    expect(out.logits.dims).toEqual([2, 4]);
  });

  test('attention and the pooler\'s tanh are not saturated', async () => {
    const model = buildBertEncoder({ seed: 4 });
    const probe = model.graph.node.filter((n) => n.opType === 'Softmax' || n.opType === 'Tanh').map((n) => n.output[0]);
    model.graph.output.push(...probe.map((name) => makeValueInfo(name, 'float32')));
    const sequence = 32;
    const out = await runOrt(model, paddedFeeds(Array.from({ length: 8 }, (_, r) => tokenIds(sequence, 60 + r)), sequence));
    for (const name of probe.filter((p) => p.includes('Softmax'))) {
      const probs = data(out[name]);
      const rowMax = Array.from({ length: probs.length / sequence }, (_, r) => Math.max(...probs.subarray(r * sequence, (r + 1) * sequence)));
      // Uniform attention would be 1/32 per key; one-hot would be 1.
      const meanMax = rowMax.reduce((a, b) => a + b, 0) / rowMax.length;
      expect(meanMax).toBeGreaterThan(2 / sequence);
      expect(meanMax).toBeLessThan(0.5);
      expect(rowMax.filter((m) => m > 0.9).length / rowMax.length).toBeLessThan(0.05);
    }
    const pooled = data(out[probe.find((p) => p.includes('Tanh'))!]);
    expect(pooled.filter((v) => Math.abs(v) > 0.99).length / pooled.length).toBeLessThan(0.05);
    expect(Math.sqrt(pooled.reduce((s, v) => s + v * v, 0) / pooled.length)).toBeGreaterThan(0.3);
  });
});
