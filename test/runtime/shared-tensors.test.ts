// SharedWriter/SharedReader over real shared regions: tensors of every numeric kind survive the trip
// bit for bit; a block in use is never reused or replaced under the reader (the batch goes over IPC
// instead); an idle region grows for a batch that does not fit; strings never go this way.
import type { HostTensor } from '../../lib/engine/tensor';
import { SharedReader, SharedWriter } from '../../lib/runtime/shared-tensors';
import { describeWhen } from '../helpers/skip';

const tensors: Record<string, HostTensor> = {
  f32: { type: 'float32', dims: [2, 3], data: Float32Array.of(1.5, -0, NaN, Infinity, -3e-40, 7) },
  f64: { type: 'float64', dims: [1], data: Float64Array.of(Math.PI) },
  f16: { type: 'float16', dims: [2], data: Uint16Array.of(0x3c00, 0xfc00) },
  i8: { type: 'int8', dims: [3], data: Int8Array.of(-128, 0, 127) },
  bool: { type: 'bool', dims: [2], data: Uint8Array.of(1, 0) },
  i64: { type: 'int64', dims: [2], data: BigInt64Array.of(-(2n ** 63n), 2n ** 62n + 1n) },
  u64: { type: 'uint64', dims: [1], data: BigUint64Array.of(2n ** 64n - 1n) },
  // A view into the middle of a larger buffer: only its own bytes travel.
  offsetView: { type: 'int32', dims: [2], data: new Int32Array(Int32Array.of(9, 10, 11, 12).buffer, 4, 2) },
};

function bytesOf(t: HostTensor): Buffer {
  const data = t.data as Exclude<HostTensor['data'], string[]>;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

describeWhen(process.platform === 'linux' ? undefined : 'shared memory regions are Linux only', 'shared tensors', () => {
  let writer: SharedWriter;
  let reader: SharedReader;
  beforeEach(() => {
    writer = new SharedWriter(true);
    reader = new SharedReader();
  });
  afterEach(() => {
    writer.close();
    reader.close();
  });

  test('every numeric kind arrives with the same type, dims, array kind and bytes, as a view and as a copy', () => {
    const batch = writer.write(tensors)!;
    expect(batch).toBeDefined();
    const views = reader.view(batch);
    const copies = reader.copy(batch);
    for (const [name, t] of Object.entries(tensors)) {
      for (const got of [views[name], copies[name]]) {
        expect([name, got.type, got.dims, got.data.constructor]).toEqual([name, t.type, t.dims, t.data.constructor]);
        expect(bytesOf(got).equals(bytesOf(t))).toBe(true);
      }
    }
    // A copy owns its memory; a view does not.
    expect((copies.f32.data as Float32Array).buffer.byteLength).toBe(24);
    expect((views.f32.data as Float32Array).buffer.byteLength).toBe(batch.region.byteLength);
  });

  test('a batch that does not fit while a block is in use goes over IPC; once released, the region grows for it', () => {
    const small = writer.write({ x: { type: 'float32', dims: [4], data: new Float32Array(4) } })!;
    const big: Record<string, HostTensor> = { x: { type: 'float32', dims: [1024, 1024], data: Float32Array.from({ length: 1 << 20 }, (_, i) => i) } };
    expect(writer.write(big)).toBeUndefined();
    writer.release(small.region, small.block);
    const grown = writer.write(big)!;
    expect(grown.region.generation).toBe(small.region.generation + 1);
    expect(grown.region.byteLength).toBe(8 << 20);
    expect(bytesOf(reader.copy(grown).x).equals(bytesOf(big.x))).toBe(true);
  });

  test('blocks in use are never handed out again: two batches in flight lie in disjoint bytes', () => {
    const one = writer.write({ x: { type: 'uint8', dims: [1000], data: new Uint8Array(1000).fill(1) } })!;
    const two = writer.write({ x: { type: 'uint8', dims: [1000], data: new Uint8Array(1000).fill(2) } })!;
    expect(two.region.generation).toBe(one.region.generation);
    const [a, b] = [one.tensors.x.offset, two.tensors.x.offset].sort((p, q) => p - q);
    expect(b - a).toBeGreaterThanOrEqual(1000);
    expect((reader.view(one).x.data as Uint8Array).every((v) => v === 1)).toBe(true);
  });

  test('string tensors, and a writer that is off, give undefined: the caller sends them in the message', () => {
    expect(writer.write({ s: { type: 'string', dims: [1], data: ['a'] } })).toBeUndefined();
    expect(new SharedWriter(false).write({ x: tensors.f32 })).toBeUndefined();
  });

  test('a release for a replaced region is ignored (it cannot free a block of the new one)', () => {
    const first = writer.write({ x: tensors.f32 })!;
    writer.release(first.region, first.block);
    writer.close();
    const second = writer.write({ x: tensors.f32 })!;
    expect(() => writer.release(first.region, first.block)).not.toThrow();
    expect(() => writer.release(second.region, second.block)).not.toThrow();
    expect(() => writer.release(second.region, second.block)).toThrow(/no block/);
  });
});
