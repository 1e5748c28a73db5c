// Pre-norm transformer encoder blocks in clean form (reshape targets and constants as initializers):
// LayerNorm -> multi-head self-attention -> residual, LayerNorm -> MatMul/Gelu(Erf)/MatMul -> residual,
// one block or a stack, optionally with a per-token classifier head. For the form exporters write, see
// buildBertEncoder.
import { GraphBuilder, type BuildOptions } from '../builder';
import type { Model } from '../model';
import { erfGelu } from './gelu';
import { heWeights, seedStream, smallBias } from './weights';

export interface TransformerBlockOptions {
  seq: number;
  hidden: number;
  heads: number;
  ffn: number;
  /** Blocks stacked, each reading the one before (default 1); with several, block i's weights are named "layer{i}.*". */
  layers?: number;
  /** Classes of a per-token classifier head, output "logits" [batch, seq, classes] (default: no head). */
  classes?: number;
  /** Batch dimension: a size, or a symbolic name (default 1). */
  batch?: number | string;
  seed?: number;
  /**
   * Planted activation outliers: every LayerNorm's scale is `scale` (e.g. 20-50) on these channels and 1
   * elsewhere, so the linear layers after it see a few channels that much larger than the rest, as in
   * trained BERT/LLM activations; their weight rows for those channels are divided by `scale`, so (as in
   * a trained model) three channels do not swamp every projection (default: none).
   */
  outliers?: { channels: readonly number[]; scale: number };
}

/**
 * Input "input" [batch, seq, hidden] float32 -> output "output" of the same shape (and with `classes`,
 * "logits" [batch, seq, classes]).
 */
export function buildTransformerBlock(options: TransformerBlockOptions, build: BuildOptions = {}): Model {
  const { seq, hidden, heads, ffn, layers = 1, classes, batch = 1, seed = 0, outliers } = options;
  if (outliers?.channels.some((c) => !Number.isInteger(c) || c < 0 || c >= hidden)) throw new RangeError(`outlier channels must be in [0, ${hidden})`);
  if (hidden % heads !== 0) throw new RangeError(`hidden size ${hidden} is not divisible by ${heads} heads`);
  if (!Number.isInteger(layers) || layers < 1) throw new RangeError(`layers must be a positive integer, not ${layers}`);
  const headDim = hidden / heads;
  const nextSeed = seedStream(seed);
  const g = new GraphBuilder(layers === 1 ? 'transformer_block' : 'transformer_encoder');

  const linear = (input: string, name: string, fanIn: number, fanOut: number, gain = 1, output?: string, afterNorm = false): string => {
    const values = heWeights(fanIn * fanOut, fanIn, nextSeed(), gain);
    if (afterNorm && outliers) for (const c of outliers.channels) for (let n = 0; n < fanOut; n++) values[c * fanOut + n] /= outliers.scale;
    const w = g.initializer(`${name}.weight`, values, [fanIn, fanOut]);
    const b = g.initializer(`${name}.bias`, smallBias(fanOut, nextSeed()), [fanOut]);
    return g.node('Add', [g.node('MatMul', [input, w]), b], output === undefined ? 1 : [output]);
  };
  const layerNorm = (input: string, name: string): string => {
    const gamma = new Float32Array(hidden).fill(1);
    for (const c of outliers?.channels ?? []) gamma[c] = outliers?.scale ?? 1;
    const scale = g.initializer(`${name}.weight`, gamma, [hidden]);
    const bias = g.initializer(`${name}.bias`, new Float32Array(hidden), [hidden]);
    return g.node('LayerNormalization', [input, scale, bias], 1, { axis: -1, epsilon: 1e-5 });
  };
  // Every block reads the same scalar initializers.
  const scalars = new Map<number, string>();
  const scalar = (value: number): string => {
    if (!scalars.has(value)) scalars.set(value, g.initializer(`scalar.${value}`, new Float32Array([value]), []));
    return scalars.get(value)!;
  };
  // Attention: [b, s, h] -> [b, heads, s, d] per projection; 0 in a Reshape target copies that input dim.
  const split = g.initializer('attn.split_shape', new BigInt64Array([0n, 0n, BigInt(heads), BigInt(headDim)]), [4]);
  const merge = g.initializer('attn.merge_shape', new BigInt64Array([0n, 0n, BigInt(hidden)]), [3]);

  const block = (x: string, prefix: string, output?: string): string => {
    const ln1 = layerNorm(x, `${prefix}ln1`);
    const heads4 = (name: string, perm: number[]): string =>
      g.node('Transpose', [g.node('Reshape', [linear(ln1, `${prefix}${name}`, hidden, hidden, 1, undefined, true), split])], 1, { perm });
    const q = heads4('attn.q', [0, 2, 1, 3]);
    const kT = heads4('attn.k', [0, 2, 3, 1]);
    const v = heads4('attn.v', [0, 2, 1, 3]);
    const scores = g.node('Mul', [g.node('MatMul', [q, kT]), scalar(1 / Math.sqrt(headDim))]);
    const context = g.node('MatMul', [g.node('Softmax', [scores], 1, { axis: -1 }), v]);
    const merged = g.node('Reshape', [g.node('Transpose', [context], 1, { perm: [0, 2, 1, 3] }), merge]);
    const x1 = g.node('Add', [x, linear(merged, `${prefix}attn.out`, hidden, hidden)]);
    const h = linear(layerNorm(x1, `${prefix}ln2`), `${prefix}ffn.up`, hidden, ffn, 2, undefined, true);
    const gelu = erfGelu((op, inputs) => g.node(op, inputs), scalar, h);
    return g.node('Add', [x1, linear(gelu, `${prefix}ffn.down`, ffn, hidden)], output === undefined ? 1 : [output]);
  };

  let x = g.input('input', 'float32', [batch, seq, hidden]);
  for (let i = 0; i < layers; i++) x = block(x, layers === 1 ? '' : `layer${i}.`, i === layers - 1 ? 'output' : undefined);
  g.output('output', 'float32', [batch, seq, hidden]);
  if (classes !== undefined) {
    linear(x, 'classifier', hidden, classes, 1, 'logits');
    g.output('logits', 'float32', [batch, seq, classes]);
  }
  return g.build(build);
}
