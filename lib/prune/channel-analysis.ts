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
import { asWeightedLayer, type WeightedLayer } from './layers';

function shapesOrEmpty(model: Model): ShapeTable {
  try {
    return knownShapes(model);
  } catch {
    return new Map();
  }
}

export interface ChannelAnalysis {
  /** Channel groups started by at least one layer. */
  spaces: ChannelSpace[];
  /** Weighted layers whose output channels cannot be pruned at all, and why. */
  unsupported: { layer: WeightedLayer; reason: string }[];
}

export function analyzeChannels(model: Model, constants: ConstantIndex): ChannelAnalysis {
  const spaces = new SpaceSet();
  const unsupported: ChannelAnalysis['unsupported'] = [];
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

    /** Start a channel group at a layer's output; the reason when its channels cannot be pruned. */
    const startSpace = (ref: NodeRef, layer: WeightedLayer): string | undefined => {
      const out = ref.node.output[0];
      if (layer.batch !== 1) return `its weight [${layer.weight.dims.join(', ')}] is a batch of matrices`;
      if (!isFloatType(layer.weight.dtype)) return `weights are ${layer.weight.dtype}`;
      const bias = ref.node.input[2] ?? '';
      const biasRef = bias === '' ? undefined : constants.lookup(bias, graph);
      if (bias !== '' && !biasRef) return 'its bias is computed at run time';
      let axis: number;
      let value: Omit<ChannelValue, 'space'>;
      let biasAxis: number | undefined;
      if (layer.op === 'Conv') {
        const group = (getAttribute(ref.node, 'group') as number | undefined) ?? 1;
        if (group !== 1) return `grouped convolution (group ${group}) not fed by prunable channels`;
        axis = 0;
        biasAxis = biasRef ? 0 : undefined;
        const rank = layer.weight.dims.length;
        value = { axis: 1 - rank, rank, kind: 'channel', onesAfter: false };
      } else {
        axis = layer.layout === 'nk' ? 0 : 1;
        if (biasRef) {
          const last = biasRef.dims[biasRef.dims.length - 1];
          if (biasRef.dims.length > 0 && last !== 1 && last !== layer.n) return `its bias [${biasRef.dims.join(', ')}] does not match its ${layer.n} outputs`;
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
      return undefined;
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
      const layer = asWeightedLayer(ref, constants);
      // A depthwise Conv inside a group already carries that group's channels.
      if (layer && ref.node.output[0] && !values.has(ref.node.output[0])) {
        const reason = startSpace(ref, layer);
        if (reason) unsupported.push({ layer, reason });
      }
    }
  }
  return { spaces: spaces.roots().filter((s) => s.sources.length > 0), unsupported };
}
