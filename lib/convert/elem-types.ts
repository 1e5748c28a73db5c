// Element types of every tensor value in a model (inputs, initializers, node outputs, in subgraphs too),
// from declared value infos where present and from each operator's typing rule where not. Passes that
// change precision need to know which values are float32 before they touch anything.
import type { GraphProto, NodeProto, TensorProto, ValueInfoProto } from '../onnx/gen/onnx_pb';
import { DataType } from '../onnx/dtype';
import { getAttribute } from '../onnx/attributes';
import type { Model } from '../onnx/model';
import { subgraphsOf } from '../onnx/proto-walk';
import { sortNodes } from '../onnx/topo';
import { isDefaultDomain } from './block-list';

/** Value name -> ONNX element type (TensorProto.DataType). Values of unknown or non-tensor type are absent. */
export type ElemTypes = Map<string, number>;

type Lookup = (input: number) => number | undefined;
type Rule = (node: NodeProto, input: Lookup) => (number | undefined)[];

const BOOL_OUTPUT = ['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf', 'OptionalHasElement'];
const INT64_OUTPUT = ['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin', 'NonMaxSuppression', 'SequenceLength'];
// Outputs that are sequences or optionals, not tensors: they get no element type.
const NON_TENSOR_OUTPUT = ['SequenceConstruct', 'SequenceEmpty', 'SequenceInsert', 'SequenceErase', 'SplitToSequence', 'SequenceMap', 'Optional'];

function intAttr(node: NodeProto, name: string): number | undefined {
  const value = getAttribute(node, name);
  return typeof value === 'number' ? value : undefined;
}

function tensorAttrType(node: NodeProto, name: string): number | undefined {
  return (getAttribute(node, name) as TensorProto | undefined)?.dataType;
}

function constantType(node: NodeProto): number | undefined {
  for (const a of node.attribute) {
    switch (a.name) {
      case 'value': return a.t?.dataType;
      case 'sparse_value': return a.sparseTensor?.values?.dataType;
      case 'value_float': case 'value_floats': return DataType.FLOAT;
      case 'value_int': case 'value_ints': return DataType.INT64;
      case 'value_string': case 'value_strings': return DataType.STRING;
    }
  }
  return undefined;
}

const all = (node: NodeProto, type: number | undefined): (number | undefined)[] => node.output.map(() => type);

const RULES: Record<string, Rule> = {
  Cast: (node) => [intAttr(node, 'to')],
  CastLike: (_node, input) => [input(1)],
  Constant: (node) => [constantType(node)],
  ConstantOfShape: (node) => [tensorAttrType(node, 'value') ?? DataType.FLOAT],
  EyeLike: (node, input) => [intAttr(node, 'dtype') ?? input(0)],
  RandomNormal: (node) => [intAttr(node, 'dtype') ?? DataType.FLOAT],
  RandomUniform: (node) => [intAttr(node, 'dtype') ?? DataType.FLOAT],
  RandomNormalLike: (node, input) => [intAttr(node, 'dtype') ?? input(0)],
  RandomUniformLike: (node, input) => [intAttr(node, 'dtype') ?? input(0)],
  Bernoulli: (node, input) => [intAttr(node, 'dtype') ?? input(0)],
  Multinomial: (node) => [intAttr(node, 'dtype') ?? DataType.INT32],
  HannWindow: (node) => [intAttr(node, 'output_datatype') ?? DataType.FLOAT],
  HammingWindow: (node) => [intAttr(node, 'output_datatype') ?? DataType.FLOAT],
  BlackmanWindow: (node) => [intAttr(node, 'output_datatype') ?? DataType.FLOAT],
  MelWeightMatrix: (node) => [intAttr(node, 'output_datatype') ?? DataType.FLOAT],
  TfIdfVectorizer: () => [DataType.FLOAT],
  Where: (_node, input) => [input(1)],
  OneHot: (_node, input) => [input(2)],
  TopK: (_node, input) => [input(0), DataType.INT64],
  MaxPool: (_node, input) => [input(0), DataType.INT64],
  Unique: (_node, input) => [input(0), DataType.INT64, DataType.INT64, DataType.INT64],
  LayerNormalization: (node, input) => [input(0), intAttr(node, 'stash_type') ?? DataType.FLOAT, intAttr(node, 'stash_type') ?? DataType.FLOAT],
  QuantizeLinear: (node, input) => [input(2) ?? intAttr(node, 'output_dtype') ?? DataType.UINT8],
  DequantizeLinear: (node, input) => [intAttr(node, 'output_dtype') || input(1)],
  DynamicQuantizeLinear: () => [DataType.UINT8, DataType.FLOAT, DataType.UINT8],
  MatMulInteger: () => [DataType.INT32],
  ConvInteger: () => [DataType.INT32],
  QLinearConv: (_node, input) => [input(7)],
  QLinearMatMul: (_node, input) => [input(7)],
  StringNormalizer: () => [DataType.STRING],
  RegexFullMatch: () => [DataType.BOOL],
  StringSplit: () => [DataType.STRING, DataType.INT64],
  ImageDecoder: () => [DataType.UINT8],
};
for (const op of BOOL_OUTPUT) RULES[op] = (node) => all(node, DataType.BOOL);
for (const op of INT64_OUTPUT) RULES[op] = (node) => all(node, DataType.INT64);
for (const op of NON_TENSOR_OUTPUT) RULES[op] = (node) => all(node, undefined);

