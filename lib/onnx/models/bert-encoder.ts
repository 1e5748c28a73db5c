// A BERT-style encoder with an attention mask, written node for node the way torch.onnx.export
// (PyTorch 1.13) writes one: embeddings with traced position and type ids, the mask arithmetic,
// post-norm layers with dynamic reshapes, and a pooler + classifier head or the sequence output.
import { GraphBuilder, type BuildOptions } from '../builder';
import { DataType } from '../dtype';
import type { Model } from '../model';
import { makeTensor } from '../tensor';
import type { Dim } from '../value-info';
import { exportBertLayer } from './bert-layer';
import { exportGemm, exportLayerNorm } from './export-ops';
import { checkExportOpset, ExportWriter, TORCH_EXPORT } from './export-writer';
import { embeddingRows, seedStream } from './weights';

export interface BertEncoderOptions {
  /** Encoder layers (default 2). */
  layers?: number;
  /** Hidden size (default 64). */
  hidden?: number;
  /** Attention heads; must divide `hidden` (default 4). */
  heads?: number;
  /** Feed-forward inner size (default 256). */
  ffn?: number;
  /** Token vocabulary (default 500). */
  vocab?: number;
  /** Rows of the position table: the longest sequence the model takes (default 128). */
  maxPositions?: number;
  /** Classes of the classifier head (default 3). */
  numLabels?: number;
  /** Opset 11..17 (default 17): LayerNormalization from 17, decomposed before; see ExportWriter. */
  opset?: number;
  /** 'logits' [batch, numLabels] from the pooler + classifier, or 'sequence': last_hidden_state (default 'logits'). */
  output?: 'logits' | 'sequence';
  /** Take a `token_type_ids` input instead of the all-zero type ids the exporter traces (default false). */
  tokenTypes?: boolean;
  /** Batch dimension: a symbolic name or a size (default 'batch'). */
  batch?: Dim;
  /** Sequence dimension: a symbolic name or a size up to maxPositions (default 'sequence'). */
  sequence?: Dim;
  seed?: number;
}

// BERT's token-type table has two rows (sentence A and B).
const TYPE_VOCAB = 2;

/**
 * Inputs `input_ids`, `attention_mask` (and with tokenTypes `token_type_ids`), INT64 [batch, sequence];
 * output `logits` FLOAT [batch, numLabels] or `last_hidden_state` FLOAT [batch, sequence, hidden].
 * The defaults are the configuration of shared/exporter-graphs/bert-style-encoder-opset17.txt, and
 * with them the graph has that file's nodes in that file's order (opset 14: the opset-14 file's).
 * Weights are random, deterministic in `seed`, and scaled so that attention and tanh do not saturate.
 */
export function buildBertEncoder(options: BertEncoderOptions = {}, build: Omit<BuildOptions, 'opset' | 'opsets'> = {}): Model {
  const {
    layers = 2, hidden = 64, heads = 4, ffn = 256, vocab = 500, maxPositions = 128, numLabels = 3, opset = 17,
    output = 'logits', tokenTypes = false, batch = 'batch', sequence = 'sequence', seed = 0,
  } = options;
  checkExportOpset(opset);
  for (const [name, value] of Object.entries({ layers, hidden, heads, ffn, vocab, maxPositions, numLabels })) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, not ${value}`);
  }
  if (hidden % heads !== 0) throw new RangeError(`hidden size ${hidden} is not divisible by ${heads} heads`);
  if (typeof sequence === 'number' && sequence > maxPositions) throw new RangeError(`sequence ${sequence} is longer than maxPositions ${maxPositions}`);
  const nextSeed = seedStream(seed);
  const g = new GraphBuilder('torch_jit');
  const w = new ExportWriter(g, opset);
  const ids = g.input('input_ids', 'int64', [batch, sequence]);
  const attentionMask = g.input('attention_mask', 'int64', [batch, sequence]);
  const typeIds = tokenTypes ? g.input('token_type_ids', 'int64', [batch, sequence]) : undefined;

  // position_ids = arange(input_ids.size(1)).unsqueeze(0), as traced.
  const length = w.node('Cast', [w.node('Gather', [w.node('Shape', [ids]), w.int64(1)], { axis: 0 })], { to: DataType.INT64 });
  const positions = w.node('Range', [w.int64(0), length, w.int64(1)]);
  // The exporter writes the head's CLS index here, long before the head reads it.
  const clsIndex = output === 'logits' ? w.int64(0) : undefined;
  const positionIds = w.unsqueeze(positions, 0);
  const lookup = (name: string, rows: number, indices: string): string => {
    const table = g.initializer(`${name}.weight`, embeddingRows(rows * hidden, 3, nextSeed()), [rows, hidden]);
    return w.scoped(name, () => w.node('Gather', [table, indices]));
  };
  const tokensAndPositions = w.node('Add', [lookup('tok', vocab, ids), lookup('pos', maxPositions, positionIds)]);
  // Without token_type_ids the exporter traces zeros shaped like input_ids.
  const types = typeIds ?? w.node('ConstantOfShape', [w.node('Shape', [ids])], { value: makeTensor('', new BigInt64Array(1), [1]) });
  const embedded = w.node('Add', [tokensAndPositions, lookup('typ', TYPE_VOCAB, types)]);
  let x = exportLayerNorm(w, embedded, 'ln', hidden, nextSeed);

  // (1 - mask[:, None, None, :]) * -10000, added to every layer's attention scores.
  const mask4 = w.node('Cast', [w.unsqueeze(w.unsqueeze(attentionMask, 1), 2)], { to: DataType.FLOAT });
  const additiveMask = w.node('Mul', [w.node('Sub', [w.float(1), mask4]), w.float(-10000)]);

  for (let i = 0; i < layers; i++) {
    const last = i === layers - 1 && output === 'sequence' ? 'last_hidden_state' : undefined;
    x = exportBertLayer(w, x, additiveMask, i, { hidden, heads, ffn }, nextSeed, last);
  }
  if (clsIndex === undefined) {
    g.output(x, 'float32', [batch, sequence, hidden]);
  } else {
    const cls = w.node('Gather', [x, clsIndex], { axis: 1 });
    const pooled = w.node('Tanh', [exportGemm(w, cls, 'pool', hidden, hidden, nextSeed)]);
    g.output(exportGemm(w, pooled, 'cls', hidden, numLabels, nextSeed, 1, 'logits'), 'float32', [batch, numLabels]);
  }
  return g.build({ ...TORCH_EXPORT, ...build, opset });
}
