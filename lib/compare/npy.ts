// Reads NumPy .npy files (format versions 1–3, little-endian, C order) into host tensors.
import type { HostTensor, TensorType } from '../engine/tensor';

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR_TYPES: Record<string, TensorType> = {
  '<f4': 'float32', '<f8': 'float64', '<f2': 'float16',
  '|i1': 'int8', '|u1': 'uint8', '<i2': 'int16', '<u2': 'uint16',
  '<i4': 'int32', '<u4': 'uint32', '<i8': 'int64', '<u8': 'uint64', '|b1': 'bool',
};

export class NpyFormatError extends Error {
  constructor(source: string, reason: string) {
    super(`${source}: not a readable .npy file: ${reason}`);
    this.name = 'NpyFormatError';
  }
}

function headerField(header: string, key: string): string | undefined {
  const match = new RegExp(`'${key}'\\s*:\\s*('[^']*'|True|False|\\([^)]*\\))`).exec(header);
  return match?.[1];
}

export function parseNpy(bytes: Uint8Array, source = 'npy'): HostTensor {
  if (bytes.length < 10 || NPY_MAGIC.some((b, i) => bytes[i] !== b)) throw new NpyFormatError(source, 'bad magic');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLenBytes = major === 1 ? 2 : 4;
  if (major < 1 || major > 3) throw new NpyFormatError(source, `unsupported version ${major}`);
  const headerLen = headerLenBytes === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + headerLenBytes + headerLen;
  if (dataStart > bytes.length) throw new NpyFormatError(source, 'truncated header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + headerLenBytes, dataStart));
  const descr = headerField(header, 'descr')?.slice(1, -1);
  const fortran = headerField(header, 'fortran_order');
  const shapeText = headerField(header, 'shape');
  if (!descr || !fortran || !shapeText) throw new NpyFormatError(source, 'header lacks descr, fortran_order or shape');
  const type = DESCR_TYPES[descr.replace(/^=/, '<')];
  if (!type) throw new NpyFormatError(source, `unsupported dtype ${descr} (little-endian numeric only)`);
  if (fortran === 'True') throw new NpyFormatError(source, 'Fortran-order arrays are not supported; save with C order');
  const dims = shapeText
    .slice(1, -1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const d = Number(s.replace(/L$/, ''));
      if (!Number.isSafeInteger(d) || d < 0) throw new NpyFormatError(source, `bad dimension ${s}`);
      return d;
    });
  const count = dims.reduce((a, b) => a * b, 1);
  const itemSize = Number(descr.slice(2));
  const byteLength = count * itemSize;
  if (dataStart + byteLength > bytes.length) throw new NpyFormatError(source, `truncated data (need ${byteLength} bytes)`);
  // Copy into a fresh, aligned buffer: the data offset in the file need not be aligned.
  // (Not bytes.slice: on a Node Buffer that is a view into a shared pool.)
  const copy = new Uint8Array(byteLength);
  copy.set(bytes.subarray(dataStart, dataStart + byteLength));
  const raw = copy.buffer;
  return { type, dims, data: typedArrayFor(type, raw) };
}

function typedArrayFor(type: TensorType, buffer: ArrayBuffer): HostTensor['data'] {
  switch (type) {
    case 'float32': return new Float32Array(buffer);
    case 'float64': return new Float64Array(buffer);
    case 'float16': case 'uint16': return new Uint16Array(buffer);
    case 'int8': return new Int8Array(buffer);
    case 'uint8': case 'bool': return new Uint8Array(buffer);
    case 'int16': return new Int16Array(buffer);
    case 'int32': return new Int32Array(buffer);
    case 'uint32': return new Uint32Array(buffer);
    case 'int64': return new BigInt64Array(buffer);
    case 'uint64': return new BigUint64Array(buffer);
    default: throw new Error(`no typed array for ${type}`);
  }
}

const TYPE_DESCRS = Object.fromEntries(Object.entries(DESCR_TYPES).map(([d, t]) => [t, d])) as Record<string, string>;

/** Writes a tensor as .npy version 1.0 (used by tests and to save generated inputs). */
export function encodeNpy(tensor: HostTensor): Uint8Array {
  const descr = TYPE_DESCRS[tensor.type];
  if (!descr || Array.isArray(tensor.data)) throw new Error(`cannot write ${tensor.type} as .npy`);
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const data = tensor.data as ArrayBufferView;
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(NPY_MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
