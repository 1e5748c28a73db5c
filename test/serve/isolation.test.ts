// isolation 'process' (issue 22): a model's instance runs in a child process; when the child is killed
// mid-request, that request gets 503 instance_restarting, the instance is restarted, the next request
// succeeds on it, and the restart is counted. Real HTTP on 127.0.0.1, real child processes.
import { createServer, ModelServer } from '../../lib/serve/server';
import { smallMlp, writeRepository } from '../runtime/fixtures';
import { metricValue, post, request } from './http';

const body = { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 8], data: Array.from({ length: 16 }, (_, i) => i / 16) }] };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("isolation 'process', a model that does not load", () => {
  test('the child reports the load error: the model is unavailable, naming why (400 model_unavailable)', async () => {
    const server = createServer({ repository: writeRepository({ bad: { config: { isolation: 'process' }, versions: { 1: 'not a model' } } }) });
    const url = await server.listen({ port: 0 });
    await server.ready();
    try {
      const reply = await post(`${url}/v2/models/bad/infer`, body);
      expect(reply.status).toBe(400);
      expect(reply.json.code).toBe('model_unavailable');
      expect(reply.json.error).toMatch(/version 1 failed to load: .*model\.onnx/);
    } finally {
      await server.close();
    }
  });
});

describe("isolation 'process'", () => {
  let server: ModelServer;
  let url: string;

  beforeAll(async () => {
    server = createServer({ repository: writeRepository({ mlp: { config: { isolation: 'process' }, versions: { 1: smallMlp() } } }) });
    url = await server.listen({ port: 0 });
    await server.ready();
  });

  afterAll(() => server.close());

  const instances = async () => (await request(`${url}/v2/models/mlp`)).json.instances as { isolation: string; pid: number; restarts: number }[];

  test('SIGKILL of the child mid-request: 503 instance_restarting, then served by a restarted child, restart counted', async () => {
    const expected = await post(`${url}/v2/models/mlp/infer`, body);
    expect(expected.status).toBe(200);
    const [before] = await instances();
    expect(before).toMatchObject({ isolation: 'process', restarts: 0 });
    expect(before.pid).not.toBe(process.pid);

    // A stopped child cannot answer: the request is surely in flight when the child is killed.
    process.kill(before.pid, 'SIGSTOP');
    const inflight = post(`${url}/v2/models/mlp/infer`, body);
    const model = server.runtime.loadedModel('mlp')!;
    while (!model.busy) await new Promise((resolve) => setImmediate(resolve));
    process.kill(before.pid, 'SIGKILL');
    const killed = await inflight;
    expect(killed.status).toBe(503);
    expect(killed.json).toMatchObject({ code: 'instance_restarting' });
    expect(killed.headers.get('retry-after')).toBe('1');

    const next = await post(`${url}/v2/models/mlp/infer`, body);
    expect(next.status).toBe(200);
    expect(next.json.outputs).toEqual(expected.json.outputs);
    const [after] = await instances();
    expect(after.restarts).toBe(1);
    expect(after.pid).not.toBe(before.pid);
    expect(alive(after.pid)).toBe(true);
    const metrics = (await request(`${url}/metrics`)).text;
    expect(metricValue(metrics, 'onnxforge_instance_restarts_total', { model: 'mlp', version: '1' })).toBe(1);
  });

  test('a child killed while idle: the next request waits for the restart and succeeds', async () => {
    const [before] = await instances();
    process.kill(before.pid, 'SIGKILL');
    // Once the server has seen the exit (restart counted), a request waits for the new child.
    while ((await instances())[0].restarts === before.restarts);
    const next = await post(`${url}/v2/models/mlp/infer`, body);
    expect(next.status).toBe(200);
    const [after] = await instances();
    expect(after.restarts).toBe(before.restarts + 1);
    expect(after.pid).not.toBe(before.pid);
  });

  test('close ends the children', async () => {
    const [instance] = await instances();
    await server.close();
    expect(alive(instance.pid)).toBe(false);
  });
});
