// isolation 'none' (issue 19): the instance runs in the server's own thread and calls the engine's
// run directly. It keeps the contract of the other instances: the same answers as 'thread' (binary and
// JSON, batching on and off, both engines), deadlines, cancellation, the memory budget, metrics, and
// the metadata lists it. Real `onnxforge serve` on 127.0.0.1 for the answers (its --isolation flag);
// the queue-holding cases use the in-process server, whose dispatch a test can hold.
import type { ChildProcess } from 'child_process';
import { buildMlp, GraphBuilder, Model } from '../../lib/onnx';
import { createServer, ModelServer } from '../../lib/serve/server';
import { FixtureModel, rowsInput, smallMlp, smallTransformer, writeRepository } from '../runtime/fixtures';
import { fp32Input, metricValue, post, request } from './http';
import { startServe, stopServe } from './serve-process';

const ENGINES = ['ort', 'native'] as const;

/** input [batch, 8] reshaped to [3, -1]: valid only when batch is a multiple of 3, so only the engine refuses other batches. */
function reshapeByThree(): Model {
  const g = new GraphBuilder('by_three');
  const x = g.input('input', 'float32', ['batch', 8]);
  const shape = g.initializer('shape', BigInt64Array.of(3n, -1n), [2], 'int64');
  g.node('Reshape', [x, shape], ['output']);
  g.output('output', 'float32', ['rows', 'cols']);
  return g.build();
}
const KINDS = { single: { max_batch_size: 0 }, batched: { max_batch_size: 8, dynamic_batching: { max_queue_delay_ms: 0 } } };

/** One binary request (KServe binary tensor extension) with binary outputs; returns the header JSON and the raw output bytes. */
async function binaryInfer(url: string, dims: number[], data: Float32Array): Promise<{ status: number; header: any; bytes: Buffer }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const header = Buffer.from(JSON.stringify({
    inputs: [{ name: 'input', shape: dims, datatype: 'FP32', parameters: { binary_data_size: data.byteLength } }],
    parameters: { binary_data_output: true },
  }));
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    body: Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]),
  });
  const body = Buffer.from(await response.arrayBuffer());
  const headerLength = Number(response.headers.get('inference-header-content-length'));
  return { status: response.status, header: JSON.parse(body.subarray(0, headerLength).toString()), bytes: body.subarray(headerLength) };
}

