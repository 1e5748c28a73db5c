// Batching, backpressure, timeouts, cancellation and draining, through a real server.
import { OrtEngine } from '../../lib/engine/ort-engine';
import { serializeModel } from '../../lib/onnx';
import { createServer, ModelServer } from '../../lib/serve/server';
import { rowsInput, smallMlp, writeRepository } from '../runtime/fixtures';
import { fp32Input, metricValue, post, request } from './http';

// Requests stay queued while a test holds the model's dispatch (pauseDispatch), not behind a slow run.
const slowBody = (rows = 2) => ({ inputs: [fp32Input(rows, 8, rowsInput(rows, 8))] });

async function startServer(models: Parameters<typeof writeRepository>[0], options: { maxInflight?: number } = {}): Promise<{ server: ModelServer; url: string }> {
  const server = createServer({ repository: writeRepository(models), ...options });
  const url = await server.listen({ port: 0 });
  await server.ready();
  return { server, url };
}

/** Resolves once \`condition\` holds, checking after each turn of the event loop (10 s bound: a hang fails). */
async function until(condition: () => boolean): Promise<void> {
  const limit = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > limit) throw new Error('condition never held');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('scheduling through the server', () => {
  let server: ModelServer;
  let url: string;
  const mlp = smallMlp(5);

  beforeAll(async () => {
    ({ server, url } = await startServer({
      batched: { config: { max_batch_size: 16, dynamic_batching: { max_queue_delay_ms: 50 } }, versions: { 1: mlp } },
      slow: { config: { queue: { max_size: 1 }, warmup: { samples: 0 } }, versions: { 1: smallMlp(3) } },
    }));
  });

  afterAll(() => server.close());

  const metrics = async () => (await request(`${url}/metrics`)).text;

  test('dynamic batching merges queued requests up to max_batch_size per run and each gets its own rows back', async () => {
    const before = await metrics();
    const rows = [1, 2, 1, 3, 1, 1, 2, 1, 1, 1, 2, 1];
    const inputs = rows.map((r, i) => rowsInput(r, 8, i * 13));
    const model = server.runtime.loadedModel('batched')!;
    const resume = model.pauseDispatch();
    const pending = inputs.map((data, i) => post(`${url}/v2/models/batched/infer`, { inputs: [fp32Input(rows[i], 8, data)] }));
    await until(() => model.queued === rows.length);
    resume();
    const replies = await Promise.all(pending);
    const after = await metrics();
    const executions = metricValue(after, 'onnxforge_executions_total', { model: 'batched' }) - metricValue(before, 'onnxforge_executions_total', { model: 'batched' });
    // 17 rows queued, max_batch_size 16: one full run of the first eleven requests, then the last one.
    expect(executions).toBe(2);
    expect(metricValue(after, 'onnxforge_inferences_total', { model: 'batched' }) - metricValue(before, 'onnxforge_inferences_total', { model: 'batched' })).toBe(17);
    const session = await new OrtEngine().load(serializeModel(mlp));
    try {
      for (let i = 0; i < rows.length; i++) {
        expect(replies[i].status).toBe(200);
        expect(replies[i].json.outputs[0].shape).toEqual([rows[i], 4]);
        const alone = await session.run({ input: { type: 'float32', dims: [rows[i], 8], data: inputs[i] } });
        const want = Array.from(alone.output.data as Float32Array);
        (replies[i].json.outputs[0].data as number[]).forEach((v, k) => expect(v).toBeCloseTo(want[k], 5));
      }
    } finally {
      await session.dispose();
    }
  });

  test('a full queue answers 503 with Retry-After, and the others still succeed', async () => {
    const model = server.runtime.loadedModel('slow')!;
    const resume = model.pauseDispatch();
    let replies: Awaited<ReturnType<typeof post>>[];
    try {
      // The first waits in the (one-place) queue while dispatch is held: the next ones find it full.
      const first = post(`${url}/v2/models/slow/infer`, slowBody());
      await until(() => model.queued === 1);
      const rejected = await Promise.all([0, 1].map(() => post(`${url}/v2/models/slow/infer`, slowBody())));
      resume();
      replies = [await first, ...rejected];
    } finally {
      resume();
    }
    expect(replies.map((r) => r.status)).toEqual([200, 503, 503]);
    expect(replies[1].headers.get('retry-after')).toBe('1');
    expect(replies[1].json.error).toMatch(/queue is full/);
  });

  test('a client that disconnects while its request is queued has it dropped, never run (counted as cancelled)', async () => {
    const model = server.runtime.loadedModel('batched')!;
    const before = await metrics();
    const resume = model.pauseDispatch();
    try {
      const controller = new AbortController();
      const abandoned = post(`${url}/v2/models/batched/infer`, { inputs: [fp32Input(2, 8, rowsInput(2, 8))] }, {}, controller.signal).catch((err: Error) => err);
      await until(() => model.queued === 1);
      controller.abort();
      expect(await abandoned).toBeInstanceOf(Error);
      // The server sees the closed connection and takes the request out of the queue.
      await until(() => model.queued === 0);
      const kept = post(`${url}/v2/models/batched/infer`, { inputs: [fp32Input(3, 8, rowsInput(3, 8))] });
      await until(() => model.queued === 1);
      resume();
      expect((await kept).status).toBe(200);
    } finally {
      resume();
    }
    const after = await metrics();
    const delta = (name: string, labels: Record<string, string>) => metricValue(after, name, labels) - metricValue(before, name, labels);
    expect(delta('onnxforge_requests_cancelled_total', { model: 'batched', reason: 'client', stage: 'queued' })).toBe(1);
    expect(delta('onnxforge_requests_total', { model: 'batched', outcome: 'cancelled' })).toBe(1);
    // Only the kept request's 3 rows ran, in one execution.
    expect(delta('onnxforge_executions_total', { model: 'batched' })).toBe(1);
    expect(delta('onnxforge_inferences_total', { model: 'batched' })).toBe(3);
  });

  test('a request whose deadline passes while queued gets 504 deadline_exceeded and never runs (Timeout-Ms header, parameters.timeout in µs)', async () => {
    const model = server.runtime.loadedModel('batched')!;
    const before = await metrics();
    const body = (extra: Record<string, unknown> = {}) => ({ inputs: [fp32Input(1, 8, rowsInput(1, 8))], ...extra });
    const resume = model.pauseDispatch();
    let replies: Awaited<ReturnType<typeof post>>[];
    try {
      // Nothing is dispatched while paused, so both deadlines pass in the queue whatever the machine's speed.
      replies = await Promise.all([
        post(`${url}/v2/models/batched/infer`, body(), { 'timeout-ms': '1' }),
        post(`${url}/v2/models/batched/infer`, body({ parameters: { timeout: 500 } })),
      ]);
    } finally {
      resume();
    }
    for (const reply of replies) {
      expect(reply.status).toBe(504);
      expect(reply.json.code).toBe('deadline_exceeded');
    }
    expect(replies[0].json.error).toMatch(/deadline exceeded: request timed out after 1 ms/);
    expect(replies[1].json.error).toMatch(/timed out after 0.5 ms/);
    const after = await metrics();
    const delta = (name: string, labels: Record<string, string>) => metricValue(after, name, labels) - metricValue(before, name, labels);
    expect(delta('onnxforge_requests_cancelled_total', { model: 'batched', reason: 'deadline', stage: 'queued' })).toBe(2);
    expect(delta('onnxforge_requests_total', { model: 'batched', outcome: 'deadline_exceeded' })).toBe(2);
    expect(delta('onnxforge_executions_total', { model: 'batched' })).toBe(0);
  });

  test('a malformed Timeout-Ms header or parameters.timeout is a 400', async () => {
    const body = { inputs: [fp32Input(1, 8, rowsInput(1, 8))] };
    const header = await post(`${url}/v2/models/batched/infer`, body, { 'timeout-ms': 'soon' });
    expect(header.status).toBe(400);
    expect(header.json.error).toMatch(/timeout-ms header must be a number of milliseconds >= 0, not "soon"/);
    const parameter = await post(`${url}/v2/models/batched/infer`, { ...body, parameters: { timeout: -5 } });
    expect(parameter.status).toBe(400);
    expect(parameter.json.error).toMatch(/parameters.timeout must be a number of microseconds >= 0/);
  });
});

