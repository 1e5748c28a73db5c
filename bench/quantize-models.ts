// Models the quantization benchmark measures: a stack of pre-norm transformer encoder blocks with
// realistic sizes (linear-heavy, like BERT), built with the GraphBuilder.
import { GraphBuilder, type BuildOptions } from '../lib/onnx/builder';
import type { Model } from '../lib/onnx/model';
import { randomNormal } from '../lib/onnx/random';

export interface EncoderOptions {
  layers: number;
  seq: number;
  hidden: number;
  heads: number;
  ffn: number;
  /** Classes of the per-token classifier head (default 32). */
  classes?: number;
  /** Batch dimension; default the symbolic 'batch'. */
  batch?: number | string;
  seed?: number;
}

/**
 * Input "input" [batch, seq, hidden] float32 -> "output" (hidden states, same shape) and "logits"
 * [batch, seq, classes] from a token-classifier head, so top-1 agreement means something.
 */
export function buildTransformerEncoder(options: EncoderOptions, build: BuildOptions = {}): Model {
  const { layers, seq, hidden, heads, ffn, classes = 32, batch = 'batch', seed = 0 } = options;
  if (hidden % heads !== 0) throw new RangeError(`hidden size ${hidden} is not divisible by ${heads} heads`);
  const headDim = hidden / heads;
  let stream = seed * 1000;
  const weights = (count: number, fanIn: number, gain = 1) => randomNormal(count, ++stream, Math.sqrt(gain / fanIn));
  const g = new GraphBuilder('transformer_encoder');
  let x = g.input('input', 'float32', [batch, seq, hidden]);
  const scalar = (name: string, value: number) => g.initializer(name, new Float32Array([value]), []);
  const split = g.initializer('split_shape', new BigInt64Array([0n, 0n, BigInt(heads), BigInt(headDim)]), [4]);
  const merge = g.initializer('merge_shape', new BigInt64Array([0n, 0n, BigInt(hidden)]), [3]);
  const scale = scalar('attn_scale', 1 / Math.sqrt(headDim));
  const sqrt2 = scalar('sqrt2', Math.SQRT2);
  const one = scalar('one', 1);
  const half = scalar('half', 0.5);
  for (let l = 0; l < layers; l++) {
    const p = `layer${l}`;
    const linear = (input: string, name: string, fanIn: number, fanOut: number, gain = 1) => {
      const w = g.initializer(`${p}.${name}.weight`, weights(fanIn * fanOut, fanIn, gain), [fanIn, fanOut]);
      const b = g.initializer(`${p}.${name}.bias`, randomNormal(fanOut, ++stream, 0.01), [fanOut]);
      return g.node('Add', [g.node('MatMul', [input, w]), b]);
    };
    const layerNorm = (input: string, name: string) => g.node('LayerNormalization', [
      input,
      g.initializer(`${p}.${name}.weight`, new Float32Array(hidden).fill(1), [hidden]),
      g.initializer(`${p}.${name}.bias`, new Float32Array(hidden), [hidden]),
    ], 1, { axis: -1, epsilon: 1e-5 });
    const ln1 = layerNorm(x, 'ln1');
    const heads4 = (name: string, perm: number[]) => g.node('Transpose', [g.node('Reshape', [linear(ln1, name, hidden, hidden), split])], 1, { perm });
    const q = heads4('q', [0, 2, 1, 3]);
    const kT = heads4('k', [0, 2, 3, 1]);
    const v = heads4('v', [0, 2, 1, 3]);
    const scores = g.node('Mul', [g.node('MatMul', [q, kT]), scale]);
    const context = g.node('MatMul', [g.node('Softmax', [scores], 1, { axis: -1 }), v]);
    const merged = g.node('Reshape', [g.node('Transpose', [context], 1, { perm: [0, 2, 1, 3] }), merge]);
    const x1 = g.node('Add', [x, linear(merged, 'out', hidden, hidden)]);
    const h = linear(layerNorm(x1, 'ln2'), 'up', hidden, ffn, 2);
    const erf = g.node('Erf', [g.node('Div', [h, sqrt2])]);
    const gelu = g.node('Mul', [g.node('Mul', [h, g.node('Add', [erf, one])]), half]);
    x = g.node('Add', [x1, linear(gelu, 'down', ffn, hidden)], l === layers - 1 ? ['output'] : 1);
  }
  g.output('output', 'float32', [batch, seq, hidden]);
  const head = g.initializer('classifier.weight', weights(hidden * classes, hidden), [hidden, classes]);
  const headBias = g.initializer('classifier.bias', randomNormal(classes, ++stream, 0.01), [classes]);
  g.node('Add', [g.node('MatMul', [x, head]), headBias], ['logits']);
  g.output('logits', 'float32', [batch, seq, classes]);
  return g.build(build);
}
