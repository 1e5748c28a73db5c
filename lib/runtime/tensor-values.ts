// Plain JSON values <-> host tensors, with the checks a request from the network needs.
import { HostTensor, TensorData, TensorType } from '../engine/tensor';
import { bfloat16ToFloat32, float16ToFloat32, float32ToBfloat16, float32ToFloat16 } from '../onnx/float16';
import { InvalidRequestError } from './errors';

const INTEGER_RANGES: Partial<Record<TensorType, [number, number]>> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535],
  int32: [-2147483648, 2147483647], uint32: [0, 4294967295],
};

function fail(what: string, index: number, expected: string, value: unknown): never {
  const shown = JSON.stringify(value);
  throw new InvalidRequestError(`${what}: element ${index} must be ${expected}, got ${shown === undefined ? String(value) : shown.slice(0, 40)}`);
}

function floats(values: readonly unknown[], what: string): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number') fail(what, i, 'a number', v);
    out[i] = v;
  }
  return out;
}

function bigints(values: readonly unknown[], what: string, unsigned: boolean): bigint[] {
  return values.map((v, i) => {
    if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
    if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) return BigInt(v);
    return fail(what, i, unsigned ? 'an unsigned integer' : 'an integer', v);
  }).map((b, i) => {
    const min = unsigned ? 0n : -(1n << 63n);
    const max = unsigned ? (1n << 64n) - 1n : (1n << 63n) - 1n;
    if (b < min || b > max) fail(what, i, `within ${unsigned ? 'uint64' : 'int64'} range`, values[i]);
    return b;
  });
}

/** Builds a tensor of `type` from a flat list of JSON values; `what` names it in errors. */
export function tensorFromValues(type: TensorType, dims: readonly number[], values: readonly unknown[], what: string): HostTensor {
  let data: TensorData;
  switch (type) {
    case 'float32': data = Float32Array.from(floats(values, what)); break;
    case 'float64': data = floats(values, what); break;
    case 'float16': data = float32ToFloat16(floats(values, what)); break;
    case 'bfloat16': data = float32ToBfloat16(floats(values, what)); break;
    case 'int64': data = BigInt64Array.from(bigints(values, what, false)); break;
    case 'uint64': data = BigUint64Array.from(bigints(values, what, true)); break;
    case 'bool': {
      const out = new Uint8Array(values.length);
      values.forEach((v, i) => {
        if (v === true || v === 1) out[i] = 1;
        else if (v !== false && v !== 0) fail(what, i, 'true or false', v);
      });
      data = out;
      break;
    }
    case 'string':
      values.forEach((v, i) => {
        if (typeof v !== 'string') fail(what, i, 'a string', v);
      });
      data = values as string[];
      break;
    default: {
      const [min, max] = INTEGER_RANGES[type]!;
      const Ctor = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array }[type as 'int8'];
      const out = new Ctor(values.length);
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(what, i, `an integer in ${min}..${max}`, v);
        out[i] = v;
      }
      data = out;
    }
  }
  return { type, dims: [...dims], data };
}

/** A tensor's values as plain JSON values (int64 beyond 2^53 loses precision, like every JSON client would). */
export function valuesOf(tensor: HostTensor): (number | boolean | string)[] {
  const { data } = tensor;
  if (Array.isArray(data)) return data;
  if (tensor.type === 'bool') return Array.from(data as Uint8Array, (v) => v !== 0);
  if (tensor.type === 'float16') return Array.from(float16ToFloat32(data as Uint16Array));
  if (tensor.type === 'bfloat16') return Array.from(bfloat16ToFloat32(data as Uint16Array));
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, Number);
  return Array.from(data as ArrayLike<number>);
}
