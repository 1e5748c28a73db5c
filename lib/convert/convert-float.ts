// convertFloat: float32 -> float16 / bfloat16 (weights, Constant nodes, value types, Cast targets), with
// blocked ops kept in float32 behind Casts, main-graph inputs/outputs optionally kept float32, and no
// redundant Casts left behind. dtype 'float32' goes the other way (see upcast.ts).
import type { GraphProto, NodeProto, TensorProto } from '../onnx/gen/onnx_pb';
import { attr, makeAttribute } from '../onnx/attributes';
import { DataType, dtypeInfo } from '../onnx/dtype';
import type { Model } from '../onnx/model';
import { makeTensor, tensorDims } from '../onnx/tensor';
import { firstOpsetAdmitting, schemaFloatSupport } from './block-list';
import { removeRedundantCasts } from './cast-cleanup';
import { retargetDtypeAttribute } from './dtype-attributes';
import { inferElemTypes } from './elem-types';
import { insertAfterProducer, makeCast, redirectReaders } from './graph-edits';
import { narrowFloats, type LowFloat } from './narrow-floats';
import { planPrecision, type FloatValue, type Precision, type PrecisionOptions, type PrecisionPlan } from './precision-plan';
import { FloatReportBuilder, type FloatConversionReport } from './float-report';
import { upcastToFloat32 } from './upcast';

export type FloatTarget = LowFloat | 'float32';

export interface ConvertFloatOptions extends PrecisionOptions {
  /** Target type (default float16). 'float32' widens float16/bfloat16 back to float32. */
  dtype?: FloatTarget;
}

export interface ConvertFloatResult {
  model: Model;
  report: FloatConversionReport;
}

const SUFFIX: Record<LowFloat, string> = { float16: 'fp16', bfloat16: 'bf16' };

class FloatNarrowing {
  private readonly target: number;
  private readonly graphs: GraphProto[];
  /** Final precision of every float32 value, including Cast outputs and renamed values. */
  private readonly precision = new Map<string, Precision>();
  /** Cast output for (value, precision), so readers share one Cast. */
  private readonly castOf = new Map<string, string>();
  readonly inserted = new Set<NodeProto>();

  constructor(private readonly model: Model, private readonly dtype: LowFloat, private readonly plan: PrecisionPlan,
    private readonly report: FloatReportBuilder) {
    this.target = dtypeInfo(dtype).dataType;
    this.graphs = model.graphs().map((g) => g.graph);
    for (const value of plan.values.values()) this.precision.set(value.name, value.home);
  }

  run(): void {
    const values = [...this.plan.values.values()];
    for (const value of values) this.keepMainOutputName(value);
    for (const value of values) this.castForReaders(value);
    for (const value of values) if (value.home === 'low') this.narrowDefinition(value);
    for (const [node, kept] of this.plan.kept) if (!kept) this.retargetDtypeAttribute(node);
    this.retypeValueInfos();
  }

  private castKey(value: string, precision: Precision): string {
    return `${value}\0${precision}`;
  }

  /** Output of a Cast of `value` to `precision`, made once in the graph that defines the value. */
  private cast(value: FloatValue, name: string, precision: Precision): string {
    const key = this.castKey(name, precision);
    const existing = this.castOf.get(key);
    if (existing) return existing;
    const output = this.model.uniqueName(`${name}_${precision === 'low' ? SUFFIX[this.dtype] : 'fp32'}`);
    const node = makeCast(this.model, name, output, precision === 'low' ? this.target : DataType.FLOAT);
    insertAfterProducer(value.graph, node);
    this.inserted.add(node);
    this.castOf.set(key, output);
    this.precision.set(output, precision);
    return output;
  }

  /**
   * A main-graph output whose producer works in the other precision: the producer's value is renamed and
   * a Cast writes the output under its original name, so the graph's interface keeps its names.
   */
  private keepMainOutputName(value: FloatValue): void {
    const main = this.model.graph;
    const outputs = value.readers.filter((r) => r.graph === main && r.node === undefined && r.precision !== value.home);
    if (outputs.length === 0 || value.kind === 'input') return;
    const wanted = outputs[0].precision as Precision;
    const renamed = this.model.uniqueName(`${value.name}_${value.home === 'low' ? SUFFIX[this.dtype] : 'fp32'}`);
    if (value.producer) value.producer.output[value.producer.output.indexOf(value.name)] = renamed;
    for (const graph of this.graphs) {
      for (const t of graph.initializer) if (t.name === value.name) t.name = renamed;
      for (const vi of [...graph.valueInfo, ...(graph === main ? [] : graph.output), ...graph.input]) if (vi.name === value.name) vi.name = renamed;
    }
    redirectReaders(this.graphs, value.name, renamed);
    value.readers = value.readers.filter((r) => !outputs.includes(r));
    this.precision.set(renamed, value.home);
    this.precision.set(value.name, wanted);
    const node = makeCast(this.model, renamed, value.name, wanted === 'low' ? this.target : DataType.FLOAT);
    insertAfterProducer(value.graph, node);
    this.inserted.add(node);
    this.castOf.set(this.castKey(renamed, wanted), value.name);
    value.name = renamed;
  }