describe("isolation 'none' through `onnxforge serve --isolation none`", () => {
  let child: ChildProcess;
  let url: string;
  // Each model twice: without isolation in its config (the server's --isolation none decides) and pinned to 'thread'.
  const models: Record<string, FixtureModel> = {};
  for (const engine of ENGINES) {
    for (const [kind, config] of Object.entries(KINDS)) {
      models[`mlp_${kind}_${engine}_none`] = { config: { engine, ...config }, versions: { 1: smallMlp(4) } };
      models[`mlp_${kind}_${engine}_thread`] = { config: { engine, isolation: 'thread', ...config }, versions: { 1: smallMlp(4) } };
    }
    models[`transformer_${engine}_none`] = { config: { engine, max_batch_size: 4 }, versions: { 1: smallTransformer() } };
    models[`transformer_${engine}_thread`] = { config: { engine, isolation: 'thread', max_batch_size: 4 }, versions: { 1: smallTransformer() } };
  }

  beforeAll(async () => {
    ({ child, url } = await startServe(writeRepository(models), ['--isolation', 'none']));
  });

  afterAll(() => stopServe(child));

  test('the metadata lists each instance once: isolation none in the server process, its engine and why', async () => {
    for (const engine of ENGINES) {
      const none = (await request(`${url}/v2/models/mlp_single_${engine}_none`)).json;
      expect(none.instances).toEqual([{ isolation: 'none', pid: child.pid, restarts: 0, engine, cause: 'requested', reason: `engine "${engine}" in the config` }]);
      expect(none.parameters).toEqual({ engine, engine_reason: `engine "${engine}" in the config` });
      const thread = (await request(`${url}/v2/models/mlp_single_${engine}_thread`)).json;
      expect(thread.instances).toEqual([{ isolation: 'thread', pid: child.pid, restarts: 0, engine, cause: 'requested', reason: `engine "${engine}" in the config` }]);
    }
  });

  test.each(ENGINES.flatMap((engine) => Object.keys(KINDS).map((kind) => [engine, kind])))('%s, %s: JSON and binary answers are the same as isolation thread, byte for byte', async (engine, kind) => {
    for (const rows of [1, 3]) {
      const data = rowsInput(rows, 8, rows * 5);
      const infer = (isolation: string) => `${url}/v2/models/mlp_${kind}_${engine}_${isolation}/infer`;
      const [jsonNone, jsonThread] = await Promise.all(['none', 'thread'].map((i) => post(infer(i), { inputs: [fp32Input(rows, 8, data)] })));
      expect(jsonNone.status).toBe(200);
      expect(jsonNone.json.outputs).toEqual(jsonThread.json.outputs);
      expect(jsonNone.json.outputs[0].shape).toEqual([rows, 4]);
      const [binNone, binThread] = await Promise.all(['none', 'thread'].map((i) => binaryInfer(infer(i), [rows, 8], data)));
      expect(binNone.status).toBe(200);
      expect(binNone.header.outputs).toEqual(binThread.header.outputs);
      expect(binNone.bytes.length).toBe(rows * 4 * 4);
      expect(binNone.bytes.equals(binThread.bytes)).toBe(true);
      // The binary answer holds the very values of the JSON one.
      expect(Array.from(new Float32Array(binNone.bytes.buffer.slice(binNone.bytes.byteOffset, binNone.bytes.byteOffset + binNone.bytes.length)))).toEqual(jsonNone.json.outputs[0].data);
    }
  });

  test.each(ENGINES)('%s: concurrent requests of different sizes to a batching model each get their own rows, as on isolation thread', async (engine) => {
    const rows = [1, 2, 3, 1, 2, 1];
    const send = (isolation: string) => Promise.all(rows.map((r, i) =>
      post(`${url}/v2/models/mlp_batched_${engine}_${isolation}/infer`, { inputs: [fp32Input(r, 8, rowsInput(r, 8, i * 11))] })));
    const [none, thread] = [await send('none'), await send('thread')];
    none.forEach((reply, i) => {
      expect(reply.status).toBe(200);
      expect(reply.json.outputs[0].shape).toEqual([rows[i], 4]);
      // Rows run alone or merged give the same float32 values up to summation order.
      (reply.json.outputs[0].data as number[]).forEach((v, k) => expect(v).toBeCloseTo(thread[i].json.outputs[0].data[k], 5));
    });
  });

  test.each(ENGINES)('%s: a transformer block answers the same as on isolation thread', async (engine) => {
    const dims = [2, 8, 32];
    const data = Float32Array.from({ length: 2 * 8 * 32 }, (_, i) => Math.sin(i) / 2);
    const [none, thread] = await Promise.all(['none', 'thread'].map((i) => binaryInfer(`${url}/v2/models/transformer_${engine}_${i}/infer`, dims, data)));
    expect(none.status).toBe(200);
    expect(none.bytes.length).toBe(data.byteLength);
    expect(none.bytes.equals(thread.bytes)).toBe(true);
  });

  test('/metrics counts its runs like any instance', async () => {
    const text = (await request(`${url}/metrics`)).text;
    expect(metricValue(text, 'onnxforge_instance_engine', { model: 'mlp_single_native_none', engine: 'native' })).toBe(1);
    // Warm-up is not counted: one run per request without batching (4 requests above); with batching, every row answered (8 + 10).
    expect(metricValue(text, 'onnxforge_executions_total', { model: 'mlp_single_ort_none' })).toBe(4);
    expect(metricValue(text, 'onnxforge_inferences_total', { model: 'mlp_batched_ort_none' })).toBe(2 * (1 + 3) + 10);
  });
});

