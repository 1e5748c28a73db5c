// Static QDQ building blocks: the scale and zero point of an activation (shared by its group), one
// Q -> DQ pair per activation and graph, float constants of Add/Mul stored as integers, and a node's
// output quantized, with a Relu/Clip that follows folded into the output range.
import type { GraphProto, NodeProto } from '../../onnx/gen/onnx_pb';
import { getAttribute } from '../../onnx/attributes';
import type { NodeRef } from '../../onnx/model';
import { allGraphs } from '../../onnx/proto-walk';
import { quantizeValue, quantRange, scaleZeroPoint, type ScaleZeroPoint } from '../quant-math';
import type { RewriteContext } from '../rewrite-context';
import { FOLDED_ACTIVATIONS } from './op-kinds';

/** The [min, max] the group of `name` spans on the calibration samples, or undefined when none was measured. */
export function groupRange(ctx: RewriteContext, name: string): [number, number] | undefined {
  let range: [number, number] | undefined;
  for (const member of ctx.groups.members(name)) {
    const r = ctx.ranges.get(member);
    if (!r) continue;
    range = range ? [Math.min(range[0], r[0]), Math.max(range[1], r[1])] : [r[0], r[1]];
  }
  return range;
}

export function hasRange(ctx: RewriteContext, name: string): boolean {
  return ctx.quantizedValues.has(name) || groupRange(ctx, name) !== undefined;
}

/** Scale and zero point of an activation: those it already has, or those of its group's range. */
export function activationParams(ctx: RewriteContext, name: string): ScaleZeroPoint {
  const known = ctx.quantizedValues.get(name);
  if (known) return known;
  const range = groupRange(ctx, name);
  if (!range) throw new Error(`no calibration range for "${name}"`);
  const o = ctx.options;
  return scaleZeroPoint(range[0], range[1], quantRange(o.activationType, { symmetric: o.symmetricActivations }), o.symmetricActivations);
}

function zeroPointArray(ctx: RewriteContext, zeroPoint: number): Int8Array | Uint8Array {
  return ctx.options.activationType === 'int8' ? Int8Array.of(zeroPoint) : Uint8Array.of(zeroPoint);
}

/** Q -> DQ of `input` into `output` with the given parameters (initializers go to `graph`). */
export function qdqPair(ctx: RewriteContext, graph: GraphProto, input: string, output: string, params: ScaleZeroPoint, base: string): NodeProto[] {
  const scale = ctx.scope.addInitializer(graph, `${base}_scale`, Float32Array.of(params.scale), []);
  const zeroPoint = ctx.scope.addInitializer(graph, `${base}_zero_point`, zeroPointArray(ctx, params.zeroPoint), [], ctx.options.activationType);
  const q = ctx.scope.fresh(`${base}_quantized`);
  return [
    ctx.node('QuantizeLinear', [input, scale, zeroPoint], [q], base),
    ctx.node('DequantizeLinear', [q, scale, zeroPoint], [output], base),
  ];
}

/** The dequantized form of an activation, made once per graph; values already behind a DQ are reused. */
export function quantizedActivation(ctx: RewriteContext, graph: GraphProto, name: string): string {
  if (ctx.quantizedValues.has(name)) return name;
  const params = activationParams(ctx, name);
  const [out] = ctx.sharedValues(graph, `qdq:${name}`, () => {
    const output = ctx.scope.fresh(`${name}_dequantized`);
    return { nodes: qdqPair(ctx, graph, name, output, params, name), names: [output] };
  });
  return out;
}

/**
 * A float constant operand (Add's bias, Mul's scale) stored in the activation type with its own
 * per-tensor scale behind one DequantizeLinear: QLinearAdd/QLinearMul take both operands as integers.
 */
export function quantizedConstant(ctx: RewriteContext, graph: GraphProto, name: string): string | undefined {
  const constant = ctx.scope.floatConstant(name, graph);
  if (!constant) return undefined;
  const [out] = ctx.sharedValues(graph, `qconst:${name}`, () => {
    const o = ctx.options;
    let [lo, hi] = [Infinity, -Infinity];
    for (const v of constant.values) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    const params = scaleZeroPoint(lo, hi, quantRange(o.activationType, { symmetric: o.symmetricActivations }), o.symmetricActivations);
    const data = o.activationType === 'int8' ? new Int8Array(constant.values.length) : new Uint8Array(constant.values.length);
    constant.values.forEach((v, i) => { data[i] = quantizeValue(v, params.scale, params.zeroPoint, o.activationType); });
    const g = constant.ref.graph;
    const q = ctx.scope.addInitializer(g, `${name}_quantized`, data, constant.dims, o.activationType);
    const scale = ctx.scope.addInitializer(g, `${name}_scale`, Float32Array.of(params.scale), []);
    const zeroPoint = ctx.scope.addInitializer(g, `${name}_zero_point`, zeroPointArray(ctx, params.zeroPoint), [], o.activationType);
    ctx.scope.markReplaced(constant.ref);
    const output = ctx.scope.fresh(`${name}_dequantized`);
    return { nodes: [ctx.node('DequantizeLinear', [q, scale, zeroPoint], [output], name)], names: [output] };
  });
  return out;
}