describe('server limits and shutdown', () => {
  test('more requests in flight than allowed get 503 with Retry-After', async () => {
    const { server, url } = await startServer({ slow: { config: { warmup: { samples: 0 } }, versions: { 1: smallMlp() } } }, { maxInflight: 1 });
    try {
      const model = server.runtime.loadedModel('slow')!;
      const resume = model.pauseDispatch();
      const first = post(`${url}/v2/models/slow/infer`, slowBody());
      await until(() => model.queued === 1);
      const second = await post(`${url}/v2/models/slow/infer`, slowBody());
      resume();
      expect([(await first).status, second.status]).toEqual([200, 503]);
      expect(second.headers.get('retry-after')).toBe('1');
      expect(second.json.error).toMatch(/too many requests in flight/);
    } finally {
      await server.close();
    }
  });

  test('graceful shutdown answers every request in flight, then refuses connections', async () => {
    const { server, url } = await startServer({ slow: { config: { warmup: { samples: 0 } }, versions: { 1: smallMlp() } } });
    const model = server.runtime.loadedModel('slow')!;
    const resume = model.pauseDispatch();
    const pending = [0, 1, 2, 3].map(() => post(`${url}/v2/models/slow/infer`, slowBody()));
    // Close once all four wait in the queue.
    await until(() => model.queued === 4);
    const closed = server.close();
    resume();
    const replies = await Promise.all(pending);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    await closed;
    await expect(request(`${url}/v2/health/live`)).rejects.toThrow();
  });

});
