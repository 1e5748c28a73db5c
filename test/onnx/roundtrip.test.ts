import * as fs from 'node:fs';
import * as path from 'node:path';
import { toBinary } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import {
  buildConvNet, buildIfModel, buildMlp, buildTransformerBlock, loadModel, saveModel, serializeModel, proto, type Model,
} from '../../lib/onnx';
import { floatInput, readBytes, runOrt, tempDir } from './helpers';

const builders: [string, () => Model, () => Record<string, ort.Tensor>][] = [
  ['mlp', () => buildMlp({ inputSize: 8, hidden: [16], outputSize: 4, seed: 3 }), () => ({ input: floatInput([2, 8]) })],
  ['transformer', () => buildTransformerBlock({ seq: 4, hidden: 16, heads: 2, ffn: 32, seed: 3 }), () => ({ input: floatInput([1, 4, 16]) })],
  ['convnet', () => buildConvNet({ channels: 3, size: 8, classes: 3, seed: 3 }), () => ({ input: floatInput([1, 3, 8, 8]) })],
  ['if', () => buildIfModel({ nested: true }), () => ({ cond: new ort.Tensor('bool', new Uint8Array([1]), []), x: floatInput([4]) })],
];

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => { tmp = tempDir(); });
afterEach(() => tmp.cleanup());

describe('load -> save -> load is lossless', () => {
  test.each(builders)('%s: byte-identical protobuf and identical outputs', async (_name, build, feeds) => {
    const original = build();
    const bytes = serializeModel(original);
    const file = path.join(tmp.dir, 'model.onnx');
    saveModel(loadModel(bytes), file);
    expect(readBytes(file)).toEqual(bytes);
    const reloaded = loadModel(file);
    expect(serializeModel(reloaded)).toEqual(bytes);
    const before = await runOrt(original, feeds());
    const after = await runOrt(file, feeds());
    for (const name of Object.keys(before)) {
      expect(after[name].dims).toEqual(before[name].dims);
      expect(Array.from(after[name].data as Float32Array)).toEqual(Array.from(before[name].data as Float32Array));
    }
  });

  test('fields the schema does not know survive, at every level', () => {
    const model = buildIfModel();
    const varint = (n: number): Uint8Array => Uint8Array.of(n);
    model.proto.$unknown = [{ no: 1000, wireType: 0, data: varint(42) }];
    model.graph.node[0].$unknown = [{ no: 999, wireType: 2, data: Uint8Array.of(3, 97, 98, 99) }];
    model.graph.node[0].attribute[0].g!.node[0].$unknown = [{ no: 777, wireType: 5, data: Uint8Array.of(1, 2, 3, 4) }];
    const bytes = toBinary(proto.ModelProtoSchema, model.proto);
    const loaded = loadModel(bytes);
    expect(loaded.proto.$unknown).toHaveLength(1);
    expect(loaded.graph.node[0].$unknown?.[0].no).toBe(999);
    expect(loaded.graph.node[0].attribute[0].g!.node[0].$unknown?.[0].no).toBe(777);
    const file = path.join(tmp.dir, 'unknown.onnx');
    saveModel(loaded, file);
    expect(readBytes(file)).toEqual(bytes);
  });

  test('unknown fields appended to a real file survive', () => {
    const bytes = serializeModel(buildMlp({ inputSize: 4, hidden: [], outputSize: 2 }));
    // Field 15, wire type 2 (bytes), 5 bytes "hello": a field a future ONNX might add to ModelProto.
    const extra = Uint8Array.of((15 << 3) | 2, 5, 104, 101, 108, 108, 111);
    const withExtra = new Uint8Array(bytes.length + extra.length);
    withExtra.set(bytes);
    withExtra.set(extra, bytes.length);
    expect(serializeModel(loadModel(withExtra))).toEqual(withExtra);
  });

  test('raw_data of loaded tensors is a view into the loaded buffer', () => {
    const bytes = serializeModel(buildMlp({ inputSize: 8, hidden: [16], outputSize: 4 }));
    const model = loadModel(bytes);
    for (const t of model.graph.initializer) {
      expect(t.rawData.buffer).toBe(bytes.buffer);
      const decoded = model.initializer(t.name)!;
      const view = decoded.data as Float32Array;
      if (t.rawData.byteOffset % 4 === 0) expect(view.buffer).toBe(bytes.buffer);
      else expect(view.buffer).not.toBe(bytes.buffer);
      expect(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)).toEqual(t.rawData);
    }
  });

  test('a file loaded from disk keeps views into the file buffer', () => {
    const file = path.join(tmp.dir, 'm.onnx');
    saveModel(buildMlp({ inputSize: 8, hidden: [16], outputSize: 4 }), file);
    const model = loadModel(file);
    const buffers = new Set(model.graph.initializer.map((t) => t.rawData.buffer));
    expect(buffers.size).toBe(1);
  });

  test('saving over the file a model was loaded from works', () => {
    const file = path.join(tmp.dir, 'm.onnx');
    saveModel(buildMlp({ inputSize: 8, hidden: [16], outputSize: 4 }), file);
    const bytes = readBytes(file).slice();
    const model = loadModel(file);
    saveModel(model, file);
    expect(readBytes(file)).toEqual(bytes);
    expect(fs.readdirSync(tmp.dir)).toEqual(['m.onnx']);
  });
});
