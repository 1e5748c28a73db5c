// Before a model is written, every node is checked against the op schemas we know: the models that
// our structural validator lets through but onnxruntime refuses at load (an unknown op, opset 999, a
// Gemm with no inputs, an attribute given twice...) are refused by saveModel, naming the node, and
// nothing is written. Each refused case is also shown to be refused by onnxruntime-node itself, so
// the check mirrors the runtime; every model our builders and passes make, and every real model in
// node_modules, passes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  attr, AttrType, buildBertEncoder, buildConvNet, buildConvOpsNet, buildExportedMlp, buildIfModel, buildMlp, buildMobileNetV3Like, buildResNetLike,
  buildTransformerBlock, checkModel, checkOps, GraphBuilder, loadModel, makeAttribute, ModelValidationError, saveModel, serializeModel, type Model,
} from '../../lib/onnx';
import { convertFloat } from '../../lib/convert';
import { pruneModel } from '../../lib/prune';
import { quantize } from '../../lib/quantize';
import { findRealModels } from '../helpers/real-models';
import { tempDir } from './helpers';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const mlp = () => buildMlp({ inputSize: 8, hidden: [16], outputSize: 4, seed: 1 });
const nodeOf = (model: Model, op: string) => model.graph.node.find((n) => n.opType === op)!;

