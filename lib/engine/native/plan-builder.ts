// One shape signature, lowered: specialize the prepared graph, fuse attention, emit steps over
// plan values, place the arena, and encode the plan the addon checks and runs.
import type { DTypeName } from '../../onnx/dtype';
import { elementCount } from '../../onnx/tensor';
import { fuseAttention } from './attention-fusion';
import { LoweringError } from './errors';
import type { IrGraph } from './ir';
import { isDense, LowerContext, Storage, type ValueRef } from './lower-context';
import { planMemory } from './memory-plan';
import { opDef } from './ops';
import { specialize } from './specialize';
import { bytesPerElement, ENGINE_DTYPES } from './tensor-data';

export interface NativePlanSpec {
  values: { storage: Uint8Array; dtype: Uint8Array; count: Float64Array; offset: Float64Array; index: Uint32Array };
  steps: { op: string; inputs: Int32Array; outputs: Int32Array; ints: Float64Array; floats: Float32Array; linear: number }[];
  planConstants: Uint8Array[];
  inputs: Int32Array;
  outputs: Int32Array;
  arenaBytes: number;
}

export interface TensorSpec {
  name: string;
  dtype: DTypeName;
  dims: number[];
}

export interface BuiltPlan {
  spec: NativePlanSpec;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  arenaBytes: number;
  /** Step kinds and how often each occurs (for reports). */
  stepCounts: Record<string, number>;
  /** Multiply-adds of the plan's linear, matmul and attention steps: what a run costs. */
  macs: number;
}

/** Multiply-adds of a step (0 for the element-wise ones, whose cost is small beside them). */
function stepMacs(op: string, ints: readonly number[]): number {
  switch (op) {
    case 'Linear': return ints[0] * ints[1] * ints[2];
    case 'MatMul': return ints[0] * ints[1] * ints[2] * ints.slice(4, 4 + ints[3]).reduce((p, d) => p * d, 1);
    case 'Attention': return 2 * ints[0] * ints[1] * ints[2] * ints[3] * ints[4];
    default: return 0;
  }
}

function encode(ctx: LowerContext, offsets: Map<number, number>, arenaBytes: number, inputs: number[], outputs: number[]): NativePlanSpec {
  const n = ctx.values.length;
  const values = {
    storage: new Uint8Array(n), dtype: new Uint8Array(n), count: new Float64Array(n), offset: new Float64Array(n), index: new Uint32Array(n),
  };
  ctx.values.forEach((v, id) => {
    values.storage[id] = v.storage;
    values.dtype[id] = ENGINE_DTYPES[v.dtype]!;
    values.count[id] = v.count;
    values.index[id] = v.index;
    values.offset[id] = v.storage === Storage.Arena ? offsets.get(id) ?? 0 : v.storage === Storage.View ? v.offset * bytesPerElement(v.dtype) : 0;
  });
  return {
    values,
    steps: ctx.steps.map((s) => ({
      op: s.op, inputs: Int32Array.from(s.inputs), outputs: Int32Array.from(s.outputs),
      ints: Float64Array.from(s.ints), floats: Float32Array.from(s.floats), linear: s.linear,
    })),
    planConstants: ctx.planConstants,
    inputs: Int32Array.from(inputs),
    outputs: Int32Array.from(outputs),
    arenaBytes,
  };
}

export function buildPlan(graph: IrGraph, constantIndex: ReadonlyMap<string, number>, inputs: readonly TensorSpec[]): BuiltPlan {
  const spec = specialize(graph, new Map(inputs.map((i) => [i.name, { dtype: i.dtype, dims: i.dims }])));
  fuseAttention(spec, new Set(graph.outputs.map((o) => o.name)));
  const ctx = new LowerContext(constantIndex);
  const refs = new Map<string, ValueRef>();
  const inputIds = inputs.map((input, i) => {
    const ref = ctx.input(i, input.dtype, input.dims);
    refs.set(input.name, ref);
    return ref.root;
  });
  for (const run of spec.nodes) {
    const { node } = run;
    const def = opDef(node.domain, node.op)!;
    const produced = def.lower({
      ctx, node, opset: graph.opset, shaped: run.shaped, outputs: run.outputs,
      inputs: node.inputs.map((name, i) => (name && !run.shaped[i]?.value ? refs.get(name) : undefined)),
    });
    node.outputs.forEach((o, i) => { if (o && produced[i]) refs.set(o, produced[i]); });
  }
  const outputs: TensorSpec[] = [];
  const outputIds = graph.outputs.map((o, i) => {
    const shaped = spec.values.get(o.name);
    if (!shaped) throw new LoweringError(o.name, 'output', 'is not computed by the graph');
    let ref = refs.get(o.name);
    if (!ref) {
      if (!shaped.value) throw new LoweringError(o.name, 'output', 'has no value');
      ref = ctx.constant(undefined, shaped.value);
    }
    outputs.push({ name: o.name, dtype: shaped.dtype, dims: shaped.dims });
    if (ctx.claimAsOutput(ref, i)) return ref.root;
    const out = ctx.output(i, ref.dtype, ref.dims);
    if (elementCount(ref.dims) > 0) {
      if (isDense(ref)) ctx.step('Copy', [ctx.dense(ref)], [out.root]);
      else ctx.stridedCopy(ref, out);
    }
    return out.root;
  });
  const memory = planMemory(ctx.values, ctx.steps);
  const stepCounts: Record<string, number> = {};
  let macs = 0;
  for (const s of ctx.steps) {
    stepCounts[s.op] = (stepCounts[s.op] ?? 0) + 1;
    macs += stepMacs(s.op, s.ints);
  }
  return {
    spec: encode(ctx, memory.offsets, memory.arenaBytes, inputIds, outputIds),
    inputs: [...inputs], outputs, arenaBytes: memory.arenaBytes, stepCounts, macs,
  };
}
