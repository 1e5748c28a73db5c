// The safetensors reader and writer: round trips, alignment, and refusal of headers that lie.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SafetensorsFile, writeSafetensors } from '../../lib/convert';
import { makeTempDir, removeDir } from '../helpers/temp';

let dir: string;
beforeEach(() => { dir = makeTempDir('onnxforge-st-'); });
afterEach(() => removeDir(dir));

/** A file written by hand: header object, then the data bytes. */
function handMade(header: unknown, data: Uint8Array, options: { lengthOverride?: bigint; raw?: string } = {}): string {
  const json = Buffer.from(options.raw ?? JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(options.lengthOverride ?? BigInt(json.length));
  const file = path.join(dir, `hand-${Math.random().toString(36).slice(2)}.safetensors`);
  fs.writeFileSync(file, Buffer.concat([prefix, json, Buffer.from(data)]));
  return file;
}

const f32 = (...values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

test('round trip: dtypes, shapes, metadata, scalars and empty tensors', () => {
  const file = path.join(dir, 'w.safetensors');
  const int8 = Int8Array.of(-1, 2, -3);
  const i64 = BigInt64Array.of(-5n, 1n << 40n);
  writeSafetensors(file, [
    { name: 'b.int8', dtype: 'int8', dims: [3], bytes: () => new Uint8Array(int8.buffer) },
    { name: 'a.weight', dtype: 'float32', dims: [2, 2], bytes: () => f32(1, 2, 3, 4) },
    { name: 'c.scalar', dtype: 'float16', dims: [], bytes: () => Uint8Array.of(0x00, 0x3c) },
    { name: 'd.i64', dtype: 'int64', dims: [2], bytes: () => new Uint8Array(i64.buffer) },
    { name: 'e.empty', dtype: 'float32', dims: [0, 4], bytes: () => new Uint8Array(0) },
  ], { note: 'hi' });
  const bytes = fs.readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  expect((8 + headerLength) % 8).toBe(0);
  const read = SafetensorsFile.open(file);
  expect(read.metadata).toEqual({ note: 'hi' });
  expect(read.entries.map((e) => [e.name, e.dtype, e.shape])).toEqual([
    ['d.i64', 'int64', [2]], ['a.weight', 'float32', [2, 2]], ['e.empty', 'float32', [0, 4]], ['c.scalar', 'float16', []], ['b.int8', 'int8', [3]],
  ]);
  for (const e of read.entries) expect(e.begin % (e.dtype === 'int64' ? 8 : e.dtype === 'float32' ? 4 : 1)).toBe(0);
  expect(Array.from(new Float32Array(read.read('a.weight').slice().buffer))).toEqual([1, 2, 3, 4]);
  expect(Array.from(new BigInt64Array(read.read('d.i64').slice().buffer))).toEqual([-5n, 1n << 40n]);
  expect(Array.from(read.read('c.scalar'))).toEqual([0x00, 0x3c]);
  expect(read.read('e.empty').byteLength).toBe(0);
});

test('a well-formed hand-made file with space padding reads', () => {
  const file = handMade(undefined, f32(7, 8), { raw: '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}   ' });
  expect(Array.from(new Float32Array(SafetensorsFile.open(file).read('w').slice().buffer))).toEqual([7, 8]);
});

describe('headers that lie are refused', () => {
  const entry = (dtype: string, shape: number[], offsets: number[]) => ({ dtype, shape, data_offsets: offsets });
  test.each([
    ['a size that disagrees with the shape', { w: entry('F32', [3], [0, 8]) }, f32(1, 2), /hold 8 bytes, its F32 shape \[3\] needs 12/],
    ['offsets past the data', { w: entry('F32', [2], [0, 8]), v: entry('F32', [1], [8, 12]) }, f32(1, 2), /past the end of the 8-byte data buffer/],
    ['overlapping tensors', { w: entry('F32', [2], [0, 8]), v: entry('F32', [1], [4, 8]) }, f32(1, 2), /overlap/],
    ['a gap between tensors', { w: entry('F32', [1], [0, 4]), v: entry('F32', [1], [8, 12]) }, f32(1, 2, 3), /gap after byte 4/],
    ['trailing bytes nobody owns', { w: entry('F32', [1], [0, 4]) }, f32(1, 2), /holds 8 bytes but the tensors account for 4/],
    ['reversed offsets', { w: entry('F32', [0], [4, 0]) }, f32(1), /not \[begin, end\]/],
    ['an unknown dtype', { w: entry('Q4', [1], [0, 1]) }, new Uint8Array(1), /unsupported dtype "Q4"/],
    ['a negative dimension', { w: entry('F32', [-1], [0, 4]) }, f32(1), /shape \[-1\]/],
    ['an unknown field', { w: { ...entry('F32', [1], [0, 4]), extra: 1 } }, f32(1), /unknown header field "extra"/],
    ['non-string metadata', { __metadata__: { a: 1 }, w: entry('F32', [1], [0, 4]) }, f32(1), /__metadata__ value of "a"/],
  ])('%s', (_label, header, data, message) => {
    expect(() => SafetensorsFile.open(handMade(header, data))).toThrow(message);
  });

  test('a header length beyond the file', () => {
    expect(() => SafetensorsFile.open(handMade({}, new Uint8Array(0), { lengthOverride: 1000n }))).toThrow(/runs past the end/);
  });
  test('a header length over the 100 MB cap', () => {
    expect(() => SafetensorsFile.open(handMade({}, new Uint8Array(0), { lengthOverride: 1n << 40n }))).toThrow(/over the 100000000-byte limit/);
  });
  test('a header that is not JSON', () => {
    expect(() => SafetensorsFile.open(handMade(undefined, new Uint8Array(0), { raw: '{"w": ' }))).toThrow(/not valid JSON/);
  });
  test('a file too short to hold a header', () => {
    const file = path.join(dir, 'short.safetensors');
    fs.writeFileSync(file, Buffer.from([1, 2, 3]));
    expect(() => SafetensorsFile.open(file)).toThrow(/too short/);
  });
  test('a missing file', () => {
    expect(() => SafetensorsFile.open(path.join(dir, 'nope.safetensors'))).toThrow(/cannot open safetensors file/);
  });
});

test('the writer refuses duplicate names, reserved names and wrong byte counts, leaving no file', () => {
  const file = path.join(dir, 'bad.safetensors');
  const t = (name: string, bytes = f32(1)) => ({ name, dtype: 'float32' as const, dims: [1], bytes: () => bytes });
  expect(() => writeSafetensors(file, [t('a'), t('a')])).toThrow(/two tensors are named "a"/);
  expect(() => writeSafetensors(file, [t('__metadata__')])).toThrow(/cannot be named/);
  expect(() => writeSafetensors(file, [t('a', f32(1, 2))])).toThrow(/8 bytes given, its shape needs 4/);
  expect(() => writeSafetensors(file, [{ name: 'n', dtype: 'int4', dims: [2], bytes: () => new Uint8Array(1) }])).toThrow(/no int4 dtype/);
  expect(fs.readdirSync(dir)).toEqual([]);
});
