// Models on our engine in a real `onnxforge serve` process: the engine per model (config.json, or
// --engine for models that name none), said in the model metadata and in /metrics, and native answers
// matching onnxruntime's within the native engine's tolerance.
import type { ChildProcess } from 'child_process';
import { GraphBuilder } from '../../lib/onnx/builder';
import type { Model } from '../../lib/onnx/model';
import { rowsInput, smallMlp, smallTransformer, writeRepository } from '../runtime/fixtures';
import { fp32Input, metricValue, post, request } from './http';
import { startServe, stopServe } from './serve-process';

/** TopK: an op the native engine does not run. */
function topKModel(): Model {
  const g = new GraphBuilder();
  const x = g.input('input', 'float32', [1, 8]);
  const k = g.initializer('k', BigInt64Array.of(2n), [1]);
  g.node('TopK', [g.node('Relu', [x]), k], ['values', 'indices'], { axis: -1 });
  g.output('values', 'float32', [1, 2]);
  g.output('indices', 'int64', [1, 2]);
  return g.build({ opset: 17 });
}

/** Largest absolute difference relative to the reference's largest magnitude. */
function relativeError(got: number[], want: number[]): number {
  const scale = Math.max(...want.map(Math.abs));
  return Math.max(...got.map((v, i) => Math.abs(v - want[i]))) / scale;
}

const mlpBody = { inputs: [fp32Input(3, 8, rowsInput(3, 8))] };
const transformerInput = Float32Array.from({ length: 2 * 8 * 32 }, (_, i) => Math.sin(i * 0.37));
const transformerBody = { inputs: [{ name: 'input', shape: [2, 8, 32], datatype: 'FP32', data: Array.from(transformerInput) }] };

describe('onnxforge serve with engines per model', () => {
  let child: ChildProcess;
  let url: string;

  beforeAll(async () => {
    const repo = writeRepository({
      mlp_native: { config: { engine: 'native', max_batch_size: 8 }, versions: { 1: smallMlp() } },
      mlp_ort: { config: { engine: 'ort', max_batch_size: 8 }, versions: { 1: smallMlp() } },
      transformer_native: { config: { engine: 'native', max_batch_size: 4 }, versions: { 1: smallTransformer() } },
      transformer_ort: { config: { engine: 'ort', max_batch_size: 4 }, versions: { 1: smallTransformer() } },
      mlp_auto: { config: { engine: 'auto', max_batch_size: 8, instances: { count: 2 } }, versions: { 1: smallMlp() } },
      topk_auto: { config: { engine: 'auto', warmup: { samples: 0 } }, versions: { 1: topKModel() } },
      // Names no engine: the server's --engine (native here) decides.
      mlp_default: { config: { max_batch_size: 8 }, versions: { 1: smallMlp() } },
    });
    ({ child, url } = await startServe(repo, ['--engine', 'native']));
  });

  afterAll(() => stopServe(child));

  test('the metadata says which engine each model runs and why', async () => {
    const meta = async (model: string) => (await request(`${url}/v2/models/${model}`)).json;
    expect(await meta('mlp_native')).toMatchObject({ parameters: { engine: 'native', engine_reason: 'engine "native" in the config' } });
    expect(await meta('mlp_ort')).toMatchObject({ parameters: { engine: 'ort', engine_reason: 'engine "ort" in the config' } });
    // One list per model: where each instance runs, on which engine and why.
    expect(await meta('mlp_default')).toMatchObject({ parameters: { engine: 'native' }, instances: [{ isolation: 'thread', restarts: 0, engine: 'native', cause: 'requested' }] });
    // TopK is not a native op: auto falls back to onnxruntime and names it, without timing anything.
    const topK = await meta('topk_auto');
    expect(topK).toMatchObject({ parameters: { engine: 'ort' }, instances: [{ engine: 'ort', cause: 'native_unsupported' }] });
    expect(topK.parameters.engine_reason).toMatch(/unsupported TopK/);
    expect(topK.instances[0].reason).toBe(topK.parameters.engine_reason);
  });

  test('auto keeps the engine measured faster on the warm-up inputs, the same on every instance', async () => {
    const { instances } = (await request(`${url}/v2/models/mlp_auto`)).json as { instances: { engine: string; cause: string; reason: string }[] };
    expect(instances).toHaveLength(2);
    const [first] = instances;
    const times = /native ([0-9.]+) ms vs onnxruntime ([0-9.]+) ms/.exec(first.reason);
    expect(times).not.toBeNull();
    const [nativeMs, ortMs] = [Number(times![1]), Number(times![2])];
    // Whichever won, the choice agrees with the times it reports.
    expect(first).toMatchObject(nativeMs < ortMs ? { engine: 'native', cause: 'native_faster' } : { engine: 'ort', cause: 'ort_faster' });
    expect(instances[1]).toMatchObject({ engine: first.engine, cause: first.cause });
  });

  test('/metrics counts instances per engine and cause', async () => {
    const text = (await request(`${url}/metrics`)).text;
    const engines = (model: string, engine: string) => metricValue(text, 'onnxforge_instance_engine', { model, engine });
    expect(engines('mlp_native', 'native')).toBe(1);
    expect(engines('mlp_native', 'ort')).toBe(0);
    expect(engines('mlp_ort', 'ort')).toBe(1);
    expect(metricValue(text, 'onnxforge_instance_engine', { model: 'topk_auto', engine: 'ort', cause: 'native_unsupported' })).toBe(1);
    expect(engines('mlp_auto', 'native') + engines('mlp_auto', 'ort')).toBe(2);
  });

  test.each([
    ['mlp', mlpBody, [3, 4]],
    ['transformer', transformerBody, [2, 8, 32]],
  ] as const)('%s answers on the native engine match onnxruntime within the engine tolerance', async (model, body, shape) => {
    const [native, ort] = await Promise.all([post(`${url}/v2/models/${model}_native/infer`, body), post(`${url}/v2/models/${model}_ort/infer`, body)]);
    expect(native.status).toBe(200);
    expect(ort.status).toBe(200);
    expect(native.json.outputs[0].shape).toEqual(shape);
    const got = native.json.outputs[0].data as number[];
    const want = ort.json.outputs[0].data as number[];
    expect(got).toHaveLength(want.length);
    expect(relativeError(got, want)).toBeLessThanOrEqual(1e-4);
  });

  test('an unknown --engine is refused before anything listens', async () => {
    const run = startServe(writeRepository({}), ['--engine', 'tensorrt']);
    await expect(run).rejects.toThrow(/--engine.*tensorrt.*(native|ort|auto)/s);
  });
});
