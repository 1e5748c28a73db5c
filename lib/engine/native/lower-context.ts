// What the lowering of one shape signature builds: plan values (arena, constants, inputs,
// outputs and views into them), the steps that compute them, and strided views that let
// Transpose/Slice/Expand cost nothing until an op needs its operand dense.
import type { DTypeName } from '../../onnx/dtype';
import { elementCount } from '../../onnx/tensor';
import { LoweringError } from './errors';
import { bytesPerElement, ENGINE_DTYPES, isEngineDType, stridesOf, type ConstTensor } from './tensor-data';

export const enum Storage { Arena = 0, Constant = 1, PlanConstant = 2, Input = 3, Output = 4, View = 5 }

export interface PlanValue {
  storage: Storage;
  dtype: DTypeName;
  count: number;
  /** Constant / plan constant / input / output number; for a view, the value it looks into. */
  index: number;
  /** Views: element offset into the base value. */
  offset: number;
}

export interface PlanStep {
  op: string;
  inputs: number[];
  outputs: number[];
  ints: number[];
  floats: number[];
  linear: number;
}

/** A tensor during lowering: `root` holds its elements at root offset + sum(i_d * strides[d]). */
export interface ValueRef {
  root: number;
  offset: number;
  dtype: DTypeName;
  dims: number[];
  strides: number[];
}

/**
 * The order of `ref`'s axes in memory (outermost first) when its elements fill one contiguous
 * block in some axis order (row-major NCHW, or NHWC as the convolutions keep it); undefined
 * when they do not.
 */
export function packedOrder(ref: ValueRef): number[] | undefined {
  const big = ref.dims.map((_, i) => i).filter((i) => ref.dims[i] !== 1).sort((a, b) => ref.strides[b] - ref.strides[a] || a - b);
  let expected = 1;
  for (let i = big.length - 1; i >= 0; i--) {
    if (ref.strides[big[i]] !== expected) return undefined;
    expected *= ref.dims[big[i]];
  }
  // Axes of size 1 take no room: they go last.
  return [...big, ...ref.dims.map((_, i) => i).filter((i) => ref.dims[i] === 1)];
}

/** Strides of `dims` laid out in memory in `order` (outermost axis first). */
export function stridesInOrder(dims: readonly number[], order: readonly number[]): number[] {
  const strides = new Array<number>(dims.length).fill(0);
  let s = 1;
  for (let i = order.length - 1; i >= 0; i--) {
    strides[order[i]] = s;
    s *= dims[order[i]];
  }
  return strides;
}

export function sameOrder(a: readonly number[] | undefined, b: readonly number[], dims: readonly number[]): boolean {
  if (!a) return false;
  const big = (o: readonly number[]) => o.filter((axis) => dims[axis] !== 1);
  const x = big(a), y = big(b);
  return x.length === y.length && x.every((axis, i) => axis === y[i]);
}

export function isDense(ref: ValueRef): boolean {
  let expected = 1;
  for (let d = ref.dims.length - 1; d >= 0; d--) {
    if (ref.dims[d] !== 1 && ref.strides[d] !== expected) return false;
    expected *= ref.dims[d];
  }
  return true;
}

export class LowerContext {
  readonly values: PlanValue[] = [];
  readonly steps: PlanStep[] = [];
  readonly planConstants: Uint8Array[] = [];
  private readonly slots = new Map<string, number>();
  private readonly denseCache = new Map<string, ValueRef>();

  constructor(
    /** Model constants registered with the engine weights, by name: their index there. */
    private readonly modelConstants: ReadonlyMap<string, number>,
  ) {}

  private add(value: PlanValue): number {
    if (!isEngineDType(value.dtype)) throw new RangeError(`the native engine does not compute with ${value.dtype} values`);
    this.values.push(value);
    return this.values.length - 1;
  }

  private ref(root: number, dims: readonly number[]): ValueRef {
    return { root, offset: 0, dtype: this.values[root].dtype, dims: [...dims], strides: stridesOf(dims) };
  }

  arena(dtype: DTypeName, dims: readonly number[]): ValueRef {
    return this.ref(this.add({ storage: Storage.Arena, dtype, count: elementCount(dims), index: 0, offset: 0 }), dims);
  }

  /** An arena value of logical `dims` laid out in `order` (e.g. [0, 2, 3, 1]: NCHW dims stored NHWC). */
  arenaInOrder(dtype: DTypeName, dims: readonly number[], order: readonly number[]): ValueRef {
    const ref = this.arena(dtype, dims);
    return { ...ref, strides: stridesInOrder(dims, order) };
  }

  /** `ref` laid out in `order`: itself when it already is, else a copy made by a StridedCopy step. */
  packedIn(ref: ValueRef, order: readonly number[]): ValueRef {
    if (sameOrder(packedOrder(ref), order, ref.dims)) return ref;
    const copy = this.arenaInOrder(ref.dtype, ref.dims, order);
    this.stridedCopy(ref, copy);
    return copy;
  }

  /** A plan value covering `ref`'s elements, which must be packed (in any order). */
  flat(ref: ValueRef): number {
    return this.slot(ref.root, ref.offset, elementCount(ref.dims));
  }

  input(index: number, dtype: DTypeName, dims: readonly number[]): ValueRef {
    return this.ref(this.add({ storage: Storage.Input, dtype, count: elementCount(dims), index, offset: 0 }), dims);
  }

