// Small graph edits the conversion passes share: Cast nodes, value renames, and readers of a value.
import type { GraphProto, NodeProto } from '../onnx/gen/onnx_pb';
import { attr, getAttribute, makeNode } from '../onnx/attributes';
import type { Model } from '../onnx/model';

export function makeCast(model: Model, input: string, output: string, to: number): NodeProto {
  return makeNode('Cast', [input], [output], { to: attr.int(to) }, { name: model.uniqueName(`${output}_Cast`) });
}

export function castTarget(node: NodeProto): number | undefined {
  const to = getAttribute(node, 'to');
  return typeof to === 'number' ? to : undefined;
}

/** Insert `node` right after the node producing its input in `graph` (at the top when it has no producer there). */
export function insertAfterProducer(graph: GraphProto, node: NodeProto): void {
  const source = node.input[0];
  const at = graph.node.findIndex((n) => n.output.includes(source));
  graph.node.splice(at + 1, 0, node);
}

/** Point every node input named `from` (in every graph) at `to`. */
export function redirectReaders(graphs: readonly GraphProto[], from: string, to: string): void {
  for (const graph of graphs) {
    for (const node of graph.node) {
      node.input.forEach((name, i) => {
        if (name === from) node.input[i] = to;
      });
    }
  }
}

/** Names that some graph (main or body) declares as an output. */
export function graphOutputNames(graphs: readonly GraphProto[]): Set<string> {
  const names = new Set<string>();
  for (const graph of graphs) for (const output of graph.output) names.add(output.name);
  return names;
}

/** How many node inputs and graph outputs read each value. */
export function readerCounts(graphs: readonly GraphProto[]): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (name: string) => name !== '' && counts.set(name, (counts.get(name) ?? 0) + 1);
  for (const graph of graphs) {
    for (const node of graph.node) node.input.forEach(add);
    for (const output of graph.output) add(output.name);
  }
  return counts;
}

export function removeValueInfo(graphs: readonly GraphProto[], name: string): void {
  for (const graph of graphs) {
    const at = graph.valueInfo.findIndex((v) => v.name === name);
    if (at >= 0) graph.valueInfo.splice(at, 1);
  }
}
