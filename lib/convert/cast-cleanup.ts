// Removes Casts that change nothing: a Cast to the type its input already has, the second half of a
// lossless round trip (float16 -> float32 -> float16), a second Cast of the same value to the same type
// in the same graph, and Casts whose output nobody reads. A Cast whose output is a graph output stays,
// since that output's name is part of the graph's interface.
import type { GraphProto, NodeProto } from '../onnx/gen/onnx_pb';
import { DataType } from '../onnx/dtype';
import type { Model } from '../onnx/model';
import { inferElemTypes } from './elem-types';
import { castTarget, graphOutputNames, readerCounts, redirectReaders, removeValueInfo } from './graph-edits';

// from -> types that hold every value of `from` exactly.
const EXACT_WIDENING: Record<number, readonly number[]> = {
  [DataType.FLOAT16]: [DataType.FLOAT, DataType.DOUBLE],
  [DataType.BFLOAT16]: [DataType.FLOAT, DataType.DOUBLE],
  [DataType.FLOAT]: [DataType.DOUBLE],
};

function isExactWidening(from: number | undefined, to: number | undefined): boolean {
  return from !== undefined && to !== undefined && (EXACT_WIDENING[from]?.includes(to) ?? false);
}

interface CastSite {
  node: NodeProto;
  graph: GraphProto;
}

/** Remove redundant Casts in place; returns the removed nodes. */
export function removeRedundantCasts(model: Model): NodeProto[] {
  const removed: NodeProto[] = [];
  const graphs = model.graphs().map((g) => g.graph);
  const remove = (site: CastSite, redirectTo?: string): void => {
    if (redirectTo !== undefined) redirectReaders(graphs, site.node.output[0], redirectTo);
    removeValueInfo(graphs, site.node.output[0]);
    site.graph.node.splice(site.graph.node.indexOf(site.node), 1);
    removed.push(site.node);
  };

  for (let changed = true; changed;) {
    changed = false;
    const types = inferElemTypes(model);
    const outputs = graphOutputNames(graphs);
    const casts = new Map<string, CastSite>();
    for (const graph of graphs) for (const node of graph.node) if (node.opType === 'Cast') casts.set(node.output[0], { node, graph });

    const seen = new Map<GraphProto, Map<string, string>>();
    for (const site of casts.values()) {
      const { node, graph } = site;
      const [input, output] = [node.input[0], node.output[0]];
      const to = castTarget(node);
      if (outputs.has(output) || to === undefined) continue;
      if (types.get(input) === to) {
        remove(site, input);
        changed = true;
        continue;
      }
      const inner = casts.get(input);
      const source = inner?.node.input[0];
      if (inner && source !== undefined && types.get(source) === to && isExactWidening(to, castTarget(inner.node))) {
        remove(site, source);
        changed = true;
        continue;
      }
      const key = `${input}\0${to}`;
      const inGraph = seen.get(graph) ?? new Map<string, string>();
      seen.set(graph, inGraph);
      const twin = inGraph.get(key);
      if (twin !== undefined) {
        remove(site, twin);
        changed = true;
      } else {
        inGraph.set(key, output);
      }
    }
    if (changed) continue;

    const readers = readerCounts(graphs);
    for (const site of casts.values()) {
      if (!readers.has(site.node.output[0])) {
        remove(site);
        changed = true;
      }
    }
  }
  model.invalidate();
  return removed;
}
