// Which nodes a run quantizes: op types, an explicit node list, exclusions, and optionally the first
// and last quantizable nodes kept in float. Every node of a selected op type ends up in the report,
// quantized or skipped with its reason.
import type { NodeProto } from '../onnx/gen/onnx_pb';
import type { Model, NodeRef } from '../onnx/model';

export interface NodeOutcome {
  /** Node name, or its first output when unnamed. */
  node: string;
  opType: string;
  /** "main", or the path of the If/Loop body that holds the node. */
  graph: string;
  /** What was done (quantized) or why not (skipped). */
  detail: string;
}

export interface Selection {
  candidates: NodeRef[];
  skipped: NodeOutcome[];
}

export interface SelectionOptions {
  opTypes: string[];
  nodes?: string[];
  exclude?: string[];
  keepFirst?: boolean;
  keepLast?: boolean;
}

const LAYER_OPS = ['Conv', 'MatMul', 'Gemm', 'Gather'];

export const labelOf = (node: NodeProto): string => node.name || node.output[0] || node.opType;

export function outcome(ref: NodeRef, detail: string): NodeOutcome {
  return { node: labelOf(ref.node), opType: ref.node.opType, graph: ref.graphPath, detail };
}

const isDefaultDomain = (node: NodeProto) => node.domain === '' || node.domain === 'ai.onnx';

function matches(node: NodeProto, names: ReadonlySet<string>): boolean {
  return (node.name !== '' && names.has(node.name)) || (node.output[0] !== undefined && names.has(node.output[0]));
}

function checkNamesExist(model: Model, names: readonly string[] | undefined, option: string): void {
  if (!names?.length) return;
  const known = new Set<string>();
  for (const { node } of model.nodes()) {
    if (node.name) known.add(node.name);
    if (node.output[0]) known.add(node.output[0]);
  }
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) throw new RangeError(`${option}: no node named ${unknown.map((n) => `"${n}"`).join(', ')}`);
}

/**
 * Splits the model's nodes of the selected op types into candidates and skipped ones.
 * `reasonNotQuantizable` answers, per node, why the rewrite cannot apply (undefined: it can), so
 * keepFirst/keepLast pick the first and last nodes that would really be quantized.
 */
export function selectNodes(model: Model, options: SelectionOptions,
  reasonNotQuantizable: (ref: NodeRef) => string | undefined): Selection {
  checkNamesExist(model, options.nodes, 'nodes');
  checkNamesExist(model, options.exclude, 'exclude');
  const only = options.nodes?.length ? new Set(options.nodes) : undefined;
  const exclude = new Set(options.exclude ?? []);
  const ops = new Set(options.opTypes);
  const skipped: NodeOutcome[] = [];
  let candidates: NodeRef[] = [];
  for (const ref of model.nodes()) {
    if (!ops.has(ref.node.opType) || !isDefaultDomain(ref.node)) continue;
    if (only && !matches(ref.node, only)) skipped.push(outcome(ref, 'not among the requested nodes'));
    else if (matches(ref.node, exclude)) skipped.push(outcome(ref, 'excluded'));
    else {
      const reason = reasonNotQuantizable(ref);
      if (reason) skipped.push(outcome(ref, reason));
      else candidates.push(ref);
    }
  }
  if (options.keepFirst || options.keepLast) {
    // Layers are the ops with weights: an Add or Reshape before the first Conv is no "first layer".
    const { first, last } = layerEnds(model, candidates.filter((c) => LAYER_OPS.includes(c.node.opType)));
    const keep = (ref: NodeRef): string | undefined =>
      options.keepFirst && first.has(ref.node) ? 'kept in float (first layer)'
        : options.keepLast && last.has(ref.node) ? 'kept in float (last layer)' : undefined;
    const kept = candidates.filter((ref) => keep(ref));
    for (const ref of kept) skipped.push(outcome(ref, keep(ref) as string));
    candidates = candidates.filter((ref) => !keep(ref));
  }
  return { candidates, skipped };
}

/** Every node `node` depends on: producers of its inputs, transitively, into and out of bodies. */
function ancestors(model: Model, node: NodeProto): Set<NodeProto> {
  const seen = new Set<NodeProto>();
  const pending = [...node.input];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (!name) continue;
    const producer = model.producer(name)?.node;
    if (!producer || seen.has(producer)) continue;
    seen.add(producer);
    pending.push(...producer.input);
    // Outputs of an If/Loop come from its bodies' outputs.
    for (const a of producer.attribute) for (const g of a.g ? [a.g] : a.graphs) pending.push(...g.output.map((o) => o.name));
  }
  return seen;
}

/**
 * The first layer: candidates no other candidate feeds (q, k and v projections together; each If
 * branch's first conv). The last layer: candidates that feed no other candidate.
 */
function layerEnds(model: Model, candidates: NodeRef[]): { first: Set<NodeProto>; last: Set<NodeProto> } {
  const nodes = new Set(candidates.map((c) => c.node));
  const first = new Set<NodeProto>();
  const feeding = new Set<NodeProto>();
  for (const c of candidates) {
    const upstream = [...ancestors(model, c.node)].filter((n) => nodes.has(n) && n !== c.node);
    if (upstream.length === 0) first.add(c.node);
    for (const n of upstream) feeding.add(n);
  }
  return { first, last: new Set(candidates.map((c) => c.node).filter((n) => !feeding.has(n))) };
}
