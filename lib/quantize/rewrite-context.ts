// State shared by the rewrites of one quantize run: the model's scopes, options, the quantized
// weights and activations made so far (each made once and shared by every node that reads it),
// and the per-node outcomes for the report.
import type { GraphProto, NodeProto } from '../onnx/gen/onnx_pb';
import { makeNode, type AttributeValue } from '../onnx/attributes';
import type { Model } from '../onnx/model';
import type { GraphScope } from './graph-scope';
import type { ResolvedOptions } from './options';
import { ActivationGroups } from './static/activation-groups';
import { quantizeTensor, type QuantizedTensor, type ScaleZeroPoint } from './quant-math';
import type { GptqLayerReport } from './gptq/nbits-weights';

/** Names of a weight's quantized initializers. */
export interface QuantizedWeight {
  q: string;
  scale: string;
  zeroPoint: string;
  tensor: QuantizedTensor;
}

export interface WeightRequest {
  /** Cache key part that tells variants of the same weight apart (transposed, axis, scaled...). */
  variant: string;
  values: Float32Array;
  dims: number[];
  axis: number | null;
  /** Graph that receives the new initializers (the one that defined the weight). */
  graph: GraphProto;
  baseName: string;
  /** Shape for the scale/zero point initializers; default [] per tensor, [channels] per channel. */
  paramDims?: number[];
  /** Multiply the scales by this after quantizing (Gemm alpha). */
  scaleFactor?: number;
  /** Store one zero point for all channels (ConvInteger takes no more); they must all be equal. */
  scalarZeroPoint?: boolean;
}

export class RewriteContext {
  readonly domains = new Set<string>();
  /** Static mode: calibrated [min, max] per activation, and why some have none. */
  ranges = new Map<string, [number, number]>();
  missingRanges = new Map<string, string>();
  calibrated = false;
  /** Weight-only GPTQ: H = 2XᵀX per linear-layer input, and the per-layer errors it reached. */
  hessians = new Map<string, Float64Array>();
  readonly gptqLayers: GptqLayerReport[] = [];
  /** Static mode: activations already behind Q -> DQ, with their parameters. */
  readonly quantizedValues = new Map<string, ScaleZeroPoint>();
  /** Static mode: values that share one scale and zero point (pass-through ops, Concat). */
  readonly groups = new ActivationGroups();
  /** Static mode: element type of each value (TensorProto.DataType) where known; shape arithmetic is not quantized. */
  elemTypes = new Map<string, number>();
  private readonly weights = new Map<string, QuantizedWeight>();
  private readonly shared = new Map<string, string[]>();

  constructor(readonly model: Model, readonly scope: GraphScope, readonly options: ResolvedOptions) {}

  /** A node with a fresh unique name derived from `base`. */
  node(op: string, inputs: string[], outputs: string[], base: string, attrs: Record<string, AttributeValue> = {}, domain?: string): NodeProto {
    if (domain) this.domains.add(domain);
    return makeNode(op, inputs, outputs, attrs, { name: this.scope.fresh(`${base}_${op}`), domain });
  }

  /** Quantizes a float weight once per (graph, name, variant); later requests share the initializers. */
  quantizeWeight(name: string, request: WeightRequest): QuantizedWeight {
    const key = `${this.graphId(request.graph)}/${name}/${request.variant}/${request.scalarZeroPoint === true}`;
    const cached = this.weights.get(key);
    if (cached) return cached;
    const o = this.options;
    const tensor = quantizeTensor(request.values, request.dims, {
      type: o.weightType, symmetric: o.symmetricWeights, reduceRange: o.reduceRange, axis: request.axis,
    });
    if (request.scaleFactor !== undefined && request.scaleFactor !== 1) {
      for (let i = 0; i < tensor.scales.length; i++) tensor.scales[i] = Math.fround(tensor.scales[i] * request.scaleFactor);
    }
    const paramDims = request.paramDims ?? (request.axis === null ? [] : [request.dims[request.axis]]);
    const base = request.baseName;
    let zeroPoints = tensor.zeroPoints;
    let zeroPointDims = paramDims;
    if (request.scalarZeroPoint) {
      if (zeroPoints.some((z) => z !== zeroPoints[0])) throw new Error(`weight ${name}: zero points differ per channel`);
      zeroPoints = zeroPoints.slice(0, 1);
      zeroPointDims = [];
    }
    const weight: QuantizedWeight = {
      q: this.scope.addInitializer(request.graph, `${base}_quantized`, tensor.data, tensor.dims, tensor.type),
      scale: this.scope.addInitializer(request.graph, `${base}_scale`, tensor.scales, paramDims),
      zeroPoint: this.scope.addInitializer(request.graph, `${base}_zero_point`, zeroPoints, zeroPointDims, tensor.type),
      tensor,
    };
    this.weights.set(key, weight);
    return weight;
  }

  /**
   * Values made once per (graph, key) and shared, e.g. one DynamicQuantizeLinear per activation.
   * `make` returns the nodes to add to `graph` and the names they produce.
   */
  sharedValues(graph: GraphProto, key: string, make: () => { nodes: NodeProto[]; names: string[] }): string[] {
    const id = `${this.graphId(graph)}/${key}`;
    const existing = this.shared.get(id);
    if (existing) return existing;
    const { nodes, names } = make();
    graph.node.push(...nodes);
    this.shared.set(id, names);
    return names;
  }

  private readonly graphIds = new Map<GraphProto, number>();
  private graphId(graph: GraphProto): number {
    let id = this.graphIds.get(graph);
    if (id === undefined) {
      id = this.graphIds.size;
      this.graphIds.set(graph, id);
    }
    return id;
  }
}

/** Replaces `node` in its graph by `replacement` (dependency order is restored by GraphScope.finish). */
export function replaceInGraph(graph: GraphProto, node: NodeProto, replacement: NodeProto[]): void {
  const index = graph.node.indexOf(node);
  if (index < 0) throw new Error(`node "${node.name}" is not in the graph`);
  graph.node.splice(index, 1, ...replacement);
}