/** Resolves once `condition` holds, checking after each turn of the event loop (10 s bound: a hang fails). */
async function until(condition: () => boolean): Promise<void> {
  const limit = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > limit) throw new Error('condition never held');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("isolation 'none' in the in-process server: queue, deadline, cancellation, memory", () => {
  let server: ModelServer;
  let url: string;
  const PER_ROW = 64 * 4 + 3 * 1024 * 4 + 2 * 64 * 4; // input + [n,1024] x3 + [n,64] x2, float32
  const wideBody = (n: number) => ({ inputs: [{ name: 'input', datatype: 'FP32', shape: [n, 64], data: new Array(n * 64).fill(0.5) }] });

  beforeAll(async () => {
    server = createServer({
      repository: writeRepository({
        batched: { config: { max_batch_size: 16, dynamic_batching: { max_queue_delay_ms: 0 } }, versions: { 1: smallMlp(5) } },
        single: { config: { max_batch_size: 16 }, versions: { 1: smallMlp(5) } },
        by_three: { config: { engine: 'ort', warmup: { inputs: { input: { dims: [3, 8], data: new Array(24).fill(0) } } } }, versions: { 1: reshapeByThree() } },
        wide: { config: { max_request_memory_bytes: 1024 * 1024 }, versions: { 1: buildMlp({ inputSize: 64, hidden: [1024], outputSize: 64 }) } },
      }),
      isolation: 'none',
    });
    url = await server.listen({ port: 0 });
    await server.ready();
  });

  afterAll(() => server.close());

  const metrics = async () => (await request(`${url}/metrics`)).text;

  test('createServer({isolation}) is the default of models that name none', async () => {
    expect((await request(`${url}/v2/models/batched`)).json.instances).toMatchObject([{ isolation: 'none', pid: process.pid }]);
  });

  test('queued requests merge into one run and each gets its own rows back, the same as each run alone', async () => {
    const rows = [1, 2, 3, 1];
    const inputs = rows.map((r, i) => rowsInput(r, 8, i * 7));
    const model = server.runtime.loadedModel('batched')!;
    const before = await metrics();
    const resume = model.pauseDispatch();
    const pending = inputs.map((data, i) => post(`${url}/v2/models/batched/infer`, { inputs: [fp32Input(rows[i], 8, data)] }));
    await until(() => model.queued === rows.length);
    resume();
    const merged = await Promise.all(pending);
    const after = await metrics();
    expect(metricValue(after, 'onnxforge_executions_total', { model: 'batched' }) - metricValue(before, 'onnxforge_executions_total', { model: 'batched' })).toBe(1);
    for (let i = 0; i < rows.length; i++) {
      const alone = await post(`${url}/v2/models/single/infer`, { inputs: [fp32Input(rows[i], 8, inputs[i])] });
      expect(merged[i].json.outputs[0].shape).toEqual([rows[i], 4]);
      (merged[i].json.outputs[0].data as number[]).forEach((v, k) => expect(v).toBeCloseTo(alone.json.outputs[0].data[k], 5));
    }
  });

  test('a request whose deadline passes while queued gets 504 deadline_exceeded and never runs', async () => {
    const model = server.runtime.loadedModel('single')!;
    const before = await metrics();
    const resume = model.pauseDispatch();
    let reply;
    try {
      reply = await post(`${url}/v2/models/single/infer`, { inputs: [fp32Input(1, 8, rowsInput(1, 8))] }, { 'timeout-ms': '1' });
    } finally {
      resume();
    }
    expect(reply.status).toBe(504);
    expect(reply.json.code).toBe('deadline_exceeded');
    const after = await metrics();
    expect(metricValue(after, 'onnxforge_requests_cancelled_total', { model: 'single', reason: 'deadline', stage: 'queued' })
      - metricValue(before, 'onnxforge_requests_cancelled_total', { model: 'single', reason: 'deadline', stage: 'queued' })).toBe(1);
    expect(metricValue(after, 'onnxforge_executions_total', { model: 'single' }) - metricValue(before, 'onnxforge_executions_total', { model: 'single' })).toBe(0);
  });

  test('a client that disconnects while queued has its request dropped, never run (counted as cancelled)', async () => {
    const model = server.runtime.loadedModel('single')!;
    const before = await metrics();
    const resume = model.pauseDispatch();
    try {
      const controller = new AbortController();
      const abandoned = post(`${url}/v2/models/single/infer`, { inputs: [fp32Input(2, 8, rowsInput(2, 8))] }, {}, controller.signal).catch((err: Error) => err);
      await until(() => model.queued === 1);
      controller.abort();
      expect(await abandoned).toBeInstanceOf(Error);
      await until(() => model.queued === 0);
    } finally {
      resume();
    }
    expect((await post(`${url}/v2/models/single/infer`, { inputs: [fp32Input(3, 8, rowsInput(3, 8))] })).status).toBe(200);
    const after = await metrics();
    const delta = (name: string, labels: Record<string, string>) => metricValue(after, name, labels) - metricValue(before, name, labels);
    expect(delta('onnxforge_requests_cancelled_total', { model: 'single', reason: 'client', stage: 'queued' })).toBe(1);
    // Only the kept request's 3 rows ran.
    expect(delta('onnxforge_executions_total', { model: 'single' })).toBe(1);
    expect(delta('onnxforge_inferences_total', { model: 'single' })).toBe(3);
  });

  test('a request over the memory budget gets 413 request_memory_exceeded before it runs; one under it runs', async () => {
    const over = await post(`${url}/v2/models/wide/infer`, wideBody(100));
    expect(over.status).toBe(413);
    expect(over.json.code).toBe('request_memory_exceeded');
    expect(over.json.error).toContain(`(${100 * PER_ROW} bytes)`);
    const under = await post(`${url}/v2/models/wide/infer`, wideBody(64));
    expect(under.status).toBe(200);
    expect(under.json.outputs[0].shape).toEqual([64, 64]);
  });

  test('an engine error answers that request 500 execution_failed; the instance keeps serving', async () => {
    const failed = await post(`${url}/v2/models/by_three/infer`, { inputs: [fp32Input(1, 8, rowsInput(1, 8))] });
    expect(failed.status).toBe(500);
    expect(failed.json.code).toBe('execution_failed');
    const served = await post(`${url}/v2/models/by_three/infer`, { inputs: [fp32Input(3, 8, rowsInput(3, 8))] });
    expect(served.status).toBe(200);
    expect(served.json.outputs[0]).toMatchObject({ shape: [3, 8], data: Array.from(rowsInput(3, 8)) });
  });
});