  /** A constant: the model's own when registered, else copied into the plan. */
  constant(name: string | undefined, tensor: ConstTensor): ValueRef {
    const key = name !== undefined && this.modelConstants.has(name) ? `model:${name}` : undefined;
    const known = key ? this.slots.get(key) : undefined;
    if (known !== undefined) return this.ref(known, tensor.dims);
    let id: number;
    if (key) {
      id = this.add({ storage: Storage.Constant, dtype: tensor.dtype, count: tensor.data.length, index: this.modelConstants.get(name!)!, offset: 0 });
      this.slots.set(key, id);
    } else {
      const bytes = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength).slice();
      this.planConstants.push(bytes);
      id = this.add({ storage: Storage.PlanConstant, dtype: tensor.dtype, count: tensor.data.length, index: this.planConstants.length - 1, offset: 0 });
    }
    return this.ref(id, tensor.dims);
  }

  /** Marks `ref`'s root as run output `index` (the root must be an arena value holding exactly `ref`). */
  claimAsOutput(ref: ValueRef, index: number): boolean {
    const root = this.values[ref.root];
    if (root.storage !== Storage.Arena || ref.offset !== 0 || !isDense(ref) || root.count !== elementCount(ref.dims)) return false;
    root.storage = Storage.Output;
    root.index = index;
    return true;
  }

  output(index: number, dtype: DTypeName, dims: readonly number[]): ValueRef {
    return this.ref(this.add({ storage: Storage.Output, dtype, count: elementCount(dims), index, offset: 0 }), dims);
  }

  /** A plan value for [offset, offset + count) of root (the root itself when that is all of it). */
  private slot(root: number, offset: number, count: number): number {
    const base = this.values[root];
    if (offset === 0 && count === base.count) return root;
    const key = `view:${root}:${offset}:${count}`;
    const known = this.slots.get(key);
    if (known !== undefined) return known;
    const id = this.add({ storage: Storage.View, dtype: base.dtype, count, index: root, offset });
    this.slots.set(key, id);
    return id;
  }

  /** The elements `ref` may reach, as one plan value starting at its offset (for strided steps). */
  strided(ref: ValueRef): number {
    if (ref.strides.some((s) => s < 0)) return this.dense(ref);
    let reach = 1;
    if (ref.dims.every((d) => d > 0)) for (let d = 0; d < ref.dims.length; d++) reach += (ref.dims[d] - 1) * ref.strides[d];
    return this.slot(ref.root, ref.offset, Math.min(this.values[ref.root].count - ref.offset, Math.max(reach, 1)));
  }

  /** `ref` itself when dense, else a dense copy made by a StridedCopy step. */
  denseRef(ref: ValueRef): ValueRef {
    if (isDense(ref)) return ref;
    const key = `${ref.root}:${ref.offset}:${ref.dims}:${ref.strides}`;
    let copy = this.denseCache.get(key);
    if (!copy) {
      copy = this.arena(ref.dtype, ref.dims);
      this.stridedCopy(ref, copy);
      this.denseCache.set(key, copy);
    }
    return copy;
  }

  /** `ref` as a dense row-major plan value of exactly its elements. */
  dense(ref: ValueRef): number {
    const d = this.denseRef(ref);
    return this.slot(d.root, d.offset, elementCount(d.dims));
  }

  /** Copies `from` (any strides) into `to` (same dims, packed in any order). */
  stridedCopy(from: ValueRef, to: ValueRef): void {
    if (elementCount(from.dims) === 0) return;
    // Walk both in `to`'s memory order, so that the destination is written front to back.
    const order = packedOrder(to)!;
    const { dims, strides } = collapse(order.map((a) => from.dims[a]), [order.map((a) => from.strides[a])]);
    this.step('StridedCopy', [from.root], [this.flat(to)], [dims.length, ...dims, ...strides[0], from.offset]);
  }

  step(op: string, inputs: number[], outputs: number[], ints: number[] = [], floats: number[] = [], linear = -1): void {
    this.steps.push({ op, inputs, outputs, ints, floats, linear });
  }

  dtypeCode(dtype: DTypeName): number {
    const code = ENGINE_DTYPES[dtype];
    if (code === undefined) throw new RangeError(`the native engine does not compute with ${dtype} values`);
    return code;
  }
}

/**
 * Drops axes of size 1 and merges adjacent axes that every operand walks contiguously, so the
 * native loops see the fewest, longest rows (rank at least 1).
 */
export function collapse(dims: readonly number[], strides: readonly (readonly number[])[]): { dims: number[]; strides: number[][] } {
  const outDims: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < dims.length; d++) {
    if (dims[d] === 1) continue;
    const last = outDims.length - 1;
    if (last >= 0 && strides.every((s, o) => outStrides[o][last] === s[d] * dims[d])) {
      outDims[last] *= dims[d];
      strides.forEach((s, o) => { outStrides[o][last] = s[d]; });
      continue;
    }
    outDims.push(dims[d]);
    strides.forEach((s, o) => outStrides[o].push(s[d]));
  }
  if (outDims.length === 0) return { dims: [1], strides: strides.map(() => [0]) };
  return { dims: outDims, strides: outStrides };
}

export function checkEngineDType(node: string, op: string, dtype: DTypeName): void {
  if (!isEngineDType(dtype)) throw new LoweringError(node, op, `${dtype} values are not supported by the native engine`);
}

export { bytesPerElement };
