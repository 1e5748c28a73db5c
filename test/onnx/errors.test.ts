import * as fs from 'node:fs';
import * as path from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  buildIfModel, buildMlp, checkModel, isExternal, GraphBuilder, loadModel, makeNode, ModelLoadError, ModelSaveError,
  ModelValidationError, proto, saveModel, serializeModel, validateModel,
} from '../../lib/onnx';
import { tempDir } from './helpers';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => { tmp = tempDir(); });
afterEach(() => tmp.cleanup());

const oneLine = (err: unknown): string => {
  expect(err).toBeInstanceOf(Error);
  const message = (err as Error).message;
  expect(message).not.toContain('\n');
  return message;
};

function loadError(input: string | Uint8Array): Error {
  try {
    loadModel(input);
  } catch (err) {
    oneLine(err);
    return err as Error;
  }
  throw new Error('expected loadModel to throw');
}

describe('unreadable input gives a clear ModelLoadError', () => {
  test('missing file', () => {
    const err = loadError(path.join(tmp.dir, 'nope.onnx'));
    expect(err).toBeInstanceOf(ModelLoadError);
    expect(err.message).toMatch(/no such file/);
  });

  test('a directory', () => {
    expect(loadError(tmp.dir).message).toMatch(/is a directory/);
  });

  test('empty file and empty bytes', () => {
    const file = path.join(tmp.dir, 'empty.onnx');
    fs.writeFileSync(file, '');
    expect(loadError(file).message).toMatch(/empty/);
    expect(loadError(new Uint8Array(0))).toBeInstanceOf(ModelLoadError);
  });

  test('garbage of many kinds', () => {
    const samples = [
      Buffer.from('hello, this is not a model\n'),
      Buffer.from('{"ir_version": 8}'),
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
      Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f), // a length far beyond the end
    ];
    let seed = 12345;
    for (let n = 0; n < 200; n++) {
      const bytes = new Uint8Array(1 + (n % 97));
      for (let i = 0; i < bytes.length; i++) bytes[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
      samples.push(bytes);
    }
    for (const sample of samples) {
      const err = loadError(sample);
      expect(err instanceof ModelLoadError || err instanceof ModelValidationError).toBe(true);
    }
  });

  test('every truncation of a real model fails cleanly', () => {
    const bytes = serializeModel(buildIfModel());
    for (let cut = 1; cut < bytes.length; cut++) {
      const err = loadError(bytes.subarray(0, cut));
      expect(err instanceof ModelLoadError || err instanceof ModelValidationError).toBe(true);
    }
  });

  test('a truncated file names the file', () => {
    const file = path.join(tmp.dir, 'cut.onnx');
    const bytes = serializeModel(buildMlp({ inputSize: 4, hidden: [8], outputSize: 2 }));
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 7));
    const err = loadError(file);
    expect(err.message).toContain('cut.onnx');
  });
});

