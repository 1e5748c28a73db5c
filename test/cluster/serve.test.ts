// serve --cluster: the KServe v2 API in front of worker processes, with the answers and errors of
// the in-process server (404, 400, 503 + Retry-After, 504, 501 for model control).
import { spawn } from 'child_process';
import * as path from 'path';
import { createClusterServer, type ClusterServer } from '../../lib/cluster/cluster-server';
import { CLI } from '../helpers/cli';
import { RedisServer, redisAbsent } from '../helpers/redis';
import { describeWhen } from '../helpers/skip';
import { makeTempDir, removeDir } from '../helpers/temp';
import { rowsInput, smallMlp } from '../runtime/fixtures';
import { fp32Input, metricValue, post, request as get } from '../serve/http';
import { expectedOutputs, jobEvents, streamTop, uniquePrefix, values } from './helpers';
import { FAST_CONFIG, repositoryWith, startWorker, type WorkerProcess } from './workers';

describeWhen(redisAbsent(), 'cluster: serve --cluster', () => {
  let redis: RedisServer;
  let dir: string;
  let worker: WorkerProcess;
  let server: ClusterServer;
  let url: string;
  const prefix = uniquePrefix();
  const mlp = smallMlp(5);

  beforeAll(async () => {
    redis = await RedisServer.start();
    dir = makeTempDir('onnxforge-serve-cluster-');
    worker = await startWorker(redis.url, repositoryWith(path.join(dir, 'repo'), 'mlp', FAST_CONFIG), 'front-worker', ['--prefix', prefix]);
    server = createClusterServer({ redis: redis.url, prefix, maxQueued: 1, adminToken: 'admin' });
    url = await server.listen({ port: 0 });
    await server.ready();
  });

  afterAll(async () => {
    await server?.close();
    await worker?.kill('SIGTERM');
    await redis?.close();
    removeDir(dir);
  });

  test('health, metadata, index and readiness come from the live workers', async () => {
    expect(await get(`${url}/v2/health/ready`)).toMatchObject({ status: 200, json: { ready: true } });
    expect((await get(`${url}/v2/models/mlp`)).json).toEqual({
      name: 'mlp', versions: ['1'], platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 8] }],
      outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 4] }],
    });
    expect((await post(`${url}/v2/repository/index`)).json).toEqual([{ name: 'mlp', version: '1', state: 'READY' }]);
    expect((await get(`${url}/v2/models/mlp/ready`)).status).toBe(200);
    expect((await get(`${url}/v2/models/nope/ready`)).status).toBe(404);
  });

  test('JSON and binary inference give what onnxruntime gives in-process', async () => {
    const data = rowsInput(3, 8);
    const [want] = await expectedOutputs(mlp, [{ input: { type: 'float32', dims: [3, 8], data } }]);
    const reply = await post(`${url}/v2/models/mlp/infer`, { id: 'r1', inputs: [fp32Input(3, 8, data)] });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ id: 'r1', model_name: 'mlp', model_version: '1', outputs: [{ name: 'output', datatype: 'FP32', shape: [3, 4] }] });
    expect(Float32Array.from(reply.json.outputs[0].data)).toEqual(want.data);
    const header = Buffer.from(JSON.stringify({
      inputs: [{ name: 'input', shape: [3, 8], datatype: 'FP32', parameters: { binary_data_size: data.byteLength } }],
      parameters: { binary_data_output: true },
    }));
    const binary = await fetch(`${url}/v2/models/mlp/infer`, {
      method: 'POST', headers: { 'inference-header-content-length': String(header.length) }, body: Buffer.concat([header, Buffer.from(data.buffer)]),
    });
    const body = Buffer.from(await binary.arrayBuffer());
    const length = Number(binary.headers.get('inference-header-content-length'));
    expect(Array.from(new Float32Array(body.buffer.slice(body.byteOffset + length, body.byteOffset + body.length)))).toEqual(values(want));
  });

  test('errors as the in-process server gives them: 404, 400, 503 with Retry-After, 504, 501', async () => {
    const body = { inputs: [fp32Input(1, 8, Array(8).fill(0))] };
    expect(await post(`${url}/v2/models/nope/infer`, body)).toMatchObject({ status: 404, json: { error: 'unknown model "nope": no live worker serves it' } });
    expect((await post(`${url}/v2/models/mlp/versions/3/infer`, body)).status).toBe(404);
    expect(await post(`${url}/v2/models/mlp/infer`, { inputs: [fp32Input(1, 7, Array(7).fill(0))] }))
      .toMatchObject({ status: 400, json: { error: 'input "input" must have shape [-1, 8], got [1, 7]' } });
    const queue = server.client.queues.get('infer.mlp');
    await queue.pause();
    try {
      // Paused: the job cannot start, so its timeout ends the request.
      expect(await post(`${url}/v2/models/mlp/infer`, { ...body, parameters: { timeout_ms: 50 } }))
        .toMatchObject({ status: 504, json: { error: 'request timed out after 50 ms' } });
      const from = await streamTop(redis.url, prefix, 'infer.mlp');
      const queued = post(`${url}/v2/models/mlp/infer`, body);
      await jobEvents(redis.url, prefix, 'infer.mlp', 'added', 1, from);
      const full = await post(`${url}/v2/models/mlp/infer`, body);
      expect(full).toMatchObject({ status: 503, json: { error: 'the queue of model "mlp" is full (1 waiting, limit 1); retry later' } });
      expect(full.headers.get('retry-after')).toBe('1');
      await queue.resume();
      expect((await queued).status).toBe(200);
    } finally {
      await queue.resume();
    }
    expect(await post(`${url}/v2/repository/models/mlp/load`, undefined, { authorization: 'Bearer admin' }))
      .toMatchObject({ status: 501, json: { error: expect.stringMatching(/model control is not available in front of a cluster/) } });
  });

  test('/metrics: requests by outcome, run and wait time, queue depth, live workers', async () => {
    const text = (await get(`${url}/metrics`)).text;
    expect(metricValue(text, 'onnxforge_cluster_requests_total', { model: 'mlp', outcome: 'success' })).toBeGreaterThanOrEqual(3);
    expect(metricValue(text, 'onnxforge_cluster_requests_total', { model: 'mlp', outcome: 'timeout' })).toBe(1);
    expect(metricValue(text, 'onnxforge_cluster_requests_total', { model: 'mlp', outcome: 'overloaded' })).toBe(1);
    expect(metricValue(text, 'onnxforge_cluster_run_seconds_count', { model: 'mlp' })).toBe(metricValue(text, 'onnxforge_cluster_requests_total', { model: 'mlp', outcome: 'success' }));
    expect(metricValue(text, 'onnxforge_cluster_queue_jobs', { model: 'mlp', state: 'waiting' })).toBe(0);
    expect(metricValue(text, 'onnxforge_cluster_workers')).toBe(1);
    expect(text).toMatch(/^onnxforge_cluster_worker_jobs\{worker="front-worker",state="active"\} 0$/m);
  });

  test('onnxforge serve --cluster starts, answers and stops on SIGINT', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--cluster', redis.url, '--prefix', prefix, '--port', '0', '--json']);
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const ready = await new Promise<{ url: string; models: unknown[] }>((resolve, reject) => {
      child.stdout.on('data', (c) => {
        stdout += c;
        try {
          resolve(JSON.parse(stdout));
        } catch {
          // Not complete yet.
        }
      });
      void exited.then((code) => reject(new Error(`exited with ${code}: ${stderr}`)));
    });
    expect(ready.models).toEqual([{ name: 'mlp', version: '1', state: 'READY' }]);
    expect((await post(`${ready.url}/v2/models/mlp/infer`, { inputs: [fp32Input(1, 8, Array(8).fill(0))] })).status).toBe(200);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/in front of the cluster at redis:\/\/127\.0\.0\.1:\d+/);
  });
});
