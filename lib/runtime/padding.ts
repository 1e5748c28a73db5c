// Padding for the dynamic batcher: requests that differ only in named dynamic dims (a sequence
// length) share a run, each padded up to the longest in the batch, and every output dim with the
// same name is cropped back to the request's own size. Opt-in per model (dynamic_batching.padding):
// only a model that masks its padding gives the same answers padded.
import type { ValueMetadata } from '../engine/engine';
import { elementCount, Feeds, HostTensor, TensorData, TensorType } from '../engine/tensor';
import { float32ToBfloat16, float32ToFloat16 } from '../onnx/float16';
import { ModelConfigError } from './config';

export interface PaddingConfig {
  /** Symbolic dim names of the model's inputs that requests may differ in. */
  dims: string[];
  /** Pad value per input name (default 0). */
  values: Record<string, number>;
}

/** Which axes of each input and output carry a padded dim, by dim name. */
export interface PaddingPlan {
  inputs: Record<string, { axis: number; dim: string }[]>;
  outputs: Record<string, { axis: number; dim: string }[]>;
  values: Record<string, number>;
}

function paddedAxes(meta: ValueMetadata, dims: readonly string[]): { axis: number; dim: string }[] {
  return (meta.shape ?? []).flatMap((d, axis) => (axis > 0 && typeof d === 'string' && dims.includes(d) ? [{ axis, dim: d }] : []));
}

/** The plan for a model; a named dim that no input carries, or a string input to pad, is a config error. */
export function paddingPlan(config: PaddingConfig, inputs: readonly ValueMetadata[], outputs: readonly ValueMetadata[], model: string): PaddingPlan {
  const plan: PaddingPlan = { inputs: {}, outputs: {}, values: config.values };
  for (const meta of inputs) {
    const axes = paddedAxes(meta, config.dims);
    if (axes.length && meta.type === 'string') throw new ModelConfigError(`model ${model}: dynamic_batching.padding cannot pad the string input ${meta.name}`);
    if (axes.length) plan.inputs[meta.name] = axes;
  }
  for (const dim of config.dims) {
    if (!Object.values(plan.inputs).some((axes) => axes.some((a) => a.dim === dim))) {
      throw new ModelConfigError(`model ${model}: dynamic_batching.padding.dims names "${dim}", which no input has as a dim after the batch dim`);
    }
  }
  for (const name of Object.keys(config.values)) {
    if (!inputs.some((m) => m.name === name)) throw new ModelConfigError(`model ${model}: dynamic_batching.padding.values names "${name}", which is not an input`);
  }
  for (const meta of outputs) {
    const axes = paddedAxes(meta, config.dims);
    if (axes.length) plan.outputs[meta.name] = axes;
  }
  return plan;
}

/** A request's size in each padded dim, read from its inputs. */
export function paddedSizes(plan: PaddingPlan, feeds: Feeds): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const [name, axes] of Object.entries(plan.inputs)) {
    const tensor = feeds[name];
    if (tensor) for (const { axis, dim } of axes) sizes[dim] = tensor.dims[axis];
  }
  return sizes;
}

/** batchKey's shape part for one input: padded axes match any size. */
export function paddedShapeKey(plan: PaddingPlan, name: string, dims: readonly number[]): string {
  const axes = plan.inputs[name];
  if (!axes) return dims.slice(1).join('x');
  return dims.slice(1).map((d, i) => (axes.some((a) => a.axis === i + 1) ? '*' : d)).join('x');
}

function strides(dims: readonly number[]): number[] {
  const out = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    out[i] = acc;
    acc *= dims[i];
  }
  return out;
}

type NumericData = Exclude<TensorData, string[]>;

/**
 * Copies the block `blockDims` between a dense tensor of `fromDims` starting at element `fromStart`
 * and one of `toDims` starting at `toStart`, one innermost row at a time.
 */
function copyBlock(from: NumericData, fromDims: readonly number[], fromStart: number, to: NumericData, toDims: readonly number[], toStart: number, blockDims: readonly number[]): void {
  const rank = blockDims.length;
  const inner = blockDims[rank - 1];
  const fs = strides(fromDims);
  const ts = strides(toDims);
  const outer = blockDims.slice(0, -1);
  const count = elementCount(outer);
  const index = new Array<number>(rank - 1).fill(0);
  for (let n = 0; n < count; n++) {
    let f = fromStart;
    let t = toStart;
    for (let k = 0; k < rank - 1; k++) {
      f += index[k] * fs[k];
      t += index[k] * ts[k];
    }
    (to as Float32Array).set((from as Float32Array).subarray(f, f + inner), t);
    for (let k = rank - 2; k >= 0; k--) {
      if (++index[k] < outer[k]) break;
      index[k] = 0;
    }
  }
}

type TypedArrayCtor = { new (length: number): NumericData };

function padValue(type: TensorType, value: number): number | bigint {
  if (type === 'float16') return float32ToFloat16([value])[0];
  if (type === 'bfloat16') return float32ToBfloat16([value])[0];
  if (type === 'int64' || type === 'uint64') return BigInt(Math.trunc(value));
  return value;
}

/** One feeds object for the batch: each request's rows, its padded dims filled up to the batch's largest with the input's pad value. */
export function concatPadded(plan: PaddingPlan, list: readonly Feeds[], sizes: readonly Record<string, number>[]): Feeds {
  const merged: Feeds = {};
  for (const name of Object.keys(list[0])) {
    const tensors = list.map((f) => f[name]);
    const axes = plan.inputs[name] ?? [];
    const dims = [...tensors[0].dims];
    dims[0] = tensors.reduce((sum, t) => sum + t.dims[0], 0);
    for (const { axis, dim } of axes) dims[axis] = Math.max(...sizes.map((s) => s[dim]));
    const first = tensors[0];
    const data = new (first.data.constructor as TypedArrayCtor)(elementCount(dims));
    const fill = padValue(first.type, plan.values[name] ?? 0);
    if (fill !== 0 && fill !== 0n) (data as Float32Array).fill(fill as number);
    const rowSize = elementCount(dims.slice(1));
    let row = 0;
    for (const t of tensors) {
      copyBlock(t.data as NumericData, t.dims, 0, data, dims, row * rowSize, t.dims);
      row += t.dims[0];
    }
    merged[name] = { type: first.type, dims, data };
  }
  return merged;
}

/** Request `rows` rows starting at `start` of a batch output, its padded dims cropped to `sizes`. */
export function cropRows(plan: PaddingPlan, name: string, tensor: HostTensor, start: number, rows: number, sizes: Record<string, number>): HostTensor | undefined {
  const axes = plan.outputs[name];
  if (!axes || axes.every(({ axis, dim }) => tensor.dims[axis] === sizes[dim])) return undefined;
  if (Array.isArray(tensor.data)) throw new Error(`output ${name}: string outputs cannot be cropped`);
  const dims = [...tensor.dims];
  dims[0] = rows;
  for (const { axis, dim } of axes) dims[axis] = Math.min(sizes[dim] ?? tensor.dims[axis], tensor.dims[axis]);
  const data = new (tensor.data.constructor as TypedArrayCtor)(elementCount(dims));
  copyBlock(tensor.data, tensor.dims, start * elementCount(tensor.dims.slice(1)), data, dims, 0, dims);
  return { type: tensor.type, dims, data };
}
