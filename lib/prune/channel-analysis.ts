// Finds every channel space of a model: each MatMul/Gemm/Conv with constant weights starts one at its
// output; one walk per graph in dependency order follows the channels to the layers that read them.
import { knownShapes, type ShapeTable } from '../inspect/shapes';
import { getAttribute } from '../onnx/attributes';
import type { Model, NodeRef } from '../onnx/model';
import { sortNodes } from '../onnx/topo';
import { describeValueInfo, type Dim } from '../onnx/value-info';
import { SpaceSet, type ChannelSpace } from './channel-spaces';
import { followNode, type ChannelValue } from './channel-rules';
import { isFloatType, type ConstantIndex } from './constants';
import { asWeightedLayer } from './layers';

function shapesOrEmpty(model: Model): ShapeTable {
  try {
    return knownShapes(model);
  } catch {
    return new Map();
  }
}

export function analyzeChannels(model: Model, constants: ConstantIndex): ChannelSpace[] {
  const spaces = new SpaceSet();
  // Only ranks are taken from propagated shapes: their sizes assume 1 for symbolic dims.
  const shapes = shapesOrEmpty(model);
  for (const { graph, path, parents } of model.graphs()) {
    const values = new Map<string, ChannelValue>();
    const declared = new Map<string, Dim[]>();
    for (const vi of [...graph.input, ...graph.valueInfo, ...graph.output]) {
      const dims = describeValueInfo(vi).dims;
      if (dims) declared.set(vi.name, dims);
    }
    const graphOutputs = new Set(graph.output.map((o) => o.name));
    const rankOf = (name: string): number | undefined =>
      declared.get(name)?.length ?? constants.lookup(name, graph)?.dims.length ?? (parents.length === 0 ? shapes.get(name)?.length : undefined);

    const setValue = (name: string, value: ChannelValue): void => {
      const space = spaces.get(value.space);
      if (graphOutputs.has(name)) space.failures.push(`"${name}" is a graph output`);
      else if (model.consumers(name).some((c) => c.graph !== graph)) space.failures.push(`"${name}" is read inside a subgraph`);
      values.set(name, value);
      space.values.push({ name, axis: value.axis });
    };

    const startSpace = (ref: NodeRef): void => {
      const out = ref.node.output[0] ?? '';
      const layer = asWeightedLayer(ref, constants);
      if (!layer || out === '' || values.has(out) || layer.batch !== 1 || !isFloatType(layer.weight.dtype)) return;
      const bias = ref.node.input[2] ?? '';
      const biasRef = bias === '' ? undefined : constants.lookup(bias, graph);
      if (bias !== '' && !biasRef) return;
      let axis: number;
      let value: Omit<ChannelValue, 'space'>;
      let biasAxis: number | undefined;
      if (layer.op === 'Conv') {
        if (((getAttribute(ref.node, 'group') as number | undefined) ?? 1) !== 1) return;
        axis = 0;
        biasAxis = biasRef ? 0 : undefined;
        const rank = layer.weight.dims.length;
        value = { axis: 1 - rank, rank, kind: 'channel', onesAfter: false };
      } else {
        axis = layer.layout === 'nk' ? 0 : 1;
        if (biasRef) {
          const last = biasRef.dims[biasRef.dims.length - 1];
          if (biasRef.dims.length > 0 && last !== 1 && last !== layer.n) return;
          biasAxis = biasRef.dims.length > 0 && last === layer.n ? biasRef.dims.length - 1 : undefined;
        }
        const inputRank = rankOf(ref.node.input[0]);
        value = { axis: -1, rank: layer.op === 'Gemm' ? 2 : inputRank === undefined ? undefined : Math.max(inputRank, 2), kind: 'channel', onesAfter: true };
      }
      const id = spaces.create(layer.n);
      const space = spaces.get(id);
      space.sources.push({ layer, axis });
      space.slices.push({ ref, input: 1, axis });
      if (biasAxis !== undefined) space.slices.push({ ref, input: 2, axis: biasAxis });
      setValue(out, { ...value, space: id });
    };

    const { order, cycle } = sortNodes(graph);
    if (cycle) throw new Error(`${path}: nodes form a cycle`);
    for (const index of order) {
      const ref: NodeRef = { node: graph.node[index], graph, graphPath: path };
      const inputs = ref.node.input.map((name) => values.get(name));
      if (inputs.some((v) => v !== undefined)) {
        const failure = followNode({
          spaces, constants, ref, inputs,
          declaredDims: (name) => declared.get(name),
          rankOf,
          hasReaders: (name) => model.consumers(name).length > 0,
          setOutput: (i, value) => setValue(ref.node.output[i], value),
        });
        if (failure) for (const v of inputs) if (v) spaces.get(v.space).failures.push(failure);
      }
      startSpace(ref);
    }
  }
  return spaces.roots().filter((s) => s.sources.length > 0);
}
