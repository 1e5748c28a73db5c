// Per-request memory budget (issue 22): a request whose estimated activation memory passes the model's
// budget gets 413 request_memory_exceeded naming the estimate and the budget, before it runs; the
// requests admitted at once are capped at a total (503 past it); /v2/models/{m} shows both.
import { buildMlp } from '../../lib/onnx';
import { createServer, ModelServer } from '../../lib/serve/server';
import { writeRepository } from '../runtime/fixtures';
import { post, request } from './http';

const PER_ROW = 64 * 4 + 3 * 1024 * 4 + 2 * 64 * 4; // input + [n,1024] x3 + [n,64] x2, float32
const wide = () => buildMlp({ inputSize: 64, hidden: [1024], outputSize: 64 });
const body = (n: number) => ({ inputs: [{ name: 'input', datatype: 'FP32', shape: [n, 64], data: new Array(n * 64).fill(0.5) }] });

describe('per-request memory budget, from config.json', () => {
  let server: ModelServer;
  let url: string;

  beforeAll(async () => {
    // Isolation 'process' lets the test stop the instance, so admitted requests stay admitted.
    const config = { max_request_memory_bytes: 1024 * 1024, isolation: 'process' };
    server = createServer({ repository: writeRepository({ wide: { config, versions: { 1: wide() } } }) });
    url = await server.listen({ port: 0 });
    await server.ready();
  });

  afterAll(() => server.close());

  test('metadata shows the budget and the total', async () => {
    const meta = await request(`${url}/v2/models/wide`);
    expect(meta.json.memory).toMatchObject({ max_request_bytes: 1024 * 1024, max_batch_bytes: 1024 * 1024, admitted_bytes: 0 });
  });

  test('a request over the budget: 413 with the estimate and the budget; one under it runs', async () => {
    const over = await post(`${url}/v2/models/wide/infer`, body(100));
    expect(over.status).toBe(413);
    expect(over.json.code).toBe('request_memory_exceeded');
    expect(over.json.error).toContain(`(${100 * PER_ROW} bytes)`);
    expect(over.json.error).toContain('(1048576 bytes; max_request_memory_bytes)');
    const under = await post(`${url}/v2/models/wide/infer`, body(64));
    expect(under.status).toBe(200);
    expect(under.json.outputs[0].shape).toEqual([64, 64]);
  });

  test('the requests admitted at once stay within the total: past it 503 overloaded, and admitted again once answered', async () => {
    const [instance] = (await request(`${url}/v2/models/wide`)).json.instances as { pid: number }[];
    process.kill(instance.pid, 'SIGSTOP');
    const first = post(`${url}/v2/models/wide/infer`, body(64));
    const model = server.runtime.loadedModel('wide')!;
    while (!model.busy) await new Promise((resolve) => setImmediate(resolve));
    expect(model.memoryReport.admitted_bytes).toBe(64 * PER_ROW);
    const second = await post(`${url}/v2/models/wide/infer`, body(32));
    process.kill(instance.pid, 'SIGCONT');
    expect(second.status).toBe(503);
    expect(second.json.code).toBe('overloaded');
    expect(second.json.error).toMatch(/max_batch_memory_bytes/);
    expect((await first).status).toBe(200);
    expect(model.memoryReport.admitted_bytes).toBe(0);
    expect((await post(`${url}/v2/models/wide/infer`, body(32))).status).toBe(200);
  });
});

describe('per-request memory budget, from the server option', () => {
  let server: ModelServer;
  let url: string;

  beforeAll(async () => {
    server = createServer({ repository: writeRepository({ wide: { versions: { 1: wide() } } }), maxRequestMemoryBytes: 512 * 1024 });
    url = await server.listen({ port: 0 });
    await server.ready();
  });

  afterAll(() => server.close());

  test('a model without max_request_memory_bytes takes the server default', async () => {
    expect((await request(`${url}/v2/models/wide`)).json.memory).toMatchObject({ max_request_bytes: 512 * 1024, max_batch_bytes: 512 * 1024 });
    expect(await post(`${url}/v2/models/wide/infer`, body(64))).toMatchObject({ status: 413, json: { code: 'request_memory_exceeded' } });
    expect((await post(`${url}/v2/models/wide/infer`, body(32))).status).toBe(200);
  });
});
