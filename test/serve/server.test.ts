// Every endpoint and error path of the KServe v2 server, over real HTTP on 127.0.0.1.
import { OrtEngine } from '../../lib/engine/ort-engine';
import { serializeModel } from '../../lib/onnx';
import { createServer, ModelServer } from '../../lib/serve/server';
import { rowsInput, smallMlp, writeRepository } from '../runtime/fixtures';
import { fp32Input, metricValue, post, request } from './http';

const ADMIN = { authorization: 'Bearer admin-secret' };

describe('KServe v2 server', () => {
  let server: ModelServer;
  let url: string;
  const mlp = smallMlp();

  beforeAll(async () => {
    const repo = writeRepository({
      mlp: { config: { max_batch_size: 8, dynamic_batching: {} }, versions: { 1: smallMlp(7), 2: mlp } },
      lazy: { config: { preload: 'lazy' }, versions: { 1: smallMlp(3) } },
      firstuse: { config: { preload: 'lazy' }, versions: { 1: smallMlp(4) } },
      broken: { config: { max_batch_size: 'many' }, versions: { 1: smallMlp() } },
    });
    server = createServer({ repository: repo, adminToken: 'admin-secret', maxElements: 4096, bodyLimitBytes: 256 * 1024 });
    url = await server.listen({ port: 0 });
    await server.ready();
  });

  afterAll(() => server.close());

  test('health, server metadata', async () => {
    expect(await request(`${url}/v2/health/live`)).toMatchObject({ status: 200, json: { live: true } });
    expect(await request(`${url}/v2/health/ready`)).toMatchObject({ status: 200, json: { ready: true } });
    const meta = await request(`${url}/v2`);
    expect(meta.status).toBe(200);
    expect(meta.json).toMatchObject({ name: 'onnxforge', extensions: expect.arrayContaining(['binary_tensor_data', 'model_repository']) });
  });

  test('model metadata and readiness, by model and by version', async () => {
    const meta = await request(`${url}/v2/models/mlp`);
    expect(meta.status).toBe(200);
    expect(meta.json).toEqual({
      name: 'mlp',
      versions: ['2'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 8] }],
      outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 4] }],
      // onnxforge's extensions: the default 1 GiB activation budget, one in-process instance.
      memory: expect.objectContaining({ max_request_bytes: 1024 ** 3, max_batch_bytes: 1024 ** 3, admitted_bytes: 0 }),
      instances: [{ isolation: 'thread', pid: process.pid, restarts: 0, engine: expect.stringMatching(/^(native|ort)$/), cause: expect.any(String), reason: expect.stringMatching(/^auto: /) }],
      parameters: expect.objectContaining({ engine: expect.stringMatching(/^(native|ort)$/), engine_reason: expect.stringMatching(/^auto: /) }),
    });
    expect((await request(`${url}/v2/models/mlp/versions/2`)).status).toBe(200);
    expect(await request(`${url}/v2/models/mlp/versions/1`)).toMatchObject({ status: 404, json: { error: expect.stringMatching(/no version 1 \(serving 2\)/) } });
    expect(await request(`${url}/v2/models/nope`)).toMatchObject({ status: 404, json: { error: 'unknown model "nope"' } });
    expect(await request(`${url}/v2/models/mlp/ready`)).toMatchObject({ status: 200, json: { name: 'mlp', ready: true } });
    expect((await request(`${url}/v2/models/mlp/versions/2/ready`)).status).toBe(200);
    expect((await request(`${url}/v2/models/mlp/versions/abc/ready`)).status).toBe(404);
    expect((await request(`${url}/v2/models/nope/ready`)).status).toBe(404);
    expect(await request(`${url}/v2/models/broken/ready`)).toMatchObject({ status: 400, json: { ready: false } });
  });

  test('JSON inference gives what onnxruntime gives in-process', async () => {
    const data = rowsInput(3, 8);
    const reply = await post(`${url}/v2/models/mlp/infer`, { id: 'req-1', inputs: [fp32Input(3, 8, data)] });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ id: 'req-1', model_name: 'mlp', model_version: '2' });
    const [output] = reply.json.outputs;
    expect(output).toMatchObject({ name: 'output', datatype: 'FP32', shape: [3, 4] });
    const session = await new OrtEngine().load(serializeModel(mlp));
    const expected = await session.run({ input: { type: 'float32', dims: [3, 8], data } });
    await session.dispose();
    const want = Array.from(expected.output.data as Float32Array);
    (output.data as number[]).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
  });

  test('nested data, explicit version, requested outputs', async () => {
    const nested = [Array.from(rowsInput(1, 8))];
    const reply = await post(`${url}/v2/models/mlp/versions/2/infer`, {
      inputs: [{ name: 'input', shape: [1, 8], datatype: 'FP32', data: nested }],
      outputs: [{ name: 'output' }],
    });
    expect(reply.status).toBe(200);
    expect(reply.json.outputs[0].shape).toEqual([1, 4]);
  });

  test('binary tensor data extension, in and out', async () => {
    const data = rowsInput(2, 8);
    const header = Buffer.from(JSON.stringify({
      inputs: [{ name: 'input', shape: [2, 8], datatype: 'FP32', parameters: { binary_data_size: data.byteLength } }],
      outputs: [{ name: 'output', parameters: { binary_data: true } }],
    }));
    const response = await fetch(`${url}/v2/models/mlp/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
      body: Buffer.concat([header, Buffer.from(data.buffer)]),
    });
    expect(response.status).toBe(200);
    const headerLength = Number(response.headers.get('inference-header-content-length'));
    const body = Buffer.from(await response.arrayBuffer());
    const json = JSON.parse(body.subarray(0, headerLength).toString());
    expect(json.outputs[0]).toMatchObject({ name: 'output', shape: [2, 4], parameters: { binary_data_size: 32 } });
    const values = new Float32Array(body.buffer.slice(body.byteOffset + headerLength, body.byteOffset + body.length));
    const plain = await post(`${url}/v2/models/mlp/infer`, { inputs: [fp32Input(2, 8, data)] });
    (plain.json.outputs[0].data as number[]).forEach((v, i) => expect(values[i]).toBeCloseTo(v, 6));
    // parameters.binary_data_output asks for every output in binary.
    const all = await post(`${url}/v2/models/mlp/infer`, { inputs: [fp32Input(2, 8, data)], parameters: { binary_data_output: true } });
    expect(all.headers.get('inference-header-content-length')).not.toBeNull();
  });

  test.each([
    ['malformed JSON', '{"inputs": [', 400, /malformed JSON/],
    ['no inputs', {}, 400, /"inputs" must be a non-empty array/],
    ['missing input', { inputs: [{ name: 'other', shape: [1, 8], datatype: 'FP32', data: Array(8).fill(0) }] }, 400, /unexpected input "other"/],
    ['wrong dtype', { inputs: [{ name: 'input', shape: [1, 8], datatype: 'INT32', data: Array(8).fill(0) }] }, 400, /must be FP32, got INT32/],
    ['unknown dtype', { inputs: [{ name: 'input', shape: [1, 8], datatype: 'FLOAT', data: Array(8).fill(0) }] }, 400, /unknown datatype "FLOAT"/],
    ['wrong shape', { inputs: [fp32Input(1, 7, Array(7).fill(0))] }, 400, /must have shape \[-1, 8\], got \[1, 7\]/],
    ['data length', { inputs: [{ name: 'input', shape: [1, 8], datatype: 'FP32', data: [1, 2] }] }, 400, /has 2 values, its shape \[1, 8\] needs 8/],
    ['non-number data', { inputs: [{ name: 'input', shape: [1, 2], datatype: 'FP32', data: [1, 'x'] }] }, 400, /element 1 must be a number/],
    ['batch too large', { inputs: [fp32Input(9, 8, Array(72).fill(0))] }, 400, /batch dim must be 1..8, got 9/],
    ['unknown output', { inputs: [fp32Input(1, 8, Array(8).fill(0))], outputs: [{ name: 'nope' }] }, 400, /unknown output "nope"/],
    ['bad priority', { inputs: [fp32Input(1, 8, Array(8).fill(0))], parameters: { priority: 'high' } }, 400, /parameters.priority must be an integer/],
    ['too many elements', { inputs: [{ name: 'input', shape: [1000, 8], datatype: 'FP32', data: [] }] }, 413, /more than 4096 tensor elements/],
  ])('%s: the right 4xx with a message', async (_name, body, status, message) => {
    const reply = await post(`${url}/v2/models/mlp/infer`, body);
    expect(reply.status).toBe(status);
    expect(reply.json.error).toMatch(message);
  });

  test('bad binary framing is a 400', async () => {
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, 8], datatype: 'FP32', parameters: { binary_data_size: 32 } }] }));
    const send = (headerLength: string, tail: Buffer) =>
      request(`${url}/v2/models/mlp/infer`, { method: 'POST', headers: { 'inference-header-content-length': headerLength }, body: Buffer.concat([header, tail]) });
    expect(await send(String(header.length), Buffer.alloc(16))).toMatchObject({ status: 400, json: { error: expect.stringMatching(/runs past the end/) } });
    expect(await send(String(header.length), Buffer.alloc(40))).toMatchObject({ status: 400, json: { error: expect.stringMatching(/add up to 32/) } });
    expect(await send('99999', Buffer.alloc(32))).toMatchObject({ status: 400, json: { error: expect.stringMatching(/inference-header-content-length/) } });
  });

  test('unknown model, unknown version, broken model, unknown route, body too large', async () => {
    const body = { inputs: [fp32Input(1, 8, Array(8).fill(0))] };
    expect((await post(`${url}/v2/models/nope/infer`, body)).status).toBe(404);
    expect((await post(`${url}/v2/models/mlp/versions/7/infer`, body)).status).toBe(404);
    const broken = await post(`${url}/v2/models/broken/infer`, body);
    expect(broken.status).toBe(400);
    expect(broken.json.error).toMatch(/broken\/config.json: max_batch_size/);
    expect((await request(`${url}/v2/nothing`)).status).toBe(404);
    const huge = await post(`${url}/v2/models/mlp/infer`, 'x'.repeat(300 * 1024));
    expect(huge.status).toBe(413);
    // And the server keeps serving.
    expect((await post(`${url}/v2/models/mlp/infer`, body)).status).toBe(200);
  });

  test('repository index lists every model with its state and reason', async () => {
    const index = await post(`${url}/v2/repository/index`);
    expect(index.status).toBe(200);
    expect(index.json).toEqual([
      { name: 'broken', state: 'UNAVAILABLE', reason: expect.stringMatching(/max_batch_size/) },
      { name: 'firstuse', version: '1', state: 'UNAVAILABLE', reason: expect.stringMatching(/loads on the first request/) },
      { name: 'lazy', version: '1', state: 'UNAVAILABLE', reason: expect.stringMatching(/loads on the first request/) },
      { name: 'mlp', version: '2', state: 'READY' },
    ]);
    const ready = await post(`${url}/v2/repository/index`, { ready: true });
    expect(ready.json.map((e: { name: string }) => e.name)).toEqual(['mlp']);
  });

  test('model control needs the admin token; load and unload', async () => {
    const lazy = `${url}/v2/repository/models/lazy`;
    expect(await post(`${lazy}/load`)).toMatchObject({ status: 401, json: { error: expect.stringMatching(/admin token/) } });
    const wrong = await post(`${lazy}/load`, undefined, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    expect((await post(`${lazy}/load`, undefined, ADMIN)).status).toBe(200);
    expect((await request(`${url}/v2/models/lazy/ready`)).status).toBe(200);
    const body = { inputs: [fp32Input(1, 8, Array(8).fill(0))] };
    expect((await post(`${url}/v2/models/lazy/infer`, body)).status).toBe(200);
    expect((await post(`${lazy}/unload`, undefined, ADMIN)).status).toBe(200);
    const unloaded = await post(`${url}/v2/models/lazy/infer`, body);
    expect(unloaded).toMatchObject({ status: 400, json: { error: expect.stringMatching(/is unloaded/) } });
    expect((await post(`${url}/v2/repository/index`)).json).toContainEqual({ name: 'lazy', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' });
    expect((await post(`${lazy}/load`, undefined, ADMIN)).status).toBe(200);
    expect((await post(`${url}/v2/models/lazy/infer`, body)).status).toBe(200);
    expect((await post(`${url}/v2/repository/models/nope/load`, undefined, ADMIN)).status).toBe(404);
    expect((await post(`${url}/v2/repository/models/nope/unload`, undefined, ADMIN)).status).toBe(404);
  });

  test('a lazy model loads on first use: a cache miss, then hits', async () => {
    const metrics = async () => (await request(`${url}/metrics`)).text;
    expect((await request(`${url}/v2/models/firstuse/ready`)).status).toBe(400);
    const body = { inputs: [fp32Input(1, 8, Array(8).fill(0))] };
    expect((await post(`${url}/v2/models/firstuse/infer`, body)).status).toBe(200);
    expect((await request(`${url}/v2/models/firstuse/ready`)).status).toBe(200);
    expect((await post(`${url}/v2/models/firstuse/infer`, body)).status).toBe(200);
    const text = await metrics();
    expect(metricValue(text, 'onnxforge_cache_misses_total', { model: 'firstuse' })).toBe(1);
    expect(metricValue(text, 'onnxforge_cache_hits_total', { model: 'firstuse' })).toBe(1);
    expect(metricValue(text, 'onnxforge_model_loads_total', { model: 'firstuse', outcome: 'success' })).toBe(1);
  });

  test('Prometheus metrics', async () => {
    const reply = await request(`${url}/metrics`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/text\/plain/);
    for (const name of [
      'onnxforge_requests_total', 'onnxforge_inferences_total', 'onnxforge_executions_total', 'onnxforge_batch_size_bucket',
      'onnxforge_queue_seconds_bucket', 'onnxforge_compute_seconds_bucket', 'onnxforge_cache_hits_total', 'onnxforge_cache_bytes',
      'onnxforge_process_resident_memory_bytes',
    ]) {
      expect(reply.text).toContain(name);
    }
    expect(metricValue(reply.text, 'onnxforge_requests_total', { model: 'mlp', outcome: 'success' })).toBeGreaterThan(3);
    expect(metricValue(reply.text, 'onnxforge_requests_total', { model: 'mlp', outcome: 'invalid' })).toBeGreaterThan(3);
  });
});

describe('server tokens', () => {
  test('an inference token guards inference and metadata, not health; no admin token means no model control', async () => {
    const repo = writeRepository({ mlp: { config: { preload: 'lazy' }, versions: { 1: smallMlp() } } });
    const server = createServer({ repository: repo, token: 'infer-secret' });
    const url = await server.listen({ port: 0 });
    try {
      await server.ready();
      expect((await request(`${url}/v2/health/ready`)).status).toBe(200);
      const body = { inputs: [fp32Input(1, 8, Array(8).fill(0))] };
      expect(await post(`${url}/v2/models/mlp/infer`, body)).toMatchObject({ status: 401, json: { error: expect.stringMatching(/needs a token/) } });
      expect((await request(`${url}/v2/models/mlp`)).status).toBe(401);
      expect((await post(`${url}/v2/models/mlp/infer`, body, { authorization: 'Bearer infer-secret' })).status).toBe(200);
      expect(await post(`${url}/v2/repository/models/mlp/load`, undefined, { authorization: 'Bearer infer-secret' })).toMatchObject({
        status: 403,
        json: { error: expect.stringMatching(/model control is disabled/) },
      });
    } finally {
      await server.close();
    }
  });
});