  private castForReaders(value: FloatValue): void {
    for (const reader of value.readers) {
      if (reader.precision === 'any' || reader.precision === value.home) continue;
      const output = this.cast(value, value.name, reader.precision);
      if (reader.node) reader.node.input[reader.index] = output;
      else reader.graph.output[reader.index].name = output;
    }
  }

  private narrowTensor(tensor: TensorProto): TensorProto {
    const data = this.model.tensorValues(tensor) as Float32Array;
    const result = narrowFloats(data, this.dtype);
    this.report.tensor(data.length, result.clamped, result.underflowed, data.byteLength, result.bits.byteLength);
    const narrowed = makeTensor(tensor.name, result.bits, tensorDims(tensor), this.dtype);
    if (tensor.docString) narrowed.docString = tensor.docString;
    return narrowed;
  }

  private narrowDefinition(value: FloatValue): void {
    if (value.kind === 'initializer') {
      const list = value.graph.initializer;
      const at = list.findIndex((t) => t.name === value.name);
      if (at >= 0) list[at] = this.narrowTensor(list[at]);
    } else if (value.producer?.opType === 'Constant' || value.producer?.opType === 'ConstantOfShape') {
      this.narrowConstant(value.producer);
    }
  }

  private narrowConstant(node: NodeProto): void {
    const at = node.attribute.findIndex((a) => a.name === 'value' || a.name === 'value_float' || a.name === 'value_floats' || a.name === 'sparse_value');
    const a = at >= 0 ? node.attribute[at] : undefined;
    if (a?.name === 'value' && a.t?.dataType === DataType.FLOAT) {
      a.t = this.narrowTensor(a.t);
    } else if (a?.name === 'sparse_value' && a.sparseTensor?.values?.dataType === DataType.FLOAT) {
      a.sparseTensor.values = this.narrowTensor(a.sparseTensor.values);
    } else if (a?.name === 'value_float' || a?.name === 'value_floats') {
      const values = a.name === 'value_float' ? [a.f] : a.floats;
      const dims = a.name === 'value_float' ? [] : [values.length];
      node.attribute[at] = makeAttribute('value', attr.tensor(this.narrowTensor(makeTensor('', Float32Array.from(values), dims))));
    } else if (node.opType === 'ConstantOfShape' && !a) {
      node.attribute.push(makeAttribute('value', attr.tensor(this.narrowTensor(makeTensor('', new Float32Array(1), [1])))));
    }
  }

  /** A converted node that makes float32 because an attribute says so (Cast to=FLOAT...) now makes the target type. */
  private retargetDtypeAttribute(node: NodeProto): void {
    if (node.output.some((o) => this.precision.get(o) === 'low')) retargetDtypeAttribute(node, [DataType.FLOAT], this.target);
  }

  private retypeValueInfos(): void {
    for (const graph of this.graphs) {
      for (const vi of [...graph.input, ...graph.output, ...graph.valueInfo]) {
        const type = vi.type?.value;
        if (type?.case === 'tensorType' && type.value.elemType === DataType.FLOAT && this.precision.get(vi.name) === 'low') {
          type.value.elemType = this.target;
        }
      }
    }
  }
}

function countCasts(model: Model): number {
  return model.graphs().reduce((n, g) => n + g.graph.node.filter((node) => node.opType === 'Cast').length, 0);
}

/**
 * Convert a model's float32 computation to float16 or bfloat16 (or widen it back to float32).
 * Returns a new Model; the input model is not changed.
 */
export function convertFloat(source: Model, options: ConvertFloatOptions = {}): ConvertFloatResult {
  const dtype = options.dtype ?? 'float16';
  if (dtype !== 'float16' && dtype !== 'bfloat16' && dtype !== 'float32') {
    throw new RangeError(`convertFloat: dtype must be float16, bfloat16 or float32, got "${String(dtype)}"`);
  }
  const model = source.clone();
  const report = new FloatReportBuilder(dtype, countCasts(model));
  if (dtype === 'float32') {
    upcastToFloat32(model, report);
  } else {
    const opset = model.opsetVersion('') ?? 1;
    if (schemaFloatSupport('Cast', opset)?.admits(dtype) === false) {
      throw new RangeError(`convertFloat: ${dtype} needs opset ${firstOpsetAdmitting('Cast', dtype)} or later (Cast has no ${dtype} before it); this model imports opset ${opset}`);
    }
    const plan = planPrecision(model, inferElemTypes(model), dtype, options);
    report.keptNodes(plan);
    const narrowing = new FloatNarrowing(model, dtype, plan, report);
    narrowing.run();
    model.invalidate();
    const removed = removeRedundantCasts(model);
    report.casts(narrowing.inserted, removed);
  }
  model.invalidate();
  return { model, report: report.finish(countCasts(model)) };
}
