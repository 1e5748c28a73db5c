import * as fs from 'node:fs';
import * as path from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  buildIfModel, buildMlp, ExternalDataError, isExternal, loadModel, proto, saveModel, serializeModel, type Model,
} from '../../lib/onnx';
import { floatInput, readBytes, runOrt, tempDir } from './helpers';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => { tmp = tempDir(); });
afterEach(() => tmp.cleanup());

const mlp = (): Model => buildMlp({ inputSize: 32, hidden: [64, 64], outputSize: 8, seed: 5 });

function entries(t: proto.TensorProto): Record<string, string> {
  return Object.fromEntries(t.externalData.map((e) => [e.key, e.value]));
}

function setLocation(t: proto.TensorProto, location: string, offset = 0, length?: number): void {
  t.dataLocation = proto.TensorProto_DataLocation.EXTERNAL;
  t.externalData = [
    create(proto.StringStringEntryProtoSchema, { key: 'location', value: location }),
    create(proto.StringStringEntryProtoSchema, { key: 'offset', value: String(offset) }),
    ...(length === undefined ? [] : [create(proto.StringStringEntryProtoSchema, { key: 'length', value: String(length) })]),
  ];
  t.rawData = new Uint8Array(0);
}

describe('external data', () => {
  test('single file: large initializers go out at aligned offsets, small stay inline, round trip is exact', async () => {
    const model = mlp();
    const inlineBytes = serializeModel(model);
    const file = path.join(tmp.dir, 'model.onnx');
    const result = saveModel(model, file, { externalData: true });
    expect(result.dataFiles).toEqual([path.join(fs.realpathSync(tmp.dir), 'model.onnx.data')]);
    expect(fs.readdirSync(tmp.dir).sort()).toEqual(['model.onnx', 'model.onnx.data']);
    // The in-memory model is untouched by saving.
    expect(serializeModel(model)).toEqual(inlineBytes);

    const loaded = loadModel(file);
    const external = loaded.graph.initializer.filter(isExternal);
    expect(external.map((t) => t.name)).toEqual(['fc0.weight', 'fc1.weight', 'fc2.weight']);
    for (const t of external) {
      const e = entries(t);
      expect(e.location).toBe('model.onnx.data');
      expect(Number(e.offset) % 4096).toBe(0);
      expect(BigInt(e.length)).toBe(t.dims.reduce((a, b) => a * b, 1n) * 4n);
    }
    expect(loaded.graph.initializer.filter((t) => !isExternal(t)).every((t) => t.rawData.length < 1024)).toBe(true);
    expect(fs.statSync(file).size).toBeLessThan(2048);
    // Values come back identical, and inlining again reproduces the original bytes.
    for (const name of model.initializerNames()) expect(loaded.initializer(name)!.data).toEqual(model.initializer(name)!.data);
    expect(serializeModel(loaded)).toEqual(inlineBytes);
    // onnxruntime reads the external data the same way.
    const feeds = { input: floatInput([3, 32]) };
    const [a, b] = [await runOrt(model, feeds), await runOrt(file, feeds)];
    expect(b.output.data).toEqual(a.output.data);
  });

  test('per-tensor files', async () => {
    const model = mlp();
    const file = path.join(tmp.dir, 'model.onnx');
    const result = saveModel(model, file, { externalData: { singleFile: false, threshold: 256 } });
    expect(fs.readdirSync(tmp.dir).sort()).toEqual([
      'model.onnx', 'model.onnx.fc0.bias.data', 'model.onnx.fc0.weight.data', 'model.onnx.fc1.bias.data', 'model.onnx.fc1.weight.data', 'model.onnx.fc2.weight.data',
    ]);
    expect(result.externalTensors).toBe(5);
    const loaded = loadModel(file);
    for (const t of loaded.graph.initializer.filter(isExternal)) expect(entries(t).offset).toBe('0');
    expect(serializeModel(loaded)).toEqual(serializeModel(model));
    const feeds = { input: floatInput([2, 32]) };
    expect((await runOrt(file, feeds)).output.data).toEqual((await runOrt(model, feeds)).output.data);
  });

  test('custom location, subgraph initializers, and re-saving to another folder', () => {
    const model = buildIfModel({ size: 512 });
    model.graph.node[0].attribute[1].g!.initializer[0] = create(proto.TensorProtoSchema, {
      name: 'three', dataType: proto.TensorProto_DataType.FLOAT, dims: [512n], rawData: new Uint8Array(2048).fill(7),
    });
    const file = path.join(tmp.dir, 'a.onnx');
    saveModel(model, file, { externalData: { location: 'weights.bin' } });
    const loaded = loadModel(file);
    const inner = loaded.graph.node[0].attribute[1].g!.initializer[0];
    expect(entries(inner).location).toBe('weights.bin');
    expect(Array.from(loaded.tensorBytes(inner).subarray(0, 3))).toEqual([7, 7, 7]);

    fs.mkdirSync(path.join(tmp.dir, 'other'));
    const second = path.join(tmp.dir, 'other', 'b.onnx');
    saveModel(loaded, second);
    expect(fs.readdirSync(path.join(tmp.dir, 'other')).sort()).toEqual(['b.onnx', 'b.onnx.data']);
    const third = path.join(tmp.dir, 'other', 'inline.onnx');
    saveModel(loadModel(second), third, { externalData: false });
    expect(readBytes(third)).toEqual(serializeModel(model));
  });

  test('re-saving over the data file the model still reads from', () => {
    const model = mlp();
    const file = path.join(tmp.dir, 'model.onnx');
    saveModel(model, file, { externalData: true });
    const loaded = loadModel(file);
    saveModel(loaded, file, { externalData: { alignment: 64 } });
    expect(serializeModel(loaded)).toEqual(serializeModel(model));
    expect(serializeModel(loadModel(file))).toEqual(serializeModel(model));
    expect(fs.readdirSync(tmp.dir).sort()).toEqual(['model.onnx', 'model.onnx.data']);
  });

  test('each range is read once and cached', () => {
    const file = path.join(tmp.dir, 'model.onnx');
    saveModel(mlp(), file, { externalData: true });
    const loaded = loadModel(file);
    const first = loaded.initializer('fc0.weight')!.data as Float32Array;
    const again = loaded.initializer('fc0.weight')!.data as Float32Array;
    expect(again.buffer).toBe(first.buffer);
  });

  test('data that changes on disk after loading is detected', () => {
    const file = path.join(tmp.dir, 'model.onnx');
    saveModel(mlp(), file, { externalData: true });
    const loaded = loadModel(file);
    fs.appendFileSync(`${file}.data`, 'x');
    expect(() => loaded.initializer('fc0.weight')).toThrow(/changed on disk/);
  });

  test('loading bytes needs baseDir to reach external data', () => {
    const file = path.join(tmp.dir, 'model.onnx');
    saveModel(mlp(), file, { externalData: true });
    const fromBytes = loadModel(readBytes(file));
    expect(() => fromBytes.initializer('fc0.weight')).toThrow(/pass baseDir/);
    const withBase = loadModel(readBytes(file), { baseDir: tmp.dir });
    expect(withBase.initializer('fc0.weight')!.data.length).toBe(32 * 64);
  });

  test('offsets beyond 4 GiB work (sparse data file, so nothing big is written)', () => {
    const offset = 5 * 2 ** 30 + 4096;
    const values = new Float32Array(32 * 64).map((_, i) => i * 0.5);
    const dataFile = path.join(tmp.dir, 'big.data');
    const fd = fs.openSync(dataFile, 'w');
    fs.writeSync(fd, new Uint8Array(values.buffer), 0, values.byteLength, offset);
    fs.closeSync(fd);
    const model = mlp();
    setLocation(model.graph.initializer[0], 'big.data', offset, values.byteLength);
    const file = path.join(tmp.dir, 'big.onnx');
    fs.writeFileSync(file, toBinary(proto.ModelProtoSchema, model.proto));
    const loaded = loadModel(file);
    expect(loaded.initializer('fc0.weight')!.data).toEqual(values);
    const copy = path.join(tmp.dir, 'copy.onnx');
    saveModel(loadModel(file), copy, { externalData: true });
    expect(entries(loadModel(copy).graph.initializer[0]).offset).toBe('0');
    expect(loadModel(copy).initializer('fc0.weight')!.data).toEqual(values);
  });

  describe('unsafe or broken locations are refused', () => {
    function modelWithLocation(location: string, offset = 0, length?: number): string {
      const model = mlp();
      setLocation(model.graph.initializer[0], location, offset, length);
      const file = path.join(tmp.dir, 'bad.onnx');
      fs.writeFileSync(file, toBinary(proto.ModelProtoSchema, model.proto));
      return file;
    }

    test.each([
      ['/etc/passwd', /is absolute/],
      ['../outside.bin', /outside the model's folder/],
      ['sub/../../outside.bin', /outside the model's folder/],
      ['..\\outside.bin', /outside the model's folder/],
      ['C:\\weights.bin', /is absolute/],
      ['', /not a valid file name/],
    ])('location %p', (location, pattern) => {
      const file = modelWithLocation(location);
      expect(() => loadModel(file)).toThrow(ExternalDataError);
      expect(() => loadModel(file)).toThrow(pattern);
      expect(() => loadModel(readBytes(file))).toThrow(pattern);
    });

    test('a symlink that leads out of the folder', () => {
      const outside = tempDir();
      try {
        fs.writeFileSync(path.join(outside.dir, 'secret.bin'), new Uint8Array(4096));
        fs.symlinkSync(path.join(outside.dir, 'secret.bin'), path.join(tmp.dir, 'link.bin'));
        expect(() => loadModel(modelWithLocation('link.bin'))).toThrow(/resolves outside the model's folder/);
      } finally {
        outside.cleanup();
      }
    });

    test('a missing data file', () => {
      expect(() => loadModel(modelWithLocation('absent.bin'))).toThrow(/absent.bin" cannot be opened/);
    });

    test('a range beyond the end of the file, and a wrong length', () => {
      fs.writeFileSync(path.join(tmp.dir, 'w.bin'), new Uint8Array(100));
      expect(() => loadModel(modelWithLocation('w.bin', 0, 32 * 64 * 4))).toThrow(/beyond the end/);
      fs.writeFileSync(path.join(tmp.dir, 'w.bin'), new Uint8Array(32 * 64 * 4 + 8));
      expect(() => loadModel(modelWithLocation('w.bin', 0, 32 * 64 * 4 + 8))).toThrow(/its shape needs 8192/);
      expect(() => loadModel(modelWithLocation('w.bin', 0, 32 * 64 * 4))).not.toThrow();
    });

    test('malformed offsets', () => {
      fs.writeFileSync(path.join(tmp.dir, 'w.bin'), new Uint8Array(10000));
      const model = mlp();
      setLocation(model.graph.initializer[0], 'w.bin');
      model.graph.initializer[0].externalData[1].value = '-4';
      const file = path.join(tmp.dir, 'bad.onnx');
      fs.writeFileSync(file, toBinary(proto.ModelProtoSchema, model.proto));
      expect(() => loadModel(file)).toThrow(/offset "-4" is not a non-negative integer/);
    });
  });
});
