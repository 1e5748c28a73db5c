// Load-time work on a model: import its graph, fold and fuse what needs no shapes, list what
// the engine cannot run, and collect the constants the steps will read.
import type { Model } from '../../onnx/model';
import { NativeEngineUnsupportedError, type UnsupportedNode } from './errors';
import { importGraph, type IrGraph } from './ir';
import type { LinearLayer } from './linear-layers';
import { opDef } from './ops';
import { fuseStatic } from './static-fusion';
import { isEngineDType, type ConstTensor } from './tensor-data';

export interface PreparedModel {
  graph: IrGraph;
  layers: LinearLayer[];
  /** Constants read by steps, in the order they are handed to the addon. */
  constants: { name: string; tensor: ConstTensor }[];
  constantIndex: Map<string, number>;
}

function unsupportedNodes(graph: IrGraph): UnsupportedNode[] {
  const found: UnsupportedNode[] = [];
  for (const node of graph.nodes) {
    if (Object.values(node.attrs).some((a) => a && typeof a === 'object' && 'subgraph' in a)) {
      found.push({ opType: node.op, domain: node.domain, node: node.name, reason: 'control flow (subgraphs) is not supported' });
    } else if (!opDef(node.domain, node.op)) {
      const reason = node.op === 'MatMulInteger'
        ? 'only in the DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul pattern with constant weights'
        : 'not supported by the native engine';
      found.push({ opType: node.op, domain: node.domain, node: node.name, reason });
    }
  }
  // Outputs may leave their type unstated (it follows from the graph); inputs may not.
  for (const v of [...graph.inputs, ...graph.outputs.filter((o) => o.dtype !== undefined)]) {
    if (!v.dtype || !isEngineDType(v.dtype)) {
      found.push({ opType: 'graph value', domain: '', node: v.name, reason: `${v.dtype ?? 'non-tensor'} values are not supported` });
    }
  }
  return found;
}

export function prepareModel(model: Model): PreparedModel {
  const graph = importGraph(model);
  const layers = fuseStatic(graph);
  const unsupported = unsupportedNodes(graph);
  if (unsupported.length > 0) throw new NativeEngineUnsupportedError(unsupported);
  const constants: PreparedModel['constants'] = [];
  const constantIndex = new Map<string, number>();
  // Compact copies of what the nodes read, so that nothing keeps the model file's buffer alive.
  const kept = new Map<string, ConstTensor>();
  for (const node of graph.nodes) {
    for (const name of node.inputs) {
      const tensor = name ? graph.constants.get(name) : undefined;
      if (!tensor || kept.has(name)) continue;
      // Only a view into a larger buffer (the file's) is copied; a tensor that owns its buffer is kept.
      const owns = tensor.data.byteOffset === 0 && tensor.data.byteLength === tensor.data.buffer.byteLength;
      const copy = owns ? tensor : { ...tensor, data: tensor.data.slice() };
      kept.set(name, copy);
      if (!isEngineDType(tensor.dtype)) continue;
      constantIndex.set(name, constants.length);
      constants.push({ name, tensor: copy });
    }
  }
  for (const output of graph.outputs) {
    const tensor = graph.constants.get(output.name);
    if (tensor && !kept.has(output.name)) kept.set(output.name, { ...tensor, data: tensor.data.slice() });
  }
  graph.constants = kept;
  return { graph, layers, constants, constantIndex };
}
