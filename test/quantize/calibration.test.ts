// Calibration pieces: running histograms, percentile and entropy thresholds, .npz archives,
// sample folders and batching.
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { toBinary } from '@bufbuild/protobuf';
import { encodeNpy } from '../../lib/compare/npy';
import { makeTensor, proto } from '../../lib/onnx';
import type { ValueMetadata } from '../../lib/engine/engine';
import type { Feeds } from '../../lib/engine/tensor';
import { makeBatches } from '../../lib/quantize/calibration/batches';
import { entropyThreshold } from '../../lib/quantize/calibration/entropy';
import { percentileThreshold, TensorStats } from '../../lib/quantize/calibration/histogram';
import { parseNpz } from '../../lib/quantize/calibration/npz';
import { readCalibrationDir } from '../../lib/quantize/calibration/samples';
import { makeTempDir, removeDir } from '../helpers/temp';
import { floats } from './helpers';

const { TensorProtoSchema } = proto;

/** Standard normal values with a few far outliers. */
function gaussianWithOutliers(count: number): Float32Array {
  const u = floats(count * 2, 11);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const a = (u[2 * i] + 1) / 2 || 1e-9;
    out[i] = Math.sqrt(-2 * Math.log(a)) * Math.cos(Math.PI * (u[2 * i + 1] + 1));
  }
  out[0] = 40;
  out[1] = -25;
  return out;
}

describe('TensorStats', () => {
  it('keeps signed min/max and re-bins |x| when a later batch reaches further', () => {
    const s = new TensorStats(128, true);
    s.add(Float32Array.from([0.1, -0.5, 0.9]));
    expect(s.edge).toBeCloseTo(0.9, 6);
    s.add(Float32Array.from([3.6, -0.2]));
    expect([s.min, s.max]).toEqual([Math.fround(-0.5), Math.fround(3.6)]);
    expect(s.edge).toBeCloseTo(3.6, 6);
    expect(s.counts.reduce((a, b) => a + b, 0)).toBe(5);
    expect(s.counts[127]).toBe(1);
  });

  it('ignores empty tensors and tells whether anything was seen', () => {
    const s = new TensorStats(128, false);
    s.add(new Float32Array(0));
    expect(s.observed).toBe(false);
    s.add(Float32Array.of(2));
    expect(s.observed).toBe(true);
    expect(s.counts).toHaveLength(0);
  });
});

describe('thresholds', () => {
  const stats = new TensorStats(2048, true);
  stats.add(gaussianWithOutliers(20000));

  it('percentile keeps the bulk and drops the outliers', () => {
    const t = percentileThreshold(stats, 99.9);
    expect(t).toBeGreaterThan(2.5);
    expect(t).toBeLessThan(5);
    expect(percentileThreshold(stats, 100)).toBeCloseTo(40, 3);
  });

  it('entropy clips far below the largest value but above the bulk', () => {
    const t = entropyThreshold(stats);
    expect(t).toBeGreaterThan(2);
    expect(t).toBeLessThan(20);
  });

  it('entropy keeps the whole range of a uniform distribution', () => {
    const uniform = new TensorStats(2048, true);
    uniform.add(floats(50000, 3));
    expect(entropyThreshold(uniform)).toBeGreaterThan(0.9);
  });
});

/** A minimal zip writer (stored or deflated members) in the layout numpy's savez produces. */
/** `declared` overrides the uncompressed sizes the archive states, as a hostile archive may. */
function zip(members: Record<string, Uint8Array>, deflate: boolean, declared: Record<string, number> = {}): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(members)) {
    const body = deflate ? zlib.deflateRawSync(data) : Buffer.from(data);
    const nameBytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(declared[name] ?? data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    locals.push(local, nameBytes, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(deflate ? 8 : 0, 10);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(declared[name] ?? data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(members).length, 8);
  end.writeUInt16LE(Object.keys(members).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, directory, end]));
}

const x = { type: 'float32' as const, dims: [1, 4], data: Float32Array.from([1, 2, 3, 4]) };
const sr = { type: 'int64' as const, dims: [], data: BigInt64Array.of(16000n) };