function declaredType(vi: ValueInfoProto): number | undefined {
  const type = vi.type?.value;
  if (type?.case === 'tensorType' && type.value.elemType !== 0) return type.value.elemType;
  return undefined;
}

/** Infer element types of every value in the model. Declared types (value_info, inputs, outputs) win. */
export function inferElemTypes(model: Model): ElemTypes {
  const types: ElemTypes = new Map();
  const set = (name: string, type: number | undefined): void => {
    if (name !== '' && type !== undefined && type !== 0 && !types.has(name)) types.set(name, type);
  };

  const bodyOutputs = (graph: GraphProto | undefined): (number | undefined)[] =>
    graph ? graph.output.map((o) => declaredType(o) ?? types.get(o.name)) : [];

  // Loop and Scan bodies may leave their inputs untyped: they take the types of the node's inputs.
  const seedBodyInputs = (node: NodeProto, body: GraphProto, input: Lookup): void => {
    if (node.opType === 'Loop') {
      body.input.forEach((vi, i) => set(vi.name, i === 0 ? DataType.INT64 : i === 1 ? DataType.BOOL : input(i)));
    } else if (node.opType === 'Scan') {
      body.input.forEach((vi, i) => set(vi.name, input(i)));
    }
  };

  const controlFlowOutputs = (node: NodeProto): (number | undefined)[] | undefined => {
    const body = (name: string) => node.attribute.find((a) => a.name === name)?.g;
    if (node.opType === 'If') return bodyOutputs(body('then_branch'));
    if (node.opType === 'Loop') return bodyOutputs(body('body')).slice(1);
    if (node.opType === 'Scan') return bodyOutputs(body('body'));
    return undefined;
  };

  const visit = (graph: GraphProto): void => {
    for (const vi of [...graph.input, ...graph.valueInfo, ...graph.output]) set(vi.name, declaredType(vi));
    for (const t of graph.initializer) set(t.name, t.dataType);
    for (const s of graph.sparseInitializer) if (s.values) set(s.values.name, s.values.dataType);
    const { order } = sortNodes(graph);
    for (const index of order) {
      const node = graph.node[index];
      const input: Lookup = (i) => (node.input[i] ? types.get(node.input[i]) : undefined);
      for (const sub of subgraphsOf(node)) {
        seedBodyInputs(node, sub.graph, input);
        visit(sub.graph);
      }
      const rule = isDefaultDomain(node.domain) ? RULES[node.opType] : undefined;
      // Most operators give every output the type of their first typed input.
      const first = node.input.map((name) => types.get(name)).find((t) => t !== undefined);
      const outputs = controlFlowOutputs(node) ?? rule?.(node, input) ?? all(node, first);
      node.output.forEach((name, i) => set(name, outputs[i]));
    }
  };
  visit(model.graph);
  return types;
}
