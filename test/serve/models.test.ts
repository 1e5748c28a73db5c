// Model lifecycle through the server: the memory-budget cache, warm-up before ready, reloads.
import * as fs from 'fs';
import * as path from 'path';
import { createServer, ModelServer } from '../../lib/serve/server';
import { smallMlp, writeModel, writeRepository } from '../runtime/fixtures';
import { fp32Input, metricValue, post, request, sleep } from './http';

const ADMIN = { authorization: 'Bearer admin' };
const body = { inputs: [fp32Input(1, 8, Array(8).fill(0.5))] };

async function indexOf(url: string): Promise<Record<string, { state: string; reason?: string; version?: string }>> {
  const reply = await post(`${url}/v2/repository/index`);
  return Object.fromEntries((reply.json as { name: string; state: string; reason?: string }[]).map((e) => [e.name, e]));
}

describe('model cache under a memory budget', () => {
  let server: ModelServer;
  let url: string;

  beforeAll(async () => {
    // Each model declares 1000 bytes; the budget holds two of them.
    const lazy = (extra: Record<string, unknown> = {}) => ({ config: { preload: 'lazy', memory_bytes: 1000, warmup: { samples: 0 }, ...extra }, versions: { 1: smallMlp() } });
    const repo = writeRepository({
      pinned: { config: { pinned: true, memory_bytes: 1000, warmup: { samples: 0 } }, versions: { 1: smallMlp() } },
      a: lazy(),
      b: lazy(),
      huge: lazy({ memory_bytes: 10_000 }),
      idle: lazy({ memory_bytes: 100, idle_unload_ms: 200 }),
    });
    server = createServer({ repository: repo, memoryBudgetBytes: 2100 });
    url = await server.listen({ port: 0 });
    await server.ready();
  });

  afterAll(() => server.close());

  test('least recently used models are evicted to make room; pinned ones stay', async () => {
    expect((await indexOf(url)).pinned.state).toBe('READY');
    expect((await post(`${url}/v2/models/a/infer`, body)).status).toBe(200);
    expect((await post(`${url}/v2/models/pinned/infer`, body)).status).toBe(200);
    // pinned + a fill the budget; b evicts a, the least recently used model that is not pinned.
    expect((await post(`${url}/v2/models/b/infer`, body)).status).toBe(200);
    const index = await indexOf(url);
    expect(index.pinned.state).toBe('READY');
    expect(index.b.state).toBe('READY');
    expect(index.a).toMatchObject({ state: 'UNAVAILABLE', reason: expect.stringMatching(/evicted to make room/) });
    // An evicted model loads again on its next request.
    expect((await post(`${url}/v2/models/a/infer`, body)).status).toBe(200);
    expect((await indexOf(url)).b.state).toBe('UNAVAILABLE');
    const metrics = (await request(`${url}/metrics`)).text;
    expect(metricValue(metrics, 'onnxforge_cache_evictions_total', { model: 'a', reason: 'budget' })).toBe(1);
    expect(metricValue(metrics, 'onnxforge_cache_evictions_total', { model: 'b', reason: 'budget' })).toBe(1);
    expect(metricValue(metrics, 'onnxforge_cache_evictions_total', { model: 'pinned' })).toBe(0);
    expect(metricValue(metrics, 'onnxforge_cache_bytes')).toBe(2000);
    expect(metricValue(metrics, 'onnxforge_cache_budget_bytes')).toBe(2100);
  });

  test('a model larger than the whole budget is refused, without Retry-After', async () => {
    const reply = await post(`${url}/v2/models/huge/infer`, body);
    expect(reply.status).toBe(503);
    expect(reply.json.error).toMatch(/needs 9.77 KiB, more than the whole memory budget/);
    expect(reply.headers.get('retry-after')).toBeNull();
  });

  test('an idle model unloads after its idle_unload_ms', async () => {
    expect((await post(`${url}/v2/models/idle/infer`, body)).status).toBe(200);
    expect((await indexOf(url)).idle.state).toBe('READY');
    const deadline = Date.now() + 5000;
    while ((await indexOf(url)).idle.state === 'READY' && Date.now() < deadline) await sleep(50);
    expect((await indexOf(url)).idle).toMatchObject({ state: 'UNAVAILABLE', reason: expect.stringMatching(/unloaded after idling/) });
    const metrics = (await request(`${url}/metrics`)).text;
    expect(metricValue(metrics, 'onnxforge_cache_evictions_total', { model: 'idle', reason: 'idle' })).toBe(1);
    expect((await post(`${url}/v2/models/idle/infer`, body)).status).toBe(200);
  });
});