describe('parseNpz', () => {
  // A zip bomb in miniature: 1 MiB of zeros deflates to about a kilobyte.
  const zeros = encodeNpy({ type: 'float32', dims: [256, 1024], data: new Float32Array(256 * 1024) });

  it('refuses an archive whose members would inflate past maxBytes, before inflating', () => {
    const bomb = zip({ 'x.npy': zeros }, true);
    expect(bomb.length).toBeLessThan(zeros.length / 100);
    expect(() => parseNpz(bomb, 'bomb.npz', { maxBytes: 64 * 1024 })).toThrow(/bomb.npz: .*1048704 bytes decompressed, over the 65536-byte limit/);
    expect(parseNpz(bomb, 'bomb.npz', { maxBytes: zeros.length }).get('x')?.dims).toEqual([256, 1024]);
  });

  it('stops inflating a member at the size it declares, so a lying header cannot exhaust memory', () => {
    const liar = zip({ 'x.npy': zeros }, true, { 'x.npy': 1000 });
    expect(() => parseNpz(liar, 'liar.npz', { maxBytes: 64 * 1024 })).toThrow(/liar.npz: not a readable .npz file: entry x.npy inflates past its declared 1000 bytes/);
  });

  it.each([false, true])('reads stored and deflated members (deflate %p)', (deflate) => {
    const arrays = parseNpz(zip({ 'x.npy': encodeNpy(x), 'sr.npy': encodeNpy(sr) }, deflate));
    expect([...arrays.keys()]).toEqual(['x', 'sr']);
    expect(arrays.get('x')).toEqual(x);
    expect(arrays.get('sr')?.data).toEqual(BigInt64Array.of(16000n));
  });

  it('names the problem with a damaged archive', () => {
    expect(() => parseNpz(Uint8Array.from([1, 2, 3]), 'bad.npz')).toThrow(/bad.npz: not a readable .npz file/);
    const good = zip({ 'x.npy': encodeNpy(x) }, true);
    expect(() => parseNpz(good.slice(0, good.length - 30), 'cut.npz')).toThrow(/cut.npz/);
  });
});

describe('readCalibrationDir', () => {
  const inputs: ValueMetadata[] = [{ name: 'x', type: 'float32', shape: ['n', 4] }, { name: 'sr', type: 'int64', shape: [] }];
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => removeDir(dir));

  it('reads folders of .npy/.npz/.pb files and top-level .npz samples, in name order', () => {
    fs.mkdirSync(path.join(dir, 'a'));
    fs.writeFileSync(path.join(dir, 'a', 'x.npy'), encodeNpy(x));
    fs.writeFileSync(path.join(dir, 'a', 'sr.npz'), zip({ 'arr_0.npy': encodeNpy(sr) }, false));
    fs.mkdirSync(path.join(dir, 'b'));
    fs.writeFileSync(path.join(dir, 'b', 'sample.npz'), zip({ 'x.npy': encodeNpy(x), 'sr.npy': encodeNpy(sr) }, true));
    fs.writeFileSync(path.join(dir, 'c.npz'), zip({ 'x.npy': encodeNpy(x), 'sr.npy': encodeNpy(sr) }, false));
    fs.mkdirSync(path.join(dir, 'd'));
    fs.writeFileSync(path.join(dir, 'd', 'input_0.pb'), toBinary(TensorProtoSchema, makeTensor('x', x.data, x.dims)));
    fs.writeFileSync(path.join(dir, 'd', 'input_1.pb'), toBinary(TensorProtoSchema, makeTensor('sr', sr.data, sr.dims)));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
    const samples = readCalibrationDir(dir, inputs);
    expect(samples).toHaveLength(4);
    expect(samples[3].sr.data).toEqual(BigInt64Array.of(16000n));
    for (const s of samples) expect(s.x).toEqual(x);
  });

  it('says which input is missing and refuses the wrong type', () => {
    fs.mkdirSync(path.join(dir, 'a'));
    fs.writeFileSync(path.join(dir, 'a', 'x.npy'), encodeNpy(x));
    expect(() => readCalibrationDir(dir, inputs)).toThrow(/no file for input sr/);
    fs.writeFileSync(path.join(dir, 'a', 'sr.npy'), encodeNpy(x));
    expect(() => readCalibrationDir(dir, inputs)).toThrow(/sr wants int64, the file holds float32/);
  });

  it('refuses an empty folder', () => {
    expect(() => readCalibrationDir(dir, inputs)).toThrow(/no samples/);
  });
});

describe('makeBatches', () => {
  const inputs: ValueMetadata[] = [{ name: 'x', type: 'float32', shape: ['batch', 2] }];
  const sample = (v: number, rows = 1): Feeds => ({ x: { type: 'float32', dims: [rows, 2], data: new Float32Array(rows * 2).fill(v) } });

  it('stacks samples along a free batch axis, up to the batch size', () => {
    const batches = makeBatches([sample(1), sample(2), sample(3, 2)], inputs, 2);
    expect(batches.map((b) => b.x.dims)).toEqual([[2, 2], [2, 2]]);
    expect(Array.from(batches[0].x.data as Float32Array)).toEqual([1, 1, 2, 2]);
  });

  it('runs samples one by one when the leading dimension is fixed', () => {
    const fixed: ValueMetadata[] = [{ name: 'x', type: 'float32', shape: [1, 2] }];
    expect(makeBatches([sample(1), sample(2)], fixed, 8)).toHaveLength(2);
  });
});