describe('structural problems give ModelValidationError', () => {
  function mlpProto(): proto.ModelProto {
    return buildMlp({ inputSize: 4, hidden: [8], outputSize: 2 }).proto;
  }
  const expectInvalid = (p: proto.ModelProto, pattern: RegExp): void => {
    const err = loadError(toBinary(proto.ModelProtoSchema, p));
    expect(err).toBeInstanceOf(ModelValidationError);
    expect(err.message).toMatch(pattern);
  };

  test('a cycle', () => {
    const g = new GraphBuilder();
    g.input('x', 'float32', [1]);
    g.node('Add', ['x', 'b'], ['a']);
    g.node('Relu', ['a'], ['b']);
    g.output('b', 'float32', [1]);
    const model = g.build({ validate: false });
    expect(() => validateModel(model)).toThrow(/cycle: "Add_node_\d+" -> "Relu_node_\d+" -> "Add_node_\d+"/);
    expectInvalid(model.proto, /cycle/);
    expect(() => model.nodes()).toThrow(ModelValidationError);
  });

  test('a node input that references nothing', () => {
    const p = mlpProto();
    p.graph!.node[1].input[0] = 'ghost';
    expectInvalid(p, /reads "ghost", which no node, graph input or initializer produces/);
  });

  test('a dangling reference inside an If body', () => {
    const model = buildIfModel();
    model.graph.node[0].attribute[1].g!.node[0].input[0] = 'ghost';
    expect(checkModel(model)[0]).toMatch(/If_node_\d+\.else_branch.*"ghost"/);
  });

  test('negative and overflowing tensor dims', () => {
    const p = mlpProto();
    p.graph!.initializer[0].dims[0] = -3n;
    expectInvalid(p, /dimension -3/);
    const q = mlpProto();
    q.graph!.initializer[0].dims[0] = 2n ** 60n;
    expectInvalid(q, /dimension 1152921504606846976, outside 0\.\.2\^53-1/);
    const r = mlpProto();
    r.graph!.initializer[0].dims = [2n ** 30n, 2n ** 30n];
    expectInvalid(r, /more than 2\^53-1/);
  });

  test('value_info dims below -1 or beyond 2^53', () => {
    const p = mlpProto();
    const dim = p.graph!.input[0].type!.value.value as proto.TypeProto_Tensor;
    dim.shape!.dim[1].value = { case: 'dimValue', value: -5n };
    expectInvalid(p, /dimension -5/);
    dim.shape!.dim[1].value = { case: 'dimValue', value: -1n };
    expect(checkModel(p)).toEqual([]);
  });

  test('raw_data whose size does not match the shape', () => {
    const p = mlpProto();
    p.graph!.initializer[0].rawData = p.graph!.initializer[0].rawData.subarray(4);
    expectInvalid(p, /bytes of raw_data/);
  });

  test('a value assigned twice and an unproduced output', () => {
    const p = mlpProto();
    p.graph!.node.push(makeNode('Relu', ['input'], [p.graph!.node[0].output[0]]));
    expectInvalid(p, /assigned more than once/);
    const q = mlpProto();
    q.graph!.output[0].name = 'nowhere';
    expectInvalid(q, /graph output "nowhere" is not produced/);
  });

  test('missing opset import for a node domain', () => {
    const p = mlpProto();
    p.graph!.node[0].domain = 'com.example';
    expectInvalid(p, /domain "com.example"/);
  });

  test('validate:false loads anyway', () => {
    const p = mlpProto();
    p.graph!.node[1].input[0] = 'ghost';
    expect(() => loadModel(toBinary(proto.ModelProtoSchema, p), { validate: false })).not.toThrow();
  });

  test('nodes stored out of order are fine', () => {
    const p = mlpProto();
    p.graph!.node.reverse();
    expect(checkModel(p)).toEqual([]);
  });

  test('a model without graph', () => {
    const p = create(proto.ModelProtoSchema, { irVersion: 10n });
    expect(loadError(toBinary(proto.ModelProtoSchema, p)).message).toMatch(/no graph/);
  });
});

describe('saving errors', () => {
  test('a missing folder gives ModelSaveError and writes nothing', () => {
    const model = buildMlp({ inputSize: 4, hidden: [], outputSize: 2 });
    expect(() => saveModel(model, path.join(tmp.dir, 'missing', 'm.onnx'))).toThrow(ModelSaveError);
  });

  test('a directory as target', () => {
    const model = buildMlp({ inputSize: 4, hidden: [], outputSize: 2 });
    expect(() => saveModel(model, tmp.dir)).toThrow(/is a directory/);
  });

  test('a failure mid-write leaves no file behind and the model untouched', () => {
    const model = buildMlp({ inputSize: 4, hidden: [64], outputSize: 2 });
    const before = model.graph.initializer.map((t) => t.rawData);
    // Data files get written first; then serialization trips over a malformed node.
    (model.graph.node[0] as { attribute: unknown[] }).attribute = [{ $typeName: 'onnx.TensorProto' }];
    expect(() => saveModel(model, path.join(tmp.dir, 'm.onnx'), { externalData: { threshold: 16 } })).toThrow(ModelSaveError);
    expect(fs.readdirSync(tmp.dir)).toEqual([]);
    expect(model.graph.initializer.map((t) => t.rawData)).toEqual(before);
    expect(model.graph.initializer.every((t) => t.externalData.length === 0 && !isExternal(t))).toBe(true);
  });
});
