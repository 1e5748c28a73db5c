// Schema-driven traversal of ONNX protos: every tensor anywhere in a model, and every graph with its path.
import type { DescMessage } from '@bufbuild/protobuf';
import {
  ModelProtoSchema, TensorProtoSchema,
  type GraphProto, type ModelProto, type NodeProto, type TensorProto,
} from './gen/onnx_pb';

type AnyMessage = Record<string, unknown>;

// Per message type: can a TensorProto occur somewhere below it? Lets the walk skip type and shape protos.
const reachesTensor = new Map<string, boolean>();
function canReachTensor(desc: DescMessage): boolean {
  const known = reachesTensor.get(desc.typeName);
  if (known !== undefined) return known;
  reachesTensor.set(desc.typeName, false); // breaks recursion through self-referencing types
  let result = desc.typeName === TensorProtoSchema.typeName;
  for (const field of desc.fields) {
    const child = field.fieldKind === 'message' ? field.message
      : field.fieldKind === 'list' && field.listKind === 'message' ? field.message : undefined;
    if (child && canReachTensor(child)) result = true;
  }
  reachesTensor.set(desc.typeName, result);
  return result;
}

function walkTensors(message: AnyMessage, desc: DescMessage, visit: (tensor: TensorProto) => void): void {
  if (desc.typeName === TensorProtoSchema.typeName) visit(message as unknown as TensorProto);
  for (const field of desc.fields) {
    if (field.fieldKind === 'message') {
      if (!canReachTensor(field.message)) continue;
      let value: unknown;
      if (field.oneof) {
        const holder = message[field.oneof.localName] as { case?: string; value?: unknown };
        value = holder.case === field.localName ? holder.value : undefined;
      } else {
        value = message[field.localName];
      }
      if (value) walkTensors(value as AnyMessage, field.message, visit);
    } else if (field.fieldKind === 'list' && field.listKind === 'message' && canReachTensor(field.message)) {
      for (const item of message[field.localName] as AnyMessage[]) walkTensors(item, field.message, visit);
    }
  }
}

/**
 * Every TensorProto in the model, in a fixed schema order: initializers, Constant/attribute tensors,
 * sparse tensors' parts, subgraphs, functions and training graphs.
 */
export function allTensors(model: ModelProto): TensorProto[] {
  const out: TensorProto[] = [];
  walkTensors(model as unknown as AnyMessage, ModelProtoSchema, (t) => out.push(t));
  return out;
}

/** A graph of the model with a readable path: "main", "main/If_0.then_branch", "main/Loop#3.body/...". */
export interface GraphRef {
  graph: GraphProto;
  path: string;
  /** The node whose attribute holds this graph; undefined for the main graph. */
  owner: NodeProto | undefined;
  /** Enclosing graphs, outermost first. */
  parents: GraphProto[];
}

export function nodeLabel(node: NodeProto, index: number): string {
  return node.name !== '' ? node.name : `${node.opType}#${index}`;
}

/** The graphs held by a node's attributes (If branches, Loop/Scan bodies), with attribute names. */
export function subgraphsOf(node: NodeProto): { name: string; graph: GraphProto }[] {
  const out: { name: string; graph: GraphProto }[] = [];
  for (const attr of node.attribute) {
    if (attr.g) out.push({ name: attr.name, graph: attr.g });
    attr.graphs.forEach((graph, i) => out.push({ name: `${attr.name}[${i}]`, graph }));
  }
  return out;
}

/** The main graph and every nested subgraph, parents before children. */
export function allGraphs(root: GraphProto, rootPath = 'main'): GraphRef[] {
  const out: GraphRef[] = [];
  const visit = (graph: GraphProto, path: string, owner: NodeProto | undefined, parents: GraphProto[]): void => {
    out.push({ graph, path, owner, parents });
    graph.node.forEach((node, i) => {
      for (const sub of subgraphsOf(node)) {
        visit(sub.graph, `${path}/${nodeLabel(node, i)}.${sub.name}`, node, [...parents, graph]);
      }
    });
  };
  visit(root, rootPath, undefined, []);
  return out;
}
