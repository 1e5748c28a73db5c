// Reverse-mode differentiation of an ONNX graph. Values depending on the differentiated ones are found
// forward, values the loss depends on backward; every node on both is differentiated by its rule, last
// node first, gradients of values read by several nodes summed. Values no gradient needs (shapes,
// masks, indices) are carried as they are.
import { getAttribute } from '../onnx/attributes';
import type { NodeProto, TensorProto } from '../onnx/gen/onnx_pb';
import type { Model } from '../onnx/model';
import { decodeTensor } from '../onnx/tensor';
import { nodeDependencies, sortNodes } from '../onnx/topo';
import type { FloatType, GraphWriter } from './graph-writer';
import type { ValueShapes } from './probe';
import type { GradientContext, GradientRule } from './rules/rule';
import { ruleFor } from './rules/table';

export interface UnsupportedNode {
  node: string;
  op: string;
  reason: string;
}

/** Nodes the loss's gradient would pass through but that cannot be differentiated, listed by name. */
export class GradientError extends Error {
  constructor(message: string, readonly unsupported: UnsupportedNode[] = []) {
    super(message);
    this.name = 'GradientError';
  }
}

const isFloat = (shapes: ValueShapes, name: string): boolean => {
  const dtype = shapes.get(name)?.dtype;
  return dtype === 'float32' || dtype === 'float64';
};

function differentiableInputs(rule: GradientRule | undefined, node: NodeProto): string[] {
  if (!rule) return nodeDependencies(node);
  return node.input.filter((name, i) => name !== '' && (rule.inputs === 'all' || rule.inputs.includes(i)));
}

interface Plan {
  /** Values with a gradient path from a differentiated value. */
  requires: Set<string>;
  /** Nodes to differentiate, in forward order. */
  active: NodeProto[];
  unsupported: UnsupportedNode[];
}

function plan(model: Model, loss: string, wrt: readonly string[], shapes: ValueShapes): Plan {
  const graph = model.graph;
  const { order, cycle } = sortNodes(graph);
  if (cycle) throw new GradientError(`nodes form a cycle: ${cycle.join(' -> ')}`);
  const nodes = order.map((i) => graph.node[i]);
  const requires = new Set(wrt);
  const touched = new Set<NodeProto>();
  for (const node of nodes) {
    const rule = ruleFor(node.opType, node.domain);
    if (!differentiableInputs(rule, node).some((name) => requires.has(name))) continue;
    touched.add(node);
    for (const out of node.output) if (out !== '' && isFloat(shapes, out)) requires.add(out);
  }
  if (!requires.has(loss)) throw new GradientError(`the loss "${loss}" does not depend on any trainable value`);
  const toLoss = new Set([loss]);
  const active: NodeProto[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!touched.has(node) || !node.output.some((o) => toLoss.has(o))) continue;
    active.push(node);
    for (const name of nodeDependencies(node)) if (requires.has(name)) toLoss.add(name);
  }
  active.reverse();
  const dims = (name: string): number[] => shapes.get(name)?.dims ?? [];
  const ints = (name: string): number[] | undefined => shapes.get(name)?.ints;
  const unsupported: UnsupportedNode[] = [];
  for (const node of active) {
    const rule = ruleFor(node.opType, node.domain);
    const reason = rule ? rule.unsupported?.(node, dims, ints) : `no gradient rule for ${node.domain ? `${node.domain}.` : ''}${node.opType}`;
    if (reason) unsupported.push({ node: node.name || node.output[0], op: node.opType, reason });
  }
  return { requires, active, unsupported };
}

/** Nodes between `wrt` and `loss` that have no gradient rule (or an unsupported form), found before any run. */
export function findUnsupported(model: Model, loss: string, wrt: readonly string[], shapes: ValueShapes): UnsupportedNode[] {
  return plan(model, loss, wrt, shapes).unsupported;
}

