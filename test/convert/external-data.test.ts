// convertFile layouts: to external data (one file or one per tensor, threshold, location) and back inline,
// losslessly; and a generated model above 2 GiB, whose data file is sparse so that little is written.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { convertFile } from '../../lib/convert';
import { buildMlp, DataType, GraphBuilder, loadModel, proto, saveModel, serializeModel } from '../../lib/onnx';
import { makeTempDir, removeDir } from '../helpers/temp';
import { REAL, realModelsAbsent } from '../helpers/real-models';
import { testWhen } from '../helpers/skip';

let dir: string;
beforeEach(() => { dir = makeTempDir('onnxforge-layout-'); });
afterEach(() => removeDir(dir));

const read = (file: string) => Buffer.from(fs.readFileSync(file));
const locations = (file: string) => loadModel(file).graphs().flatMap((g) => g.graph.initializer)
  .filter((t) => t.dataLocation === proto.TensorProto_DataLocation.EXTERNAL)
  .map((t) => Object.fromEntries(t.externalData.map((e) => [e.key, e.value])));

testWhen(realModelsAbsent(REAL.vad), 'silero VAD: external data in one aligned file, then inline again, byte for byte', async () => {
  const external = path.join(dir, 'vad.onnx');
  const report = await convertFile(REAL.vad, external, { layout: 'external' });
  expect(report.layout).toBe('external');
  expect(report.dataFiles).toEqual([fs.realpathSync(`${external}.data`)]);
  const entries = locations(external);
  expect(entries.length).toBe(report.externalTensors);
  for (const e of entries) {
    expect(e.location).toBe('vad.onnx.data');
    expect(Number(e.offset) % 4096).toBe(0);
  }
  expect(fs.statSync(external).size).toBeLessThan(100_000);
  const inline = path.join(dir, 'inline.onnx');
  const back = await convertFile(external, inline, { layout: 'inline' });
  expect(back).toMatchObject({ layout: 'inline', dataFiles: [], externalTensors: 0 });
  expect(read(inline).equals(read(REAL.vad))).toBe(true);
});

test('one file per tensor, a size threshold, and a custom location', async () => {
  const source = path.join(dir, 'mlp.onnx');
  saveModel(buildMlp({ inputSize: 64, hidden: [64], outputSize: 8 }), source);
  const perTensor = await convertFile(source, path.join(dir, 'split.onnx'), { layout: 'external', external: { singleFile: false, threshold: 1024 } });
  // fc0.weight 16 KiB, fc1.weight 2 KiB; the biases are under 1 KiB and stay inline.
  expect(perTensor.externalTensors).toBe(2);
  expect(perTensor.dataFiles.map((f) => path.basename(f)).sort()).toEqual(['split.onnx.fc0.weight.data', 'split.onnx.fc1.weight.data']);
  const bigOnly = await convertFile(source, path.join(dir, 'big.onnx'), { layout: 'external', external: { threshold: 4096, location: 'weights.bin' } });
  expect(bigOnly.externalTensors).toBe(1);
  expect(locations(path.join(dir, 'big.onnx'))).toEqual([{ location: 'weights.bin', offset: '0', length: String(64 * 64 * 4) }]);
  await convertFile(path.join(dir, 'split.onnx'), path.join(dir, 'back.onnx'), { layout: 'inline' });
  expect(read(path.join(dir, 'back.onnx')).equals(read(source))).toBe(true);
});

test('a converted model keeps the external layout of its input unless told otherwise', async () => {
  const source = path.join(dir, 'mlp.onnx');
  saveModel(buildMlp({ inputSize: 64, hidden: [64], outputSize: 8 }), source, { externalData: true });
  const report = await convertFile(source, path.join(dir, 'half.onnx'), { float: { dtype: 'float16' } });
  expect(report.layout).toBe('external');
  expect(report.sizeRatio).toBeLessThan(0.6);
});

