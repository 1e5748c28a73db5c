// One shape signature: every value's type and static shape, the shape arithmetic folded
// away, and the nodes left to run (the ones the graph outputs need).
import { elementCount } from '../../onnx/tensor';
import { LoweringError } from './errors';
import type { IrGraph, IrNode } from './ir';
import { opDef } from './ops';
import type { OutputType, Shaped } from './ops/types';

export interface RunNode {
  node: IrNode;
  shaped: (Shaped | undefined)[];
  outputs: OutputType[];
}

export interface Specialized {
  nodes: RunNode[];
  values: Map<string, Shaped>;
}

// Folding in JavaScript is for shapes and small tensors; large constant results stay runtime steps.
const FOLD_LIMIT = 1 << 16;

export function specialize(graph: IrGraph, inputs: ReadonlyMap<string, { dtype: Shaped['dtype']; dims: number[] }>): Specialized {
  const values = new Map<string, Shaped>();
  for (const [name, c] of graph.constants) values.set(name, { dtype: c.dtype, dims: c.dims, value: c, name });
  for (const [name, v] of inputs) values.set(name, { dtype: v.dtype, dims: v.dims });
  const nodes: RunNode[] = [];
  for (const node of graph.nodes) {
    const def = opDef(node.domain, node.op);
    if (!def) throw new LoweringError(node.name, node.op, 'not supported by the native engine');
    const shaped = node.inputs.map((name) => {
      if (!name) return undefined;
      const v = values.get(name);
      if (!v) throw new LoweringError(node.name, node.op, `input "${name}" has no value`);
      return v;
    });
    for (const i of def.constInputs ?? []) {
      if (shaped[i] && !shaped[i]!.value) {
        throw new LoweringError(node.name, node.op, `input ${i} must follow from the input shapes, but depends on input data`);
      }
    }
    const outputs = def.infer(node, shaped, graph.opset);
    const foldable = def.fold && (def.foldable ? def.foldable(shaped) : shaped.every((s, i) => !node.inputs[i] || s?.value !== undefined));
    if (foldable && outputs.every((o) => elementCount(o.dims) <= FOLD_LIMIT)) {
      const folded = def.fold!(node, shaped, graph.opset);
      node.outputs.forEach((o, i) => { if (o) values.set(o, { dtype: folded[i].dtype, dims: folded[i].dims, value: folded[i] }); });
      continue;
    }
    node.outputs.forEach((o, i) => { if (o && outputs[i]) values.set(o, { dtype: outputs[i].dtype, dims: outputs[i].dims }); });
    nodes.push({ node, shaped, outputs });
  }
  // Only what the outputs need runs.
  const needed = new Set(graph.outputs.map((o) => o.name));
  const live: RunNode[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    if (!nodes[i].node.outputs.some((o) => o && needed.has(o))) continue;
    live.push(nodes[i]);
    for (const input of nodes[i].node.inputs) if (input) needed.add(input);
  }
  return { nodes: live.reverse(), values };
}
