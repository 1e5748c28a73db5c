// ModelRuntime in-process (no HTTP): versions, metadata, config checks, failures, shutdown.
import * as fs from 'fs';
import * as path from 'path';
import { buildMlp, GraphBuilder } from '../../lib/onnx';
import {
  DeadlineExceededError, errorCode, InvalidRequestError, ModelLoadFailedError, ModelNotFoundError, ModelUnavailableError, RequestCancelledError, ShuttingDownError,
} from '../../lib/runtime/errors';
import { ModelRuntime } from '../../lib/runtime/runtime';
import { rowsInput, smallMlp, writeRepository } from './fixtures';

const input = (rows: number) => ({ input: { type: 'float32' as const, dims: [rows, 8], data: rowsInput(rows, 8) } });

function stringIdentity() {
  const g = new GraphBuilder('strings');
  g.input('text', 'string', ['batch']);
  g.node('Identity', ['text'], ['same']);
  g.output('same', 'string', ['batch']);
  return g.build();
}

describe('ModelRuntime', () => {
  let runtime: ModelRuntime;
  let repo: string;

  beforeAll(async () => {
    repo = writeRepository({
      mlp: { config: { max_batch_size: 8, version_policy: { all: true }, warmup: { inputs: { input: { dims: [1, 8], data: Array(8).fill(1) } } } }, versions: { 1: smallMlp(1), 2: smallMlp(2) } },
      fixed: { config: { max_batch_size: 4, preload: 'lazy' }, versions: { 1: buildMlp({ inputSize: 8, hidden: [], outputSize: 2, batch: 1 }) } },
      narrowed: { config: { preload: 'lazy', inputs: [{ name: 'input', datatype: 'FP32', dims: [2, 8] }] }, versions: { 1: smallMlp() } },
      mistyped: { config: { preload: 'lazy', inputs: [{ name: 'input', datatype: 'INT32', dims: [-1, 8] }] }, versions: { 1: smallMlp() } },
      garbage: { config: { preload: 'lazy' }, versions: { 1: 'not an onnx model' } },
      cuda: { config: { preload: 'lazy', instances: { count: 1, device: 'cuda' } }, versions: { 1: smallMlp() } },
      strings: {
        config: { preload: 'lazy', max_batch_size: 4, dynamic_batching: { max_queue_delay_ms: 20 }, warmup: { inputs: { text: { dims: [1], data: ['warm'] } } } },
        versions: { 1: stringIdentity() },
      },
      unwarmable: { config: { preload: 'lazy' }, versions: { 1: stringIdentity() } },
    });
    runtime = new ModelRuntime({ repository: repo });
    await runtime.start();
  });

  afterAll(() => runtime.close());

  test('serves every version the policy names; the latest by default', async () => {
    const latest = await runtime.infer('mlp', input(2));
    expect(latest).toMatchObject({ model: 'mlp', version: 2 });
    expect(latest.outputs.output.dims).toEqual([2, 4]);
    const first = await runtime.infer('mlp', input(2), { version: 1 });
    expect(first.version).toBe(1);
    expect(Array.from(first.outputs.output.data as Float32Array)).not.toEqual(Array.from(latest.outputs.output.data as Float32Array));
    await expect(runtime.infer('mlp', input(1), { version: 3 })).rejects.toThrow(ModelNotFoundError);
    await expect(runtime.infer('nope', input(1))).rejects.toThrow('unknown model "nope"');
    // Configured warm-up inputs, one run per instance and version.
    expect(runtime.loadedModel('mlp', 1)?.warmupRuns).toBe(1);
  });

  test('metadata comes from the model', async () => {
    expect(await runtime.metadata('mlp')).toEqual({
      name: 'mlp',
      versions: ['1', '2'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', type: 'float32', shape: ['batch', 8] }],
      outputs: [{ name: 'output', type: 'float32', shape: ['batch', 4] }],
      memory: expect.objectContaining({ max_request_bytes: 1024 ** 3, max_batch_bytes: 1024 ** 3, admitted_bytes: 0 }),
      instances: [{ isolation: 'thread', pid: process.pid, restarts: 0, engine: expect.stringMatching(/^(native|ort)$/), cause: expect.any(String), reason: expect.stringMatching(/^auto: /) }],
      // The default engine is auto: whichever engine it kept, it says which and why.
      parameters: expect.objectContaining({ engine: expect.stringMatching(/^(native|ort)$/), engine_reason: expect.stringMatching(/^auto: /) }),
    });
  });

  test('a batching model needs a variable first dim', async () => {
    const err = await runtime.infer('fixed', input(1)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ModelLoadFailedError);
    expect((err as Error).message).toMatch(/max_batch_size > 0 needs a variable first dim on every input, input has shape \[1, 8\]/);
    // The failure sticks until an explicit load.
    await expect(runtime.infer('fixed', input(1))).rejects.toThrow(ModelUnavailableError);
    expect(runtime.index().find((e) => e.name === 'fixed')).toMatchObject({ state: 'UNAVAILABLE', reason: expect.stringMatching(/variable first dim/) });
  });

  test('config.json inputs narrow the model and must agree with it', async () => {
    await expect(runtime.infer('narrowed', input(1))).rejects.toThrow(/must have shape \[2, 8\], got \[1, 8\]/);
    expect((await runtime.infer('narrowed', input(2))).outputs.output.dims).toEqual([2, 4]);
    await expect(runtime.infer('mistyped', input(1))).rejects.toThrow(/config.json input input is INT32, the model says FP32/);
  });

  test('a file that is not a model fails to load with the engine message', async () => {
    const err = await runtime.infer('garbage', input(1)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ModelLoadFailedError);
    expect((err as Error).message).toContain(path.join('garbage', '1', 'model.onnx'));
  });

  test('a cuda instance without a GPU runs on the cpu and says so', async () => {
    expect((await runtime.infer('cuda', input(1))).outputs.output.dims).toEqual([1, 4]);
    const model = runtime.loadedModel('cuda')!;
    expect(model.devices).toEqual(['cpu']);
    expect(model.notes.join()).toMatch(/cuda unavailable/);
  });

  test('string tensors batch and split like any other', async () => {
    const [a, b] = await Promise.all([
      runtime.infer('strings', { text: { type: 'string', dims: [2], data: ['a', 'b'] } }),
      runtime.infer('strings', { text: { type: 'string', dims: [1], data: ['c'] } }),
    ]);
    expect(a.outputs.same.data).toEqual(['a', 'b']);
    expect(b.outputs.same.data).toEqual(['c']);
    await expect(runtime.infer('unwarmable', { text: { type: 'string', dims: [1], data: ['x'] } })).rejects.toThrow(
      /cannot generate warm-up inputs \(types string\); give warmup.inputs in config.json/,
    );
  });

  test('bad requests are refused before they reach an instance', async () => {
    await expect(runtime.infer('mlp', { input: { type: 'float32', dims: [1, 8], data: new Float32Array(3) } })).rejects.toThrow(InvalidRequestError);
    await expect(runtime.infer('mlp', {})).rejects.toThrow('missing input "input"');
    // An empty dim (onnxruntime's kernels can divide by it: SIGFPE), or more elements than int32 indexes.
    await expect(runtime.infer('mlp', { input: { type: 'float32', dims: [0, 8], data: new Float32Array(0) } }))
      .rejects.toThrow(/input "input" has an invalid shape \[0, 8\]: dims must be positive/);
    await expect(runtime.infer('mlp', { input: { type: 'float32', dims: [2 ** 28, 8], data: new Float32Array(8) } }))
      .rejects.toThrow(/input "input" has an invalid shape/);
    // The runtime still serves the next request.
    expect((await runtime.infer('mlp', input(1))).outputs).toBeDefined();
  });
});

test('a version counts its measured resident memory: a copy of the weights per instance, not an estimate', async () => {
  const weights = buildMlp({ inputSize: 1024, hidden: [2048, 2048], outputSize: 16 });
  const repo = writeRepository({
    big: { config: { max_batch_size: 4, instances: { count: 2 } }, versions: { 1: weights } },
    sized: { config: { memory_bytes: 12345, warmup: { samples: 0 } }, versions: { 1: smallMlp() } },
  });
  const runtime = new ModelRuntime({ repository: repo });
  try {
    await runtime.start();
    const file = fs.statSync(path.join(repo, 'big', '1', 'model.onnx')).size;
    const big = runtime.loadedModel('big')!;
    // Each instance's session holds its own weights (the floor is one copy of the file).
    expect(big.bytes).toBeGreaterThanOrEqual(1.9 * file);
    // memory_bytes in the config is taken as given.
    expect(runtime.loadedModel('sized')!.bytes).toBe(12345);
    expect(runtime.memoryUsedBytes).toBe(big.bytes + 12345);
    const text = await runtime.metrics.registry.metrics();
    expect(text).toContain(`onnxforge_model_resident_bytes{model="big",version="1"} ${big.bytes}`);
    expect(text).toContain(`onnxforge_cache_bytes ${big.bytes + 12345}`);
  } finally {
    await runtime.close();
  }
});

test('after close the runtime refuses work', async () => {
  const runtime = new ModelRuntime({ repository: writeRepository({ m: { config: { preload: 'lazy' }, versions: { 1: smallMlp() } } }) });
  await runtime.start();
  await runtime.close();
  expect(runtime.ready).toBe(false);
  await expect(runtime.infer('m', input(1))).rejects.toThrow(ShuttingDownError);
  await expect(runtime.load('m')).rejects.toThrow(ShuttingDownError);
});

test('a deadline already past or an aborted signal fails without running, even on a lazy model that loads first', async () => {
  const runtime = new ModelRuntime({ repository: writeRepository({ lazy: { config: { preload: 'lazy', max_batch_size: 4, warmup: { samples: 0 } }, versions: { 1: smallMlp() } } }) });
  try {
    await runtime.start();
    const late = await runtime.infer('lazy', input(1), { deadline: new Date(Date.now() - 1000) }).catch((e: Error) => e);
    expect(late).toBeInstanceOf(DeadlineExceededError);
    expect(errorCode(late as Error)).toBe('deadline_exceeded');
    const controller = new AbortController();
    controller.abort();
    await expect(runtime.infer('lazy', input(1), { signal: controller.signal })).rejects.toBeInstanceOf(RequestCancelledError);
    const text = await runtime.metrics.registry.metrics();
    expect(text).toContain('onnxforge_requests_cancelled_total{model="lazy",version="1",reason="deadline",stage="queued"} 1');
    expect(text).toContain('onnxforge_requests_cancelled_total{model="lazy",version="1",reason="client",stage="queued"} 1');
    expect(text).toContain('onnxforge_requests_total{model="lazy",version="1",outcome="deadline_exceeded"} 1');
    expect(text).not.toContain('onnxforge_executions_total{model="lazy"');
    // The model did load and still serves.
    expect((await runtime.infer('lazy', input(2))).outputs.output.dims).toEqual([2, 4]);
    expect(await runtime.metrics.registry.metrics()).toContain('onnxforge_executions_total{model="lazy",version="1"} 1');
  } finally {
    await runtime.close();
  }
});