async function ortRefuses(model: Model): Promise<string> {
  try {
    const session = await ort.InferenceSession.create(serializeModel(model));
    await session.release();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('onnxruntime loaded the model');
}

interface BadCase {
  name: string;
  make: () => Model;
  problem: RegExp;
}

const badCases: BadCase[] = [
  {
    name: 'an op the default domain does not have',
    make: () => {
      const m = mlp();
      nodeOf(m, 'Relu').opType = 'Relux';
      return m;
    },
    problem: /node "Relu_node_\d+" \(Relux\): "Relux" is not an ONNX operator/,
  },
  {
    name: 'opset 999',
    make: () => {
      const m = mlp();
      m.setOpset('', 999);
      return m;
    },
    problem: /opset_import asks for ONNX opset 999; onnxruntime knows opsets 1 to 26/,
  },
  {
    name: 'a Gemm with no inputs',
    make: () => {
      const g = new GraphBuilder();
      g.input('x', 'float32', [2, 2]);
      g.node('Gemm', [], ['y']);
      g.output('y', 'float32', [2, 2]);
      return g.build();
    },
    problem: /\(Gemm\) has 0 inputs; Gemm takes 2 to 3 inputs/,
  },
  {
    name: 'an attribute given twice',
    make: () => {
      const m = mlp();
      const add = nodeOf(m, 'Add');
      add.attribute.push(makeAttribute('axis', 1), makeAttribute('axis', 1));
      return m;
    },
    problem: /\(Add\) has attribute "axis" more than once/,
  },
  {
    name: 'an attribute the op does not have',
    make: () => {
      const m = mlp();
      nodeOf(m, 'Relu').attribute.push(makeAttribute('alpha', 0.1));
      return m;
    },
    problem: /\(Relu\) has attribute "alpha", which Relu does not have/,
  },
  {
    name: 'an attribute declared as one type that holds another',
    make: () => {
      const g = new GraphBuilder();
      g.input('x', 'float32', [2, 3]);
      g.node('Transpose', ['x'], ['y'], { perm: [1, 0] });
      g.output('y', 'float32', [3, 2]);
      const m = g.build();
      m.graph.node[0].attribute[0].type = AttrType.FLOAT;
      return m;
    },
    problem: /\(Transpose\): attribute "perm" is declared FLOAT but holds a INTS/,
  },
  {
    name: 'a Cast without its required "to"',
    make: () => {
      const g = new GraphBuilder();
      g.input('x', 'float32', [2]);
      g.node('Cast', ['x'], ['y']);
      g.output('y', 'float32', [2]);
      return g.build();
    },
    problem: /\(Cast\) lacks the required attribute "to"/,
  },
  {
    name: 'an op newer than the model\'s opset',
    make: () => {
      const g = new GraphBuilder();
      g.input('x', 'float32', [2, 4]);
      g.node('Gelu', ['x'], ['y']);
      g.output('y', 'float32', [2, 4]);
      return g.build({ opset: 17 });
    },
    problem: /Gelu exists from ONNX opset 20, the model imports opset 17/,
  },
];

describe.each(badCases)('$name', ({ make, problem }) => {
  test('passes the structural validator, is refused by onnxruntime, and saveModel refuses it without writing', async () => {
    const model = make();
    expect(checkModel(model)).toEqual([]);
    await ortRefuses(model);
    expect(checkOps(model).problems).toEqual([expect.stringMatching(problem)]);
    const file = path.join(tmp.dir, 'out.onnx');
    expect(() => saveModel(model, file)).toThrow(ModelValidationError);
    expect(() => saveModel(model, file)).toThrow(problem);
    expect(fs.readdirSync(tmp.dir)).toEqual([]);
  });
});

test('checkOps: false writes the model as it is (for tools that must reproduce a broken file)', () => {
  const model = badCases[0].make();
  saveModel(model, path.join(tmp.dir, 'broken.onnx'), { checkOps: false });
  expect(loadModel(path.join(tmp.dir, 'broken.onnx')).graph.node.map((n) => n.opType)).toContain('Relux');
});

test('ops of custom domains are written, with a note that only their runtime can check them', () => {
  const g = new GraphBuilder();
  g.input('x', 'float32', [1]);
  g.node('Custom', ['x'], ['y'], { i: 3, s: attr.float(0.5) }, 'test.domain');
  g.output('y', 'float32', [1]);
  const model = g.build();
  expect(checkOps(model)).toEqual({ problems: [], notes: ['op test.domain:Custom belongs to a custom domain; only the runtime that provides it can check it'] });
  expect(() => saveModel(model, path.join(tmp.dir, 'custom.onnx'))).not.toThrow();
});

test('a nested If branch is checked too', () => {
  const model = buildIfModel();
  const branch = model.graph.node[0].attribute.find((a) => a.g)!.g!;
  branch.node[0].opType = 'Addd';
  expect(checkOps(model).problems).toEqual([expect.stringMatching(/graph "main\/.*branch": node .*"Addd" is not an ONNX operator/)]);
});

const bert = { layers: 1, hidden: 16, heads: 2, ffn: 32, vocab: 40, maxPositions: 8 };
const built: [string, () => Model][] = [
  ['mlp', mlp],
  ['transformer block', () => buildTransformerBlock({ seq: 4, hidden: 16, heads: 2, ffn: 32, seed: 1 })],
  ['BERT encoder, opset 14', () => buildBertEncoder({ ...bert, opset: 14 })],
  ['BERT encoder, opset 17', () => buildBertEncoder({ ...bert, opset: 17 })],
  ['exported MLP', () => buildExportedMlp({ inputShape: [8], hidden: [16], outputSize: 4 })],
  ['conv net', () => buildConvNet({ channels: 3, size: 8, classes: 4 })],
  ['ResNet look-alike', () => buildResNetLike({ size: 16, widths: [8, 16], blocks: [1, 1], classes: 4 })],
  ['MobileNetV3 look-alike', () => buildMobileNetV3Like({ size: 32, widthMultiplier: 0.25, headHidden: 32, classes: 4 })],
  ['conv ops net', () => buildConvOpsNet({ size: 16, channels: 3, classes: 4 })],
  ['If model', () => buildIfModel()],
];

describe('valid models pass', () => {
  test.each(built)('%s, and what quantize, prune and convert make of it', async (_name, make) => {
    const model = make();
    expect(checkOps(model)).toEqual({ problems: [], notes: [] });
    const quick = { latencyRuns: 0, verifySamples: 1 } as const;
    const passes: [string, () => Promise<Model> | Model][] = [
      ['dynamic', async () => (await quantize(make(), { mode: 'dynamic', ...quick })).model],
      ['dynamic qdq', async () => (await quantize(make(), { mode: 'dynamic', format: 'qdq', perChannel: true, ...quick })).model],
      ['static', async () => (await quantize(make(), { mode: 'static', randomSamples: 2, ...quick })).model],
      ['weight-only 4', async () => (await quantize(make(), { mode: 'weight-only', bits: 4, ...quick })).model],
      ['weight-only 8', async () => (await quantize(make(), { mode: 'weight-only', bits: 8, ...quick })).model],
      ['unstructured prune', () => pruneModel(make(), { pattern: 'unstructured', sparsity: 0.5, minParams: 0 }).model],
      ['float16', () => convertFloat(make(), { dtype: 'float16' }).model],
    ];
    for (const [pass, run] of passes) {
      const { problems } = checkOps(await run());
      expect({ pass, problems }).toEqual({ pass, problems: [] });
    }
  });

  test.each(findRealModels().map((m) => [m.name, m.path]))('real model %s', (_name, file) => {
    expect(checkOps(loadModel(file)).problems).toEqual([]);
  });
});
