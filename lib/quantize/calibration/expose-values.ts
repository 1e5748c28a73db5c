// Makes intermediate values readable as model outputs, so one onnxruntime run returns everything
// calibration needs. Values inside If branches and Loop bodies are passed out through new outputs of
// the If/Loop node: the other If branch outputs an empty tensor, a Loop stacks one value per iteration.
import type { GraphProto } from '../../onnx/gen/onnx_pb';
import { makeNode } from '../../onnx/attributes';
import type { Model } from '../../onnx/model';
import { allGraphs, type GraphRef } from '../../onnx/proto-walk';
import { makeTensor } from '../../onnx/tensor';
import { definedNames } from '../../onnx/topo';
import { makeValueInfo } from '../../onnx/value-info';

export interface ExposeResult {
  /** Value name -> main-graph outputs that together carry every value it takes. */
  outputs: Map<string, string[]>;
  /** Values that cannot be exposed, with the reason. */
  unreachable: Map<string, string>;
}

class Exposer {
  private readonly refs = new Map<GraphProto, GraphRef>();
  private readonly names = new Set<string>();
  readonly outputs = new Map<string, string[]>();
  readonly unreachable = new Map<string, string>();

  constructor(private readonly model: Model) {
    for (const ref of allGraphs(model.graph)) {
      this.refs.set(ref.graph, ref);
      for (const n of definedNames(ref.graph)) this.names.add(n);
      for (const node of ref.graph.node) if (node.name) this.names.add(node.name);
    }
  }

  private fresh(prefix: string): string {
    let name = prefix;
    for (let i = 1; this.names.has(name); i++) name = `${prefix}_${i}`;
    this.names.add(name);
    return name;
  }

  /** An Identity copy of `name` in `graph`, so a body never lists one value as two outputs. */
  private copyOf(name: string, graph: GraphProto): string {
    const copy = this.fresh(`${name}_exposed`);
    graph.node.push(makeNode('Identity', [name], [copy], {}, { name: this.fresh(`${copy}_Identity`) }));
    return copy;
  }

  /** The graph among `graph` and its parents that defines `name` (innermost first). */
  definingGraph(name: string, graph: GraphProto): GraphProto | undefined {
    const ref = this.refs.get(graph);
    if (!ref) return undefined;
    for (const g of [graph, ...[...ref.parents].reverse()]) if (definedNames(g).has(name)) return g;
    return undefined;
  }

  /** Exposes `name`, defined in `graph`, as main-graph outputs; returns their names (none: unreachable). */
  expose(name: string, graph: GraphProto): string[] {
    const ref = this.refs.get(graph) as GraphRef;
    if (!ref.owner) {
      if (!this.model.graph.output.some((o) => o.name === name)) this.model.graph.output.push(makeValueInfo(name, 'float32'));
      return [name];
    }
    const owner = ref.owner;
    const parent = ref.parents[ref.parents.length - 1];
    const position = graph.input.findIndex((v) => v.name === name);
    if (position >= 0) {
      // A Loop-carried value starts as the Loop's input and then takes each iteration's body output.
      if (owner.opType !== 'Loop' || position < 2 || !owner.input[position]) {
        this.unreachable.set(name, `it is an input of the ${owner.opType} body`);
        return [];
      }
      return [...this.expose(owner.input[position], this.definingGraph(owner.input[position], parent) ?? parent),
        ...this.expose(graph.output[position - 1].name, graph)];
    }
    const carried = this.fresh(`${name}_calibration`);
    if (owner.opType === 'If') {
      for (const attribute of owner.attribute) {
        const branch = attribute.g;
        if (!branch) continue;
        if (branch === graph) {
          branch.output.push(makeValueInfo(this.copyOf(name, graph), 'float32'));
        } else {
          // The other branch yields an empty float tensor: same type, nothing to measure.
          const empty = this.fresh(`${name}_not_taken`);
          branch.node.push(makeNode('Constant', [], [empty], { value: makeTensor(empty, new Float32Array(0), [0]) }, { name: this.fresh(`${empty}_Constant`) }));
          branch.output.push(makeValueInfo(empty, 'float32'));
        }
      }
      owner.output.push(carried);
    } else if (owner.opType === 'Loop') {
      // A new scan output: body outputs are (cond, carried..., scans...), so appending keeps the order.
      graph.output.push(makeValueInfo(this.copyOf(name, graph), 'float32'));
      owner.output.push(carried);
    } else {
      this.unreachable.set(name, `values inside ${owner.opType} bodies are not calibrated`);
      return [];
    }
    return this.expose(carried, parent);
  }
}

/** Adds outputs to `model` (edited in place) for each value, read by a node of the given graph. */
export function exposeValues(model: Model, values: { name: string; graph: GraphProto }[]): ExposeResult {
  const exposer = new Exposer(model);
  for (const { name, graph } of values) {
    if (exposer.outputs.has(name) || exposer.unreachable.has(name)) continue;
    const defining = exposer.definingGraph(name, graph);
    if (!defining) {
      exposer.unreachable.set(name, 'no node or input defines it');
      continue;
    }
    const outputs = exposer.expose(name, defining);
    if (outputs.length > 0) exposer.outputs.set(name, outputs);
  }
  model.invalidate();
  return { outputs: exposer.outputs, unreachable: exposer.unreachable };
}
