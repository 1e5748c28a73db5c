// One pre-norm transformer encoder block: LayerNorm -> multi-head self-attention -> residual,
// LayerNorm -> MatMul/Gelu(Erf)/MatMul feed-forward -> residual.
import { GraphBuilder, type BuildOptions } from '../builder';
import type { Model } from '../model';
import { heWeights, seedStream, smallBias } from './weights';

export interface TransformerBlockOptions {
  seq: number;
  hidden: number;
  heads: number;
  ffn: number;
  /** Batch dimension: a size, or a symbolic name (default 1). */
  batch?: number | string;
  seed?: number;
}

/** Input "input" [batch, seq, hidden] float32 -> output "output" of the same shape. */
export function buildTransformerBlock(options: TransformerBlockOptions, build: BuildOptions = {}): Model {
  const { seq, hidden, heads, ffn, batch = 1, seed = 0 } = options;
  if (hidden % heads !== 0) throw new RangeError(`hidden size ${hidden} is not divisible by ${heads} heads`);
  const headDim = hidden / heads;
  const nextSeed = seedStream(seed);
  const g = new GraphBuilder('transformer_block');
  const x = g.input('input', 'float32', [batch, seq, hidden]);

  const linear = (input: string, name: string, fanIn: number, fanOut: number, gain = 1): string => {
    const w = g.initializer(`${name}.weight`, heWeights(fanIn * fanOut, fanIn, nextSeed(), gain), [fanIn, fanOut]);
    const b = g.initializer(`${name}.bias`, smallBias(fanOut, nextSeed()), [fanOut]);
    return g.node('Add', [g.node('MatMul', [input, w]), b]);
  };
  const layerNorm = (input: string, name: string): string => {
    const scale = g.initializer(`${name}.weight`, new Float32Array(hidden).fill(1), [hidden]);
    const bias = g.initializer(`${name}.bias`, new Float32Array(hidden), [hidden]);
    return g.node('LayerNormalization', [input, scale, bias], 1, { axis: -1, epsilon: 1e-5 });
  };
  const scalar = (name: string, value: number): string => g.initializer(name, new Float32Array([value]), []);

  // Attention: [b, s, h] -> [b, heads, s, d] per projection; 0 in a Reshape target copies that input dim.
  const split = g.initializer('attn.split_shape', new BigInt64Array([0n, 0n, BigInt(heads), BigInt(headDim)]), [4]);
  const merge = g.initializer('attn.merge_shape', new BigInt64Array([0n, 0n, BigInt(hidden)]), [3]);
  const ln1 = layerNorm(x, 'ln1');
  const heads4 = (name: string, perm: number[]): string =>
    g.node('Transpose', [g.node('Reshape', [linear(ln1, name, hidden, hidden), split])], 1, { perm });
  const q = heads4('attn.q', [0, 2, 1, 3]);
  const kT = heads4('attn.k', [0, 2, 3, 1]);
  const v = heads4('attn.v', [0, 2, 1, 3]);
  const scores = g.node('Mul', [g.node('MatMul', [q, kT]), scalar('attn.scale', 1 / Math.sqrt(headDim))]);
  const context = g.node('MatMul', [g.node('Softmax', [scores], 1, { axis: -1 }), v]);
  const merged = g.node('Reshape', [g.node('Transpose', [context], 1, { perm: [0, 2, 1, 3] }), merge]);
  const x1 = g.node('Add', [x, linear(merged, 'attn.out', hidden, hidden)]);

  // Feed-forward with exact Gelu: 0.5 * h * (1 + erf(h / sqrt(2))).
  const h = linear(layerNorm(x1, 'ln2'), 'ffn.up', hidden, ffn, 2);
  const erf = g.node('Erf', [g.node('Div', [h, scalar('gelu.sqrt2', Math.SQRT2)])]);
  const gelu = g.node('Mul', [g.node('Mul', [h, g.node('Add', [erf, scalar('gelu.one', 1)])]), scalar('gelu.half', 0.5)]);
  g.node('Add', [x1, linear(gelu, 'ffn.down', ffn, hidden)], ['output']);
  g.output('output', 'float32', [batch, seq, hidden]);
  return g.build(build);
}
