// onnxruntime's optimizer can write subgraph initializers under names already used by another graph of
// the model (it copies constants into both If branches), and with external data even twice in one graph.
// onnxruntime then warns on every load, or refuses the model outright. Dropping in-graph repeats (it
// uses the last one) and renaming cross-graph repeats scope by scope gives an equivalent, clean model.
import type { GraphProto } from '../onnx/gen/onnx_pb';
import type { Model } from '../onnx/model';
import { subgraphsOf } from '../onnx/proto-walk';

/** Rename `from` to `to` in `graph` and the bodies below it, except in bodies that define `from` again. */
function renameInScope(graph: GraphProto, from: string, to: string): void {
  for (const t of graph.initializer) if (t.name === from) t.name = to;
  for (const vi of [...graph.input, ...graph.output, ...graph.valueInfo]) if (vi.name === from) vi.name = to;
  for (const node of graph.node) {
    node.input.forEach((name, i) => name === from && (node.input[i] = to));
    for (const sub of subgraphsOf(node)) {
      if (!sub.graph.initializer.some((t) => t.name === from)) renameInScope(sub.graph, from, to);
    }
  }
}

/** Keep the last of same-named initializers in a graph, as onnxruntime does. */
function dropRepeats(graph: GraphProto): number {
  const last = new Map(graph.initializer.map((t, i) => [t.name, i]));
  const before = graph.initializer.length;
  graph.initializer = graph.initializer.filter((t, i) => last.get(t.name) === i);
  return before - graph.initializer.length;
}

/** Give every initializer a model-wide unique name; returns how many were dropped or renamed. */
export function uniquifyInitializerNames(model: Model): number {
  const seen = new Set<string>();
  let renamed = 0;
  for (const { graph } of model.graphs()) {
    renamed += dropRepeats(graph);
    for (const t of [...graph.initializer]) {
      if (!seen.has(t.name)) {
        seen.add(t.name);
        continue;
      }
      const fresh = model.uniqueName(t.name);
      renameInScope(graph, t.name, fresh);
      seen.add(fresh);
      renamed++;
    }
  }
  model.invalidate();
  return renamed;
}
