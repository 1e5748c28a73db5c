// What a float conversion did, in numbers a user can check.
import type { NodeProto } from '../onnx/gen/onnx_pb';
import type { PrecisionPlan } from './precision-plan';

export interface FloatConversionReport {
  dtype: 'float16' | 'bfloat16' | 'float32';
  /** Initializers and Constant tensors whose element type changed. */
  tensorsConverted: number;
  /** Elements in those tensors. */
  valuesConverted: number;
  /** Finite values beyond the target's range, stored as its largest finite value. */
  valuesClamped: number;
  /** Non-zero values too small for the target, now zero. */
  valuesUnderflowed: number;
  /** Bytes of the converted tensors before and after. */
  tensorBytesBefore: number;
  tensorBytesAfter: number;
  /** Cast nodes the conversion added (after removing redundant ones). */
  castsInserted: number;
  /** Cast nodes of the original model that became redundant and were removed. */
  castsRemoved: number;
  castsBefore: number;
  castsAfter: number;
  /** Nodes on float32 values left in float32 (block list, --block-ops/--block-nodes, other domains). */
  nodesKept: number;
  /** Those nodes by op type. */
  keptOps: Record<string, number>;
  /** Of those, nodes kept only because every neighbour is float32 (converting them would only add Casts). */
  nodesKeptBetweenKept: number;
}

export class FloatReportBuilder {
  private readonly report: FloatConversionReport;

  constructor(dtype: FloatConversionReport['dtype'], castsBefore: number) {
    this.report = {
      dtype, tensorsConverted: 0, valuesConverted: 0, valuesClamped: 0, valuesUnderflowed: 0,
      tensorBytesBefore: 0, tensorBytesAfter: 0, castsInserted: 0, castsRemoved: 0, castsBefore, castsAfter: castsBefore,
      nodesKept: 0, keptOps: {}, nodesKeptBetweenKept: 0,
    };
  }

  tensor(values: number, clamped: number, underflowed: number, bytesBefore: number, bytesAfter: number): void {
    const r = this.report;
    r.tensorsConverted++;
    r.valuesConverted += values;
    r.valuesClamped += clamped;
    r.valuesUnderflowed += underflowed;
    r.tensorBytesBefore += bytesBefore;
    r.tensorBytesAfter += bytesAfter;
  }

  keptNodes(plan: PrecisionPlan): void {
    for (const [node, kept] of plan.kept) {
      // Constants are stored as their readers need, so they are not "kept" in any useful sense.
      if (!kept || node.opType === 'Constant' || ![...node.input, ...node.output].some((name) => plan.values.has(name))) continue;
      this.report.nodesKept++;
      if (plan.castAvoiders.has(node)) this.report.nodesKeptBetweenKept++;
      this.report.keptOps[node.opType] = (this.report.keptOps[node.opType] ?? 0) + 1;
    }
  }

  casts(inserted: ReadonlySet<NodeProto>, removed: readonly NodeProto[]): void {
    const removedInserted = removed.filter((n) => inserted.has(n)).length;
    this.report.castsInserted = inserted.size - removedInserted;
    this.report.castsRemoved = removed.length - removedInserted;
  }

  /** Removed Casts of the original model, for passes that insert none. */
  castsRemoved(count: number): void {
    this.report.castsRemoved = count;
  }

  finish(castsAfter: number): FloatConversionReport {
    return { ...this.report, castsAfter, keptOps: { ...this.report.keptOps } };
  }
}
