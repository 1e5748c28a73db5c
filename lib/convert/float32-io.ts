// A twin of a 16-bit-float model whose main inputs and outputs are float32, with Casts at the edges:
// numerically the same model, but one that takes the same feeds as the float32 original (for compare).
import { DataType, dataTypeOf, type DTypeName } from '../onnx/dtype';
import type { Model } from '../onnx/model';
import { describeValueInfo, makeTensorType } from '../onnx/value-info';
import { insertAfterProducer, makeCast, redirectReaders } from './graph-edits';

const NARROW: readonly (DTypeName | undefined)[] = ['float16', 'bfloat16'];

/** Returns a copy of `source` whose float16/bfloat16 main inputs and outputs are float32. */
export function withFloat32Io(source: Model): Model {
  const model = source.clone();
  const graph = model.graph;
  const graphs = model.graphs().map((g) => g.graph);
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const inputNames = new Set(graph.input.map((i) => i.name));
  for (const input of graph.input) {
    const { dtype, dims } = describeValueInfo(input);
    if (initializers.has(input.name) || !NARROW.includes(dtype)) continue;
    const narrow = model.uniqueName(`${input.name}_narrow`);
    redirectReaders(graphs, input.name, narrow);
    for (const output of graph.output) if (output.name === input.name) output.name = narrow;
    graph.node.unshift(makeCast(model, input.name, narrow, dataTypeOf(dtype as DTypeName)));
    input.type = makeTensorType('float32', dims);
  }
  for (const output of graph.output) {
    const { dtype, dims } = describeValueInfo(output);
    if (!NARROW.includes(dtype) || inputNames.has(output.name)) continue;
    const narrow = model.uniqueName(`${output.name}_narrow`);
    for (const node of graph.node) node.output.forEach((o, i) => o === output.name && (node.output[i] = narrow));
    for (const t of graph.initializer) if (t.name === output.name) t.name = narrow;
    redirectReaders(graphs, output.name, narrow);
    insertAfterProducer(graph, makeCast(model, narrow, output.name, DataType.FLOAT));
    output.type = makeTensorType('float32', dims);
  }
  model.invalidate();
  return model;
}
