// Raises a model's default-domain opset to a target (at most 13) and rewrites the nodes whose
// signature changed on the way (attributes that became inputs, renamed or deprecated ops), so the
// quantization ops can be added without changing what the model computes. Ops whose change cannot be
// expressed are refused with the op named, rather than silently bumping the version number.
import type { GraphProto, NodeProto } from '../onnx/gen/onnx_pb';
import { getAttribute, makeNode } from '../onnx/attributes';
import type { Model } from '../onnx/model';
import { allGraphs } from '../onnx/proto-walk';
import { knownShapes } from '../inspect/shapes';
import type { GraphScope } from './graph-scope';

export const MAX_UPGRADE_TARGET = 13;
const MIN_UPGRADE_SOURCE = 7;
const FLOAT_MAX = 3.4028234663852886e38;

export class OpsetUpgradeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpsetUpgradeError';
  }
}

export interface OpsetUpgrade {
  from: number;
  to: number;
  /** Nodes rewritten per op type, e.g. { Clip: 12, Slice: 3 }. */
  converted: Record<string, number>;
}

interface Context {
  model: Model;
  scope: GraphScope;
  graph: GraphProto;
  /** Ranks of main-graph values where known. */
  ranks: Map<string, number>;
}

type Adapter = (node: NodeProto, ctx: Context) => NodeProto[] | undefined;

function removeAttribute(node: NodeProto, name: string): void {
  node.attribute = node.attribute.filter((a) => a.name !== name);
}

function intsInput(ctx: Context, node: NodeProto, prefix: string, values: number[]): string {
  return ctx.scope.addInitializer(ctx.graph, `${node.name || node.opType}_${prefix}`, BigInt64Array.from(values, BigInt), [values.length]);
}

/** Moves an ints attribute into input `index` (padding skipped optional inputs with ''). */
function attributeToInput(node: NodeProto, ctx: Context, name: string, index: number): void {
  const value = getAttribute(node, name) as number[] | undefined;
  if (value === undefined) return;
  removeAttribute(node, name);
  while (node.input.length < index) node.input.push('');
  node.input[index] = intsInput(ctx, node, name, value);
}

const clip11: Adapter = (node, ctx) => {
  const min = getAttribute(node, 'min') as number | undefined;
  const max = getAttribute(node, 'max') as number | undefined;
  removeAttribute(node, 'min');
  removeAttribute(node, 'max');
  const scalar = (prefix: string, v: number) => ctx.scope.addInitializer(ctx.graph, `${node.name || 'Clip'}_${prefix}`, Float32Array.of(v), []);
  if (min !== undefined || max !== undefined) node.input[1] = scalar('min', min ?? -FLOAT_MAX);
  if (max !== undefined) node.input[2] = scalar('max', max);
  return undefined;
};

const slice10: Adapter = (node, ctx) => {
  const starts = getAttribute(node, 'starts') as number[];
  const ends = getAttribute(node, 'ends') as number[];
  const axes = getAttribute(node, 'axes') as number[] | undefined;
  for (const a of ['starts', 'ends', 'axes']) removeAttribute(node, a);
  node.input.push(intsInput(ctx, node, 'starts', starts), intsInput(ctx, node, 'ends', ends));
  if (axes) node.input.push(intsInput(ctx, node, 'axes', axes));
  return undefined;
};

const pad11: Adapter = (node, ctx) => {
  const pads = getAttribute(node, 'pads') as number[];
  const value = getAttribute(node, 'value') as number | undefined;
  removeAttribute(node, 'pads');
  removeAttribute(node, 'value');
  node.input.push(intsInput(ctx, node, 'pads', pads));
  if (value !== undefined && value !== 0) node.input.push(ctx.scope.addInitializer(ctx.graph, `${node.name || 'Pad'}_value`, Float32Array.of(value), []));
  return undefined;
};

const topk10: Adapter = (node, ctx) => {
  const k = getAttribute(node, 'k') as number;
  removeAttribute(node, 'k');
  node.input.push(intsInput(ctx, node, 'k', [k]));
  return undefined;
};

const dropout12: Adapter = (node, ctx) => {
  const ratio = getAttribute(node, 'ratio') as number | undefined;
  removeAttribute(node, 'ratio');
  if (ratio !== undefined) node.input[1] = ctx.scope.addInitializer(ctx.graph, `${node.name || 'Dropout'}_ratio`, Float32Array.of(ratio), []);
  return undefined;
};

const batchNorm9: Adapter = (node) => {
  const spatial = getAttribute(node, 'spatial') as number | undefined;
  if (spatial === 0) throw new OpsetUpgradeError(`BatchNormalization "${node.name}" uses spatial=0, which opset 9 removed`);
  removeAttribute(node, 'spatial');
  return undefined;
};

const upsampleToResize10: Adapter = (node, ctx) => {
  const scales = getAttribute(node, 'scales') as number[] | undefined;
  removeAttribute(node, 'scales');
  node.opType = 'Resize';
  if (scales) node.input[1] = ctx.scope.addInitializer(ctx.graph, `${node.name || 'Upsample'}_scales`, Float32Array.from(scales), [scales.length]);
  return undefined;
};

// Resize-10 scales from the corner (asymmetric) and picks the nearest pixel by flooring.
const resize11: Adapter = (node) => {
  const scales = node.input[1];
  node.input.splice(1, 1, '', scales);
  node.attribute.push(...makeNode('Resize', [], [], { coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }).attribute);
  return undefined;
};

const scatter11: Adapter = (node) => {
  node.opType = 'ScatterElements';
  return undefined;
};