/** Nodes (in any graph) that read `name`, and whether a graph lists it as an output. */
function readersOf(ctx: RewriteContext, name: string): { nodes: NodeRef[]; graphOutput: boolean } {
  const nodes: NodeRef[] = [];
  let graphOutput = false;
  for (const { graph, path } of allGraphs(ctx.model.graph)) {
    if (graph.output.some((o) => o.name === name)) graphOutput = true;
    for (const node of graph.node) if (node.input.includes(name)) nodes.push({ node, graph, graphPath: path });
  }
  return { nodes, graphOutput };
}

/** Clip's bounds (inputs from opset 11, attributes before); undefined when they are not constants. */
function clipBounds(ctx: RewriteContext, ref: NodeRef): [number, number] | undefined {
  const node = ref.node;
  if (node.opType === 'Relu') return [0, Infinity];
  const bound = (index: number, attr: string, fallback: number): number | undefined => {
    const name = node.input[index];
    if (name) {
      const c = ctx.scope.floatConstant(name, ref.graph);
      return c && c.values.length === 1 ? c.values[0] : undefined;
    }
    const a = getAttribute(node, attr);
    return typeof a === 'number' ? a : fallback;
  };
  const lo = bound(1, 'min', -Infinity);
  const hi = bound(2, 'max', Infinity);
  return lo === undefined || hi === undefined ? undefined : [lo, hi];
}

/** The Relu/Clip that alone reads `output` of a node in `graph`, whatever its bounds. */
export function soleClampingReader(ctx: RewriteContext, graph: GraphProto, output: string): NodeRef | undefined {
  const { nodes, graphOutput } = readersOf(ctx, output);
  if (graphOutput || nodes.length !== 1) return undefined;
  const [reader] = nodes;
  const isDefault = reader.node.domain === '' || reader.node.domain === 'ai.onnx';
  if (reader.graph !== graph || !isDefault || !FOLDED_ACTIVATIONS.includes(reader.node.opType)) return undefined;
  return reader.node.input[0] === output ? reader : undefined;
}

/**
 * The Relu/Clip after `ref` that quantizing `ref`'s output with the activation's own range makes
 * redundant: the integer range then spans no more than the clamp allows, so QuantizeLinear's
 * saturation clamps exactly where the activation did (what QLinearConv + Relu fusion relies on).
 */
function foldableActivation(ctx: RewriteContext, ref: NodeRef): NodeRef | undefined {
  if (ctx.options.symmetricActivations) return undefined;
  const reader = soleClampingReader(ctx, ref.graph, ref.node.output[0]);
  if (!reader || !hasRange(ctx, reader.node.output[0])) return undefined;
  // Inside If/Loop bodies a folded Conv -> Q -> DQ -> Conv makes onnxruntime 1.30 abort in its basic
  // graph optimizations (silero VAD): clamps there stay as they are.
  if (ref.graphPath !== 'main') return undefined;
  const bounds = clipBounds(ctx, reader);
  if (!bounds) return undefined;
  const { scale, zeroPoint } = activationParams(ctx, reader.node.output[0]);
  const q = quantRange(ctx.options.activationType);
  const [lo, hi] = [(q.qmin - zeroPoint) * scale, (q.qmax - zeroPoint) * scale];
  const slack = scale / 2;
  return lo >= bounds[0] - slack && hi <= bounds[1] + slack ? reader : undefined;
}

/**
 * Quantizes `ref`'s output: the node writes a fresh float value that Q -> DQ turns back into the
 * name its readers use. A Relu/Clip that alone reads it is folded in (removed, its range used).
 * Returns a note for the report ('' when nothing was folded).
 */
export function quantizeOutput(ctx: RewriteContext, ref: NodeRef, params?: ScaleZeroPoint): string {
  const node = ref.node;
  const output = node.output[0];
  const folded = params ? undefined : foldableActivation(ctx, ref);
  const target = folded ? folded.node.output[0] : output;
  const targetParams = params ?? activationParams(ctx, target);
  const floatOutput = ctx.scope.fresh(`${output}_float`);
  node.output[0] = floatOutput;
  if (folded) folded.graph.node.splice(folded.graph.node.indexOf(folded.node), 1);
  ref.graph.node.push(...qdqPair(ctx, ref.graph, floatOutput, target, targetParams, `${node.name || output}_output`));
  ctx.quantizedValues.set(target, targetParams);
  return folded ? `, ${folded.node.opType} folded into the output range` : '';
}