/** Float values of constant tensors (initializers and Constant nodes), for rules that read them. */
function constantFloats(model: Model): (name: string) => number[] | undefined {
  const tensors = new Map<string, TensorProto>(model.graph.initializer.map((t) => [t.name, t]));
  for (const node of model.graph.node) {
    const value = node.opType === 'Constant' ? getAttribute(node, 'value') : undefined;
    if (value && typeof value === 'object' && '$typeName' in value && value.$typeName === 'onnx.TensorProto') tensors.set(node.output[0], value as TensorProto);
  }
  return (name) => {
    const t = tensors.get(name);
    const data = t ? decodeTensor(t, model.externalData).data : undefined;
    return data instanceof Float32Array || data instanceof Float64Array ? Array.from(data) : undefined;
  };
}

export interface DifferentiateOptions {
  /** A scalar value of the graph. */
  loss: string;
  /** Values (inputs or initializers) to differentiate the loss against. */
  wrt: readonly string[];
  shapes: ValueShapes;
}

/**
 * Appends the backward pass to the model's graph through `w`; returns the gradient value of each
 * `wrt` value the loss depends on. Throws GradientError naming every node that cannot be differentiated.
 */
export function differentiate(model: Model, w: GraphWriter, options: DifferentiateOptions): Map<string, string> {
  const { loss, wrt, shapes } = options;
  const { requires, active, unsupported } = plan(model, loss, wrt, shapes);
  if (unsupported.length) {
    const list = unsupported.map((u) => `${u.node} (${u.reason})`).join(', ');
    throw new GradientError(`cannot differentiate ${unsupported.length} node(s): ${list}`, unsupported);
  }
  const lossShape = shapes.get(loss);
  if (!lossShape || lossShape.dims.reduce((a, b) => a * b, 1) !== 1) throw new GradientError(`the loss "${loss}" is not a single value`);
  const contributions = new Map<string, string[]>([[loss, [w.constant(
    lossShape.dtype === 'float64' ? Float64Array.of(1) : Float32Array.of(1), lossShape.dims, lossShape.dtype)]]]);
  const summed = new Map<string, string>();
  const gradientOf = (name: string): string | undefined => {
    const known = summed.get(name);
    if (known !== undefined) return known;
    const parts = contributions.get(name);
    if (!parts) return undefined;
    const total = parts.length === 1 ? parts[0] : w.op('Sum', parts);
    summed.set(name, total);
    return total;
  };
  const floats = constantFloats(model);
  for (let n = active.length - 1; n >= 0; n--) {
    const node = active[n];
    const rule = ruleFor(node.opType, node.domain) as GradientRule;
    const dOutputs = node.output.map((o) => (o === '' ? undefined : gradientOf(o)));
    if (dOutputs.every((d) => d === undefined)) continue;
    const allowed = (i: number): boolean => rule.inputs === 'all' || rule.inputs.includes(i);
    const ctx: GradientContext = {
      node,
      w,
      dtype: shapes.get(node.output[0])?.dtype as FloatType,
      dOutput: (i) => dOutputs[i],
      needs: (i) => allowed(i) && (node.input[i] ?? '') !== '' && requires.has(node.input[i]),
      dims: (name) => {
        const shape = shapes.get(name);
        if (!shape) throw new GradientError(`no shape known for "${name}" (read by ${node.opType} "${node.name}")`);
        return shape.dims;
      },
      dtypeOf: (name) => shapes.get(name)?.dtype ?? 'float32',
      ints: (name) => shapes.get(name)?.ints,
      floats,
      forwardOutput: (i) => {
        while (node.output.length <= i) node.output.push('');
        if (node.output[i] === '') node.output[i] = w.fresh(`${node.name || node.opType}_saved${i}`);
        return node.output[i];
      },
      scalar: (value) => w.scalar(value, ctx.dtype),
    };
    const grads = rule.grad(ctx);
    node.input.forEach((name, i) => {
      const g = grads[i];
      if (g === undefined || !ctx.needs(i)) return;
      const list = contributions.get(name);
      if (list) list.push(g);
      else contributions.set(name, [g]);
    });
  }
  const result = new Map<string, string>();
  for (const name of wrt) {
    const g = gradientOf(name);
    if (g !== undefined) result.set(name, g);
  }
  return result;
}
