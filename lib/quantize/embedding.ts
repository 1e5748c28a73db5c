// Embedding tables (Gather over axis 0 of a constant [V, H] table) kept as int8: Gather picks
// integer rows, DequantizeLinear turns only those rows back into float.
import { rewriterOver } from './rewriter';
import { replaceInGraph } from './rewrite-context';
import { gatherTable } from './weights';

export const embeddingRewriter = rewriterOver((ctx, ref) => gatherTable(ctx.scope, ref), (ctx, ref, table) => {
  const node = ref.node;
  const output = node.output[0];
  const base = node.name || output;
  // Per channel means one scale per hidden unit: the last axis both of the table and of the rows gathered.
  const axis = ctx.options.perChannel ? 1 : null;
  const w = ctx.quantizeWeight(table.ref.name, { variant: `gather:${axis}`, values: table.values, dims: table.dims, axis, graph: table.ref.graph, baseName: table.ref.name });
  ctx.scope.markReplaced(table.ref);
  const rows = ctx.scope.fresh(`${base}_quantized_rows`);
  replaceInGraph(ref.graph, node, [
    ctx.node('Gather', [w.q, node.input[1]], [rows], base, { axis: 0 }),
    ctx.node('DequantizeLinear', [rows, w.scale, w.zeroPoint], [output], base, axis === null ? {} : { axis: -1 }),
  ]);
  return `Gather + DequantizeLinear, ${axis === null ? 'per-tensor' : 'per-channel'} ${ctx.options.weightType} table [${table.dims.join(', ')}]`;
});
