// Dependency order of a graph's nodes. Subgraph bodies count: a node depends on every outer value its
// If/Loop/Scan bodies read, so it is ordered after their producers.
import type { GraphProto, NodeProto } from './gen/onnx_pb';
import { nodeLabel, subgraphsOf } from './proto-walk';

/** Names a graph makes available to its nodes: inputs, initializers, sparse initializers, node outputs. */
export function definedNames(graph: GraphProto): Set<string> {
  const names = new Set<string>();
  for (const input of graph.input) names.add(input.name);
  for (const init of graph.initializer) names.add(init.name);
  for (const sparse of graph.sparseInitializer) if (sparse.values) names.add(sparse.values.name);
  for (const node of graph.node) for (const out of node.output) if (out !== '') names.add(out);
  return names;
}

/** Names a graph reads from enclosing scopes (its outer-scope references), including nested bodies. */
export function outerReferences(graph: GraphProto): Set<string> {
  const defined = definedNames(graph);
  const free = new Set<string>();
  const use = (name: string): void => {
    if (name !== '' && !defined.has(name)) free.add(name);
  };
  for (const node of graph.node) for (const name of nodeDependencies(node)) use(name);
  for (const output of graph.output) use(output.name);
  return free;
}

/** Explicit inputs of a node plus the outer values its subgraphs read. */
export function nodeDependencies(node: NodeProto): string[] {
  const subgraphs = subgraphsOf(node);
  if (subgraphs.length === 0) return node.input.filter((name) => name !== '');
  const names = new Set(node.input.filter((name) => name !== ''));
  for (const sub of subgraphs) for (const name of outerReferences(sub.graph)) names.add(name);
  return [...names];
}

export interface NodeOrder {
  /** Node indices in dependency order; nodes already in order keep their order. */
  order: number[];
  /** Labels of nodes forming a cycle, when there is one (then `order` is partial). */
  cycle?: string[];
}

/** Depth-first topological sort that keeps the file order wherever it is already valid. */
export function sortNodes(graph: GraphProto): NodeOrder {
  const nodes = graph.node;
  const producer = new Map<string, number>();
  nodes.forEach((node, i) => node.output.forEach((out) => out !== '' && !producer.has(out) && producer.set(out, i)));
  const deps = (i: number): number[] => {
    const out: number[] = [];
    for (const name of nodeDependencies(nodes[i])) {
      const j = producer.get(name);
      if (j !== undefined) out.push(j);
    }
    return out;
  };
  const WHITE = 0, GRAY = 1, BLACK = 2;
  const state = new Uint8Array(nodes.length);
  const order: number[] = [];
  for (let root = 0; root < nodes.length; root++) {
    if (state[root] !== WHITE) continue;
    const stack: { node: number; deps: number[]; next: number }[] = [{ node: root, deps: deps(root), next: 0 }];
    state[root] = GRAY;
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.next < top.deps.length) {
        const j = top.deps[top.next++];
        if (state[j] === WHITE) {
          state[j] = GRAY;
          stack.push({ node: j, deps: deps(j), next: 0 });
        } else if (state[j] === GRAY) {
          const from = stack.findIndex((frame) => frame.node === j);
          const cycle = stack.slice(from).map((frame) => nodeLabel(nodes[frame.node], frame.node));
          return { order, cycle: [...cycle, cycle[0]] };
        }
      } else {
        state[top.node] = BLACK;
        order.push(top.node);
        stack.pop();
      }
    }
  }
  return { order };
}
