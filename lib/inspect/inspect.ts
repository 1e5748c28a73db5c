// inspectModel: what a model holds — format versions, IO, ops (subgraphs included),
// parameters by dtype, external data, largest tensors and MAC estimates.
import { dtypeInfo, isKnownDataType, byteLengthOf } from '../onnx/dtype';
import { parseExternalLocation } from '../onnx/external-location';
import type { TensorProto } from '../onnx/gen/onnx_pb';
import type { Model } from '../onnx/model';
import { elementCount, isExternal, tensorDims } from '../onnx/tensor';
import type { Dim } from '../onnx/value-info';
import { assumedDims, checkShapeOverrides, type AssumedDim, type ShapeOverrides, type ShapedInput } from '../compare/input-shapes';
import { MAC_OPS, nodeMacs } from './macs';
import { knownShapes } from './shapes';
import { layerSparsity, type LayerSparsity } from './sparsity';

export interface InspectOptions extends ShapeOverrides {
  /** How many of the largest tensors to list; default 10. */
  top?: number;
}

export interface IoEntry { name: string; dtype: string; shape: Dim[] | null }

export interface InspectReport {
  file: string | null;
  irVersion: number;
  producer: string;
  opsets: { domain: string; version: number }[];
  inputs: IoEntry[];
  outputs: IoEntry[];
  nodes: number;
  opCounts: Record<string, number>;
  /** Per subgraph ("main/If_0.then_branch"): its node count by op type. */
  subgraphs: { path: string; nodes: number; opCounts: Record<string, number> }[];
  parameters: { count: number; bytes: number; byDtype: Record<string, { tensors: number; count: number; bytes: number }> };
  externalData: { file: string; tensors: number; bytes: number }[];
  largestTensors: { name: string; dtype: string; dims: number[]; bytes: number }[];
  macs: { total: number; counted: number; unknown: number; byOp: Record<string, number> };
  /** Input dims the MAC estimates take as 1 because neither `dims` nor `shapes` sets them. */
  assumed: AssumedDim[];
  /** Zeros in each MatMul/Gemm/Conv float weight (after pruning), with any N:M pattern they form. */
  sparsity: LayerSparsity[];
  metadata: Record<string, string>;
}

function countOps(nodes: readonly { opType: string; domain: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of nodes) {
    const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

function tensorByteSize(t: TensorProto): number {
  const info = isKnownDataType(t.dataType) ? dtypeInfo(t.dataType) : undefined;
  if (!info || info.name === 'string') return 0;
  return byteLengthOf(info.name, elementCount(tensorDims(t)) * info.lanes);
}

function describeIo(list: Model['inputs']): IoEntry[] {
  return list.map((v) => ({ name: v.name, dtype: v.dtype ?? v.kind, shape: v.dims ?? null }));
}

export function inspectModel(model: Model, options: InspectOptions = {}): InspectReport {
  const graphs = model.graphs();
  const allNodes = graphs.flatMap((g) => g.graph.node);
  // Weights stored as Constant nodes count as parameters too (some exporters do this).
  const constants = allNodes
    .filter((n) => n.opType === 'Constant' && (n.domain === '' || n.domain === 'ai.onnx'))
    .flatMap((n) => n.attribute.filter((a) => a.name === 'value' && a.t).map((a) => a.t as TensorProto));
  const initializers = [...graphs.flatMap((g) => g.graph.initializer), ...constants];

  const byDtype: InspectReport['parameters']['byDtype'] = {};
  const external = new Map<string, { tensors: number; bytes: number }>();
  let paramCount = 0;
  let paramBytes = 0;
  for (const t of initializers) {
    const dtype = isKnownDataType(t.dataType) ? dtypeInfo(t.dataType).name : `type${t.dataType}`;
    const count = elementCount(tensorDims(t));
    const bytes = tensorByteSize(t);
    const entry = (byDtype[dtype] ??= { tensors: 0, count: 0, bytes: 0 });
    entry.tensors++;
    entry.count += count;
    entry.bytes += bytes;
    paramCount += count;
    paramBytes += bytes;
    if (isExternal(t)) {
      const location = parseExternalLocation(t).location;
      const e = external.get(location) ?? { tensors: 0, bytes: 0 };
      e.tensors++;
      e.bytes += bytes;
      external.set(location, e);
    }
  }

  const largest = initializers
    .map((t) => ({
      name: t.name,
      dtype: isKnownDataType(t.dataType) ? dtypeInfo(t.dataType).name : `type${t.dataType}`,
      dims: tensorDims(t),
      bytes: tensorByteSize(t),
    }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, options.top ?? 10);

  const shaped: ShapedInput[] = model.inputs.map((i) => ({ name: i.name, shape: i.dims ?? null }));
  checkShapeOverrides(shaped, options);
  const shapes = knownShapes(model, options.dims, options.shapes);
  const macs = { total: 0, counted: 0, unknown: 0, byOp: {} as Record<string, number> };
  for (const node of model.graph.node) {
    if (!MAC_OPS.has(node.opType)) continue;
    const value = nodeMacs(node, shapes);
    if (value === undefined) {
      macs.unknown++;
      continue;
    }
    macs.counted++;
    macs.total += value;
    macs.byOp[node.opType] = (macs.byOp[node.opType] ?? 0) + value;
  }
  macs.unknown += graphs.slice(1).flatMap((g) => g.graph.node).filter((n) => MAC_OPS.has(n.opType)).length;

  return {
    file: model.sourcePath ?? null,
    irVersion: model.irVersion,
    producer: [model.proto.producerName, model.proto.producerVersion].filter(Boolean).join(' '),
    opsets: model.proto.opsetImport.map((o) => ({ domain: o.domain || 'ai.onnx', version: Number(o.version) })),
    inputs: describeIo(model.inputs),
    outputs: describeIo(model.outputs),
    nodes: allNodes.length,
    opCounts: countOps(allNodes),
    subgraphs: graphs.slice(1).map((g) => ({ path: g.path, nodes: g.graph.node.length, opCounts: countOps(g.graph.node) })),
    parameters: { count: paramCount, bytes: paramBytes, byDtype },
    externalData: [...external].map(([file, e]) => ({ file, ...e })),
    largestTensors: largest,
    macs,
    assumed: assumedDims(shaped, options),
    sparsity: layerSparsity(model),
    metadata: Object.fromEntries(model.proto.metadataProps.map((p) => [p.key, p.value])),
  };
}
