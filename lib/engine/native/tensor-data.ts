// Small constant tensors as the lowering sees them: folded shapes, attribute values, weights.
import { dtypeInfo, type DTypeName, type TypedArray, type TypedArrayConstructor } from '../../onnx/dtype';
import { elementCount } from '../../onnx/tensor';

export interface ConstTensor {
  dtype: DTypeName;
  dims: number[];
  data: TypedArray;
}

/** The element types the native engine computes with, and their ONNX codes. */
export const ENGINE_DTYPES: Partial<Record<DTypeName, number>> = {
  float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9,
};

export function isEngineDType(dtype: DTypeName): boolean {
  return ENGINE_DTYPES[dtype] !== undefined;
}

export function bytesPerElement(dtype: DTypeName): number {
  return dtypeInfo(dtype).bits / 8;
}

function arrayOf(dtype: DTypeName): TypedArrayConstructor {
  const ctor = dtypeInfo(dtype).array;
  if (!ctor || dtypeInfo(dtype).bits < 8) throw new RangeError(`no typed array holds ${dtype} elements`);
  return ctor;
}

export function emptyTensor(dtype: DTypeName, dims: readonly number[]): ConstTensor {
  return { dtype, dims: [...dims], data: new (arrayOf(dtype))(elementCount(dims)) };
}

/** A tensor from plain numbers (int64 values become BigInts). */
export function tensorFrom(dtype: DTypeName, dims: readonly number[], values: ArrayLike<number>): ConstTensor {
  const t = emptyTensor(dtype, dims);
  if (values.length !== t.data.length) throw new RangeError(`${values.length} values for shape [${dims}]`);
  setValues(t, values);
  return t;
}

export function scalarTensor(dtype: DTypeName, value: number): ConstTensor {
  return tensorFrom(dtype, [], [value]);
}

/** Elements as numbers (int64 beyond 2^53 loses precision; shapes never get there). */
export function valuesOf(t: ConstTensor): number[] {
  const out = new Array<number>(t.data.length);
  for (let i = 0; i < t.data.length; i++) out[i] = Number(t.data[i]);
  return out;
}

export function setValues(t: ConstTensor, values: ArrayLike<number>): void {
  const data = t.data;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < values.length; i++) data[i] = BigInt(Math.trunc(values[i]));
  } else if (t.dtype === 'bool') {
    for (let i = 0; i < values.length; i++) data[i] = values[i] ? 1 : 0;
  } else {
    for (let i = 0; i < values.length; i++) (data as Float32Array)[i] = values[i];
  }
}

export function isIntegerType(dtype: DTypeName): boolean {
  return dtype === 'int64' || dtype === 'int32' || dtype === 'int8' || dtype === 'uint8' || dtype === 'int16' ||
    dtype === 'uint16' || dtype === 'uint32' || dtype === 'uint64';
}

/** Row-major strides of dims, in elements. */
export function stridesOf(dims: readonly number[]): number[] {
  const strides = new Array<number>(dims.length);
  let s = 1;
  for (let d = dims.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= dims[d];
  }
  return strides;
}
