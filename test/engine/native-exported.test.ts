// Graphs as torch.onnx.export writes them (shape subgraphs, Constant nodes, mask arithmetic,
// decomposed or fused LayerNorm, Erf GELU, Gemm heads): the native engine against onnxruntime,
// float32 and after our quantize / prune passes.
import { buildBertEncoder } from '../../lib/onnx/models/bert-encoder';
import { buildExportedMlp } from '../../lib/onnx/models/exported-mlp';
import type { Feeds } from '../../lib/engine/tensor';
import { quantize } from '../../lib/quantize';
import { prune } from '../../lib/prune';
import { agreement, compareRun, floatFeed, loadBoth } from './native-helpers';

/** Token ids and a mask whose rows are padded to different lengths (row i keeps seq - i tokens, at least 1). */
function encoderFeeds(batch: number, seq: number, vocab: number): Feeds {
  const ids = BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt((i * 7919) % vocab));
  const mask = BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt(i % seq < Math.max(1, seq - Math.floor(i / seq)) ? 1 : 0));
  return {
    input_ids: { type: 'int64', dims: [batch, seq], data: ids },
    attention_mask: { type: 'int64', dims: [batch, seq], data: mask },
  };
}

describe('BERT-style encoders as exported', () => {
  const cases = [
    { layers: 1, hidden: 64, heads: 1, ffn: 128, opset: 17, output: 'logits' as const, batch: 1, seq: 1 },
    { layers: 2, hidden: 64, heads: 4, ffn: 256, opset: 14, output: 'logits' as const, batch: 2, seq: 7 },
    { layers: 2, hidden: 128, heads: 4, ffn: 512, opset: 13, output: 'sequence' as const, batch: 3, seq: 77 },
    { layers: 4, hidden: 256, heads: 8, ffn: 1024, opset: 17, output: 'sequence' as const, batch: 2, seq: 256 },
    { layers: 1, hidden: 768, heads: 12, ffn: 3072, opset: 14, output: 'logits' as const, batch: 16, seq: 32 },
  ];
  test.each(cases)('$layers x $hidden, $heads heads, opset $opset, $output, batch $batch, seq $seq', async (c) => {
    const model = buildBertEncoder({ layers: c.layers, hidden: c.hidden, heads: c.heads, ffn: c.ffn, opset: c.opset, output: c.output, maxPositions: 256 });
    const pair = await loadBoth(model);
    try {
      const result = await compareRun(pair, encoderFeeds(c.batch, c.seq, 500));
      const out = Object.values(result)[0];
      expect(out.cosine).toBeGreaterThanOrEqual(0.99999);
      expect(out.maxRelativeError).toBeLessThanOrEqual(1e-4);
      // The shape arithmetic folded away; every layer's attention and LayerNorms fused.
      const steps = pair.native.report.steps;
      expect(steps.Attention).toBe(c.layers);
      expect(steps.LayerNorm).toBe(2 * c.layers + 1);
      expect(Object.keys(steps).filter((op) => !['Gather', 'Binary', 'LayerNorm', 'Cast', 'Linear', 'Attention', 'Copy'].includes(op))).toEqual([]);
    } finally {
      await pair.dispose();
    }
  });

  test('quantized, pruned, and pruned then quantized: the kernels each calls for', async () => {
    const base = buildBertEncoder({ layers: 2, hidden: 128, heads: 4, ffn: 512, opset: 17, numLabels: 5 });
    const pruned = (await prune(base, { sparsity: 0.95, pattern: 'unstructured' })).model;
    const variants = [
      { model: (await quantize(base, { mode: 'dynamic' })).model, reference: base, kind: 'int8' },
      { model: pruned, reference: pruned, kind: 'sparse' },
      { model: (await quantize(pruned, { mode: 'dynamic' })).model, reference: pruned, kind: 'sparse-int8' },
    ];
    for (const v of variants) {
      const pair = await loadBoth(v.model);
      const float = await loadBoth(v.reference);
      try {
        // 12 encoder linear layers on `kind`; the 2 head layers follow their own sparsity.
        const kinds = pair.native.report.layers.map((l) => l.kind);
        expect(kinds.filter((k) => k === v.kind).length).toBeGreaterThanOrEqual(12);
        for (const batch of [1, 4]) {
          const feeds = encoderFeeds(batch, 33, 500);
          const result = await compareRun(pair, feeds);
          expect(result.logits.top1!).toBe(1);
          if (v.kind === 'sparse') {
            expect(result.logits.cosine).toBeGreaterThanOrEqual(0.99999);
            continue;
          }
          // Two int8 runs differ by a quantization step wherever an activation sits within float
          // rounding of a rounding boundary; what must hold is that ours is as close to the float
          // model as onnxruntime's int8 run is.
          const [ours, theirs] = await Promise.all([float.ort.run(feeds), pair.native.run(feeds), pair.ort.run(feeds)])
            .then(([ref, n, o]) => [agreement(ref.logits, n.logits), agreement(ref.logits, o.logits)]);
          expect(ours.cosine).toBeGreaterThanOrEqual(theirs.cosine - 2e-4);
          expect(result.logits.cosine).toBeGreaterThanOrEqual(0.999);
        }
      } finally {
        await pair.dispose();
        await float.dispose();
      }
    }
  });
});

describe('MLP as exported (Flatten, Gemm transB, Relu)', () => {
  test.each([1, 64])('784-1024-1024-10 at batch %i', async (batch) => {
    const pair = await loadBoth(buildExportedMlp({ hidden: [1024, 1024], outputSize: 10 }));
    try {
      const result = await compareRun(pair, { image: floatFeed([batch, 1, 28, 28], batch) });
      expect(result.logits.cosine).toBeGreaterThanOrEqual(0.99999);
      expect(result.logits.maxRelativeError).toBeLessThanOrEqual(1e-4);
      expect(pair.native.report.steps).toEqual({ Linear: 3 });
    } finally {
      await pair.dispose();
    }
  });
});