/** Memory-backed when there is room (so 2 GiB of writes cost little), else the usual temp folder. */
function roomyTempDir(): string {
  const shm = '/dev/shm';
  const free = fs.existsSync(shm) ? fs.statfsSync(shm).bavail * fs.statfsSync(shm).bsize : 0;
  return free > 8 * 2 ** 30 ? fs.mkdtempSync(path.join(shm, 'onnxforge-big-')) : makeTempDir('onnxforge-big-');
}

describe('a model above 2 GiB', () => {
  let bigDir: string;
  beforeEach(() => { bigDir = roomyTempDir(); });
  afterEach(() => removeDir(bigDir));

  const TENSOR_BYTES = 768 * 2 ** 20;
  const COUNT = 3; // 2.25 GiB in all
  const MARK = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);

  /** big.onnx naming a sparse big.onnx.data: only the marker bytes at each tensor's ends are written. */
  function writeBigModel(folder: string): string {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [1]);
    for (let i = 0; i < COUNT; i++) g.output(g.node('Shape', [g.initializer(`w${i}`, new Float32Array(1), [1])], [`shape${i}`]), 'int64', [1]);
    g.output(g.node('Identity', [x], ['y']), 'float32', [1]);
    const model = g.build();
    model.graph.initializer.forEach((t, i) => {
      t.dims = [BigInt(TENSOR_BYTES / 4)];
      t.rawData = new Uint8Array(0);
      t.dataLocation = proto.TensorProto_DataLocation.EXTERNAL;
      t.externalData = [['location', 'big.onnx.data'], ['offset', String(i * TENSOR_BYTES)], ['length', String(TENSOR_BYTES)]]
        .map(([key, value]) => create(proto.StringStringEntryProtoSchema, { key, value }));
    });
    const data = path.join(folder, 'big.onnx.data');
    const fd = fs.openSync(data, 'w');
    fs.ftruncateSync(fd, COUNT * TENSOR_BYTES);
    for (let i = 0; i < COUNT; i++) {
      fs.writeSync(fd, MARK, 0, 4, i * TENSOR_BYTES);
      fs.writeSync(fd, MARK, 0, 4, (i + 1) * TENSOR_BYTES - 4);
    }
    fs.closeSync(fd);
    const file = path.join(folder, 'big.onnx');
    fs.writeFileSync(file, toBinary(proto.ModelProtoSchema, model.proto));
    return file;
  }

  function expectMarks(file: string, offset: number): void {
    const fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(4);
    fs.readSync(fd, head, 0, 4, offset);
    fs.readSync(fd, tail, 0, 4, offset + TENSOR_BYTES - 4);
    fs.closeSync(fd);
    expect([...head, ...tail]).toEqual([...MARK, ...MARK]);
  }

  test('is rewritten to one file per tensor intact, and refused inline with a clear error', async () => {
    const big = writeBigModel(bigDir);
    const loaded = loadModel(big);
    expect(loaded.graph.initializer.every((t) => t.dataType === DataType.FLOAT)).toBe(true);
    expect(() => serializeModel(loaded)).toThrow(/2 GiB/);

    const split = path.join(bigDir, 'split.onnx');
    const report = await convertFile(big, split, { layout: 'external', external: { singleFile: false } });
    expect(report.bytesAfter).toBeGreaterThan(2 ** 31);
    expect(report.dataFiles.length).toBe(COUNT);
    for (let i = 0; i < COUNT; i++) {
      const file = path.join(bigDir, `split.onnx.w${i}.data`);
      expect(fs.statSync(file).size).toBe(TENSOR_BYTES);
      expectMarks(file, 0);
    }
    // Free the disk before the next step.
    fs.rmSync(path.join(bigDir, 'big.onnx.data'));
    await expect(convertFile(split, path.join(bigDir, 'inline.onnx'), { layout: 'inline' })).rejects.toThrow(/over protobuf's 2 GiB limit/);
    expect(fs.readdirSync(bigDir).filter((f) => f.startsWith('inline') || f.includes('.onnxforge-tmp-'))).toEqual([]);
  });
});