const axesToInput13: Adapter = (node, ctx) => {
  attributeToInput(node, ctx, 'axes', 1);
  return undefined;
};

const split13: Adapter = (node, ctx) => {
  attributeToInput(node, ctx, 'split', 1);
  return undefined;
};

// Before 13, Softmax & co. flattened the input to 2-D at `axis` (default 1); from 13 they work on one
// axis (default -1). Same result when axis is the last one; otherwise flatten, apply, reshape back.
const softmax13: Adapter = (node, ctx) => {
  const given = getAttribute(node, 'axis') as number | undefined;
  const axis = given ?? 1;
  const rank = ctx.ranks.get(node.input[0]);
  if (axis === -1 || (rank !== undefined && (axis === rank - 1 || axis === -1))) {
    removeAttribute(node, 'axis');
    node.attribute.push(...makeNode(node.opType, [], [], { axis: -1 }).attribute);
    return undefined;
  }
  const x = node.input[0];
  const y = node.output[0];
  const base = node.name || node.opType;
  const shape = ctx.scope.fresh(`${base}_shape`);
  const flat = ctx.scope.fresh(`${base}_2d`);
  const flatOut = ctx.scope.fresh(`${base}_2d_out`);
  return [
    makeNode('Shape', [x], [shape], {}, { name: ctx.scope.fresh(`${base}_Shape`) }),
    makeNode('Flatten', [x], [flat], { axis }, { name: ctx.scope.fresh(`${base}_Flatten`) }),
    makeNode(node.opType, [flat], [flatOut], { axis: 1 }, { name: node.name }),
    makeNode('Reshape', [flatOut, shape], [y], {}, { name: ctx.scope.fresh(`${base}_Reshape`) }),
  ];
};

interface Step {
  /** The opset version whose schema the adapter produces. */
  since: number;
  ops: string[];
  adapt: Adapter;
}

const STEPS: Step[] = [
  { since: 9, ops: ['BatchNormalization'], adapt: batchNorm9 },
  { since: 10, ops: ['Slice'], adapt: slice10 },
  { since: 10, ops: ['TopK'], adapt: topk10 },
  { since: 10, ops: ['Upsample'], adapt: upsampleToResize10 },
  { since: 11, ops: ['Clip'], adapt: clip11 },
  { since: 11, ops: ['Pad'], adapt: pad11 },
  { since: 11, ops: ['Resize'], adapt: resize11 },
  { since: 11, ops: ['Scatter'], adapt: scatter11 },
  { since: 12, ops: ['Dropout'], adapt: dropout12 },
  { since: 13, ops: ['Squeeze', 'Unsqueeze', 'ReduceSum'], adapt: axesToInput13 },
  { since: 13, ops: ['Split'], adapt: split13 },
  { since: 13, ops: ['Softmax', 'LogSoftmax', 'Hardmax'], adapt: softmax13 },
];

/** Ops removed from the default domain before 13 that no adapter rewrites. */
const REMOVED = new Set(['Crop', 'ImageScaler', 'Affine', 'ParametricSoftplus', 'ScaledTanh', 'GivenTensorFill', 'ATen']);

const isDefaultDomain = (node: NodeProto) => node.domain === '' || node.domain === 'ai.onnx';

function mainGraphRanks(model: Model): Map<string, number> {
  const ranks = new Map<string, number>();
  for (const v of [...model.graph.input, ...model.graph.valueInfo, ...model.graph.output]) {
    const info = model.valueInfo(v.name);
    if (info?.dims) ranks.set(v.name, info.dims.length);
  }
  try {
    for (const [name, dims] of knownShapes(model)) ranks.set(name, dims.length);
  } catch {
    // Shapes are a hint here; without them Softmax gets the always-correct flatten form.
  }
  return ranks;
}

/** Rewrites the model in place to default-domain opset `target`; a no-op when already there. */
export function upgradeOpset(model: Model, scope: GraphScope, target: number): OpsetUpgrade {
  const from = model.opsetVersion('') ?? 1;
  const converted: Record<string, number> = {};
  if (from >= target) return { from, to: from, converted };
  if (target > MAX_UPGRADE_TARGET) throw new OpsetUpgradeError(`cannot raise opset beyond ${MAX_UPGRADE_TARGET} (asked ${target})`);
  if (from < MIN_UPGRADE_SOURCE) {
    throw new OpsetUpgradeError(`the model uses opset ${from}; quantization needs ${target}, and models older than opset ${MIN_UPGRADE_SOURCE} are not converted (re-export with a newer opset)`);
  }
  const ranks = mainGraphRanks(model);
  for (const { graph } of allGraphs(model.graph)) {
    const ctx: Context = { model, scope, graph, ranks };
    const nodes: NodeProto[] = [];
    for (const node of graph.node) {
      let replacement: NodeProto[] = [node];
      if (isDefaultDomain(node)) {
        if (REMOVED.has(node.opType)) throw new OpsetUpgradeError(`node "${node.name}" uses ${node.opType}, which newer opsets removed; cannot raise the opset from ${from} to ${target}`);
        const opType = node.opType;
        let touched = false;
        for (const step of STEPS) {
          if (step.since <= from || step.since > target || !step.ops.includes(node.opType)) continue;
          touched = true;
          const out = step.adapt(node, ctx);
          // Adapters that return nodes (Softmax's flatten form) are the last step an op goes through.
          if (out) {
            replacement = out;
            break;
          }
        }
        if (touched) converted[opType] = (converted[opType] ?? 0) + 1;
      }
      nodes.push(...replacement);
    }
    graph.node = nodes;
  }
  model.setOpset('', target);
  model.invalidate();
  return { from, to: target, converted };
}