describe('model lifecycle', () => {
  test('eager models are loaded and warmed up on every instance before the server reports ready', async () => {
    const repo = writeRepository({
      warm: {
        config: { max_batch_size: 4, dynamic_batching: {}, instances: { count: 2 }, threads: 1, warmup: { samples: 3, batch_sizes: [1, 4] } },
        versions: { 1: smallMlp() },
      },
    });
    const server = createServer({ repository: repo });
    const url = await server.listen({ port: 0 });
    try {
      expect((await request(`${url}/v2/health/live`)).status).toBe(200);
      expect(await request(`${url}/v2/health/ready`)).toMatchObject({ status: 503, json: { ready: false } });
      await server.ready();
      expect((await request(`${url}/v2/health/ready`)).status).toBe(200);
      expect((await request(`${url}/v2/models/warm/ready`)).status).toBe(200);
      // 3 samples x 2 batch sizes on each of 2 instances; warm-up runs are not counted as executions.
      expect(server.runtime.loadedModel('warm')?.warmupRuns).toBe(12);
      const metrics = (await request(`${url}/metrics`)).text;
      expect(metricValue(metrics, 'onnxforge_executions_total', { model: 'warm' })).toBe(0);
      expect(metricValue(metrics, 'onnxforge_cache_misses_total', { model: 'warm' })).toBe(0);
      expect((await post(`${url}/v2/models/warm/infer`, body)).status).toBe(200);
      expect(metricValue((await request(`${url}/metrics`)).text, 'onnxforge_cache_hits_total', { model: 'warm' })).toBe(1);
    } finally {
      await server.close();
    }
  });

  test('a failed reload keeps the loaded version serving; a good one switches over', async () => {
    const repo = writeRepository({ m: { config: { max_batch_size: 4 }, versions: { 1: smallMlp(1) } } });
    const server = createServer({ repository: repo, adminToken: 'admin' });
    const url = await server.listen({ port: 0 });
    try {
      await server.ready();
      const load = () => post(`${url}/v2/repository/models/m/load`, undefined, ADMIN);
      // A new version whose file is not a model.
      fs.mkdirSync(path.join(repo, 'm', '2'));
      fs.writeFileSync(path.join(repo, 'm', '2', 'model.onnx'), 'not a model');
      const bad = await load();
      expect(bad.status).toBe(400);
      expect(bad.json.error).toMatch(/failed to load model "m": .*; the loaded version keeps serving/);
      expect(await post(`${url}/v2/models/m/infer`, body)).toMatchObject({ status: 200, json: { model_version: '1' } });
      expect((await indexOf(url)).m).toMatchObject({ version: '1', state: 'READY' });
      // A broken config.
      fs.writeFileSync(path.join(repo, 'm', 'config.json'), '{"max_batch_size": "four"}');
      expect(await load()).toMatchObject({ status: 400, json: { error: expect.stringMatching(/m\/config.json: max_batch_size/) } });
      expect((await post(`${url}/v2/models/m/infer`, body)).status).toBe(200);
      // Fixed: version 2 takes over.
      writeModel(repo, 'm', { config: { max_batch_size: 4 }, versions: { 2: smallMlp(2) } });
      expect((await load()).status).toBe(200);
      expect(await post(`${url}/v2/models/m/infer`, body)).toMatchObject({ status: 200, json: { model_version: '2' } });
      expect((await post(`${url}/v2/models/m/versions/1/infer`, body)).status).toBe(404);
      const metrics = (await request(`${url}/metrics`)).text;
      expect(metricValue(metrics, 'onnxforge_model_loads_total', { model: 'm', outcome: 'failure' })).toBe(1);
    } finally {
      await server.close();
    }
  });
});
