// Hard-swish as exporters spell it out, x * Clip(x + 3, 0, 6) / 6 (paddle2onnx, older torch, TF),
// rewritten as Mul(x, HardSigmoid(x)) with alpha 1/6, beta 0.5: the same values, two ops instead of
// four, and one Mul whose operands static mode can quantize (QLinearMul) with no Div in between.
import { attr, makeNode } from '../../onnx/attributes';
import type { GraphProto, NodeProto } from '../../onnx/gen/onnx_pb';
import { getAttribute } from '../../onnx/attributes';
import type { Model } from '../../onnx/model';
import type { GraphScope } from '../graph-scope';

const isDefault = (n: NodeProto) => n.domain === '' || n.domain === 'ai.onnx';

/** The scalar a float constant input holds, or undefined. */
function scalar(scope: GraphScope, graph: GraphProto, name: string | undefined): number | undefined {
  if (!name) return undefined;
  const c = scope.floatConstant(name, graph);
  return c && c.values.length === 1 ? c.values[0] : undefined;
}

function clipBounds(scope: GraphScope, graph: GraphProto, clip: NodeProto): [number | undefined, number | undefined] {
  if (clip.input.length > 1 || scalar(scope, graph, clip.input[1]) !== undefined) return [scalar(scope, graph, clip.input[1]), scalar(scope, graph, clip.input[2])];
  const lo = getAttribute(clip, 'min');
  const hi = getAttribute(clip, 'max');
  return [typeof lo === 'number' ? lo : undefined, typeof hi === 'number' ? hi : undefined];
}

/** The other input of a two-input node whose input `known` is given. */
const otherInput = (n: NodeProto, known: string): string | undefined =>
  n.input.length === 2 && n.input.includes(known) ? (n.input[0] === known ? n.input[1] : n.input[0]) : undefined;

/** Rewrites every x * Clip(x + 3, 0, 6) / 6 (in either order of Mul and Div) in `model`; returns how many. */
export function rewriteHardSwishPatterns(model: Model, scope: GraphScope): number {
  let rewritten = 0;
  for (const { graph } of model.graphs()) {
    const readers = new Map<string, NodeProto[]>();
    for (const n of graph.node) for (const i of n.input) readers.set(i, [...(readers.get(i) ?? []), n]);
    const outputs = new Set(graph.output.map((o) => o.name));
    const soleReader = (name: string): NodeProto | undefined => {
      const r = readers.get(name);
      return r && r.length === 1 && !outputs.has(name) && isDefault(r[0]) ? r[0] : undefined;
    };
    const producer = new Map<string, NodeProto>();
    for (const n of graph.node) for (const o of n.output) producer.set(o, n);
    const removed = new Set<NodeProto>();
    const added: NodeProto[] = [];
    for (const clip of graph.node) {
      if (clip.opType !== 'Clip' || !isDefault(clip) || removed.has(clip)) continue;
      const [lo, hi] = clipBounds(scope, graph, clip);
      if (lo !== 0 || hi !== 6) continue;
      const add = producer.get(clip.input[0]);
      if (!add || add.opType !== 'Add' || !isDefault(add) || soleReader(add.output[0]) !== clip) continue;
      const x = add.input.find((i) => scalar(scope, graph, otherInput(add, i)) === 3);
      if (!x) continue;
      const first = soleReader(clip.output[0]);
      if (!first) continue;
      // x * clip / 6, or x * (clip / 6).
      let chain: NodeProto[] | undefined;
      if (first.opType === 'Mul' && otherInput(first, clip.output[0]) === x) {
        const div = soleReader(first.output[0]);
        if (div && div.opType === 'Div' && div.input[0] === first.output[0] && scalar(scope, graph, div.input[1]) === 6) chain = [first, div];
      } else if (first.opType === 'Div' && first.input[0] === clip.output[0] && scalar(scope, graph, first.input[1]) === 6) {
        const mul = soleReader(first.output[0]);
        if (mul && mul.opType === 'Mul' && otherInput(mul, first.output[0]) === x) chain = [first, mul];
      }
      if (!chain) continue;
      const output = chain[1].output[0];
      const gate = scope.fresh(`${output}_hard_sigmoid`);
      added.push(
        makeNode('HardSigmoid', [x], [gate], { alpha: attr.float(1 / 6), beta: attr.float(0.5) }, { name: scope.fresh(`${clip.name || output}_HardSigmoid`) }),
        makeNode('Mul', [x, gate], [output], {}, { name: scope.fresh(`${chain[1].name || output}_hard_swish`) }),
      );
      for (const n of [add, clip, ...chain]) {
        removed.add(n);
        // The 3, 0, 6 constants go once nothing else reads them.
        for (const i of n.input) {
          const c = i && i !== x ? scope.findConstant(i, graph) : undefined;
          if (c) scope.markReplaced(c);
        }
      }
      rewritten++;
    }
    if (removed.size) graph.node = [...graph.node.filter((n) => !removed.has(n)), ...added];
  }
  if (rewritten) scope.finish();
  return rewritten;
}

/** For Mul(x, HardSigmoid(x)) (a hard-swish), the HardSigmoid node; undefined for any other node. */
export function hardSwishGate(model: Model, node: NodeProto): NodeProto | undefined {
  if (node.opType !== 'Mul' || node.input.length !== 2) return undefined;
  for (const [gate, x] of [[node.input[1], node.input[0]], [node.input[0], node.input[1]]]) {
    const producer = model.producer(gate)?.node;
    if (producer && producer.opType === 'HardSigmoid' && producer.input[0] === x) return producer;
  }
  return undefined;
}

/**
 * Why a node of x * HardSigmoid(x) stays float in static mode: the whole hard-swish is one function
 * of x between the quantize pairs around it, which onnxruntime runs as DQ + float ops + Q (no slower
 * than QLinearMul over a separately quantized gate) and the native engine as one 256-entry lookup.
 * Undefined for any other node (a squeeze-excite gate's HardSigmoid reads another value).
 */
export function hardSwishPart(model: Model, node: NodeProto): string | undefined {
  const reason = 'kept in float: part of a hard-swish x * HardSigmoid(x), which runs whole between the quantize pairs around it';
  if (hardSwishGate(model, node)) return reason;
  if (node.opType !== 'HardSigmoid') return undefined;
  return model.consumers(node.output[0]).some((c) => hardSwishGate(model, c.node) === node) ? reason : undefined;
}
