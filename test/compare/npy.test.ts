import { encodeNpy, NpyFormatError, parseNpy } from '../../lib/compare/npy';

describe('npy', () => {
  test('round trip of float32, int64 and uint8 tensors', () => {
    const cases = [
      { type: 'float32' as const, dims: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, 7]) },
      { type: 'int64' as const, dims: [3], data: BigInt64Array.from([1n, -5n, 1n << 40n]) },
      { type: 'uint8' as const, dims: [], data: Uint8Array.from([200]) },
    ];
    for (const tensor of cases) {
      const back = parseNpy(encodeNpy(tensor));
      expect(back.type).toBe(tensor.type);
      expect(back.dims).toEqual(tensor.dims);
      expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(tensor.data as ArrayLike<unknown>));
    }
  });

  test('reads a header written by numpy (version 1.0, padded, float64)', () => {
    const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
    const padded = header + ' '.repeat(117 - header.length) + '\n';
    const bytes = new Uint8Array(10 + padded.length + 16);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
    new DataView(bytes.buffer).setUint16(8, padded.length, true);
    bytes.set(new TextEncoder().encode(padded), 10);
    new Float64Array(bytes.buffer, 10 + padded.length, 2).set([0.5, -1.25]);
    const t = parseNpy(bytes);
    expect(t.type).toBe('float64');
    expect(Array.from(t.data as Float64Array)).toEqual([0.5, -1.25]);
  });

  test('malformed files give a clear error', () => {
    const good = encodeNpy({ type: 'float32', dims: [4], data: new Float32Array(4) });
    expect(() => parseNpy(new Uint8Array([1, 2, 3]), 'x.npy')).toThrow(NpyFormatError);
    expect(() => parseNpy(good.subarray(0, good.length - 3), 'x.npy')).toThrow(/truncated data/);
    const bigEndian = new Uint8Array(good);
    bigEndian.set(new TextEncoder().encode('>f4'), good.indexOf(0x3c));
    expect(() => parseNpy(bigEndian, 'x.npy')).toThrow(/unsupported dtype/);
  });
});
