// A crash loop cannot spin (issue 22): an instance process that keeps dying is restarted at once, then
// after a backoff that only a step of the (fake) clock ends, and once it spends its restart budget the
// model answers 503 instance_failed (no Retry-After), /v2/models/{m} and /metrics say so, and loading
// the model again through the repository API brings it back. Real HTTP, real child processes; the
// test kills the children itself, and never sleeps.
import { createServer, ModelServer } from '../../lib/serve/server';
import { smallMlp, writeRepository } from '../runtime/fixtures';
import { FakeClock } from '../runtime/fake-clock';
import { metricValue, post, request } from './http';

const body = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 8], data: [1, 2, 3, 4, 5, 6, 7, 8] }] };
const ADMIN = 'crash-loop-admin';

describe('a crash-looping instance process', () => {
  let server: ModelServer;
  let url: string;
  const clock = new FakeClock();

  beforeAll(async () => {
    server = createServer({
      repository: writeRepository({ mlp: { config: { isolation: 'process', engine: 'ort' }, versions: { 1: smallMlp() } } }),
      restartPolicy: { maxRestarts: 2, windowMs: 60_000, backoffMs: 1_000, maxBackoffMs: 1_000 },
      clock,
      adminToken: ADMIN,
    });
    url = await server.listen({ port: 0 });
    await server.ready();
  });
  afterAll(() => server.close());

  const instance = async () => (await request(`${url}/v2/models/mlp`)).json.instances[0] as { pid: number; restarts: number; failure?: string };
  const metrics = async () => (await request(`${url}/metrics`)).text;

  /** Kills the current child and waits until the server has seen it die (restart counted or instance failed). */
  async function killChild(): Promise<{ pid: number; restarts: number }> {
    const before = await instance();
    process.kill(before.pid, 'SIGKILL');
    for (;;) {
      const now = await instance();
      if (now.restarts !== before.restarts || now.failure) return before;
    }
  }

  test('the first restart is immediate; the second waits for its backoff; the third death marks the instance failed', async () => {
    const expected = await post(`${url}/v2/models/mlp/infer`, body);
    expect(expected.status).toBe(200);

    // First death: restarted at once, no timer involved.
    const first = await killChild();
    expect(clock.pending).toBe(0);
    const afterFirst = await post(`${url}/v2/models/mlp/infer`, body);
    expect(afterFirst.status).toBe(200);
    expect(afterFirst.json.outputs).toEqual(expected.json.outputs);
    expect((await instance()).pid).not.toBe(first.pid);

    // Second death: the restart waits 1 s of the clock; a request sent meanwhile waits with it.
    await killChild();
    expect(clock.pending).toBe(1);
    const waiting = post(`${url}/v2/models/mlp/infer`, body);
    const model = server.runtime.loadedModel('mlp')!;
    while (!model.busy) await new Promise((resolve) => setImmediate(resolve));
    clock.advance(999);
    expect(clock.pending).toBe(1);
    clock.advance(1);
    const afterSecond = await waiting;
    expect(afterSecond.status).toBe(200);
    expect(afterSecond.json.outputs).toEqual(expected.json.outputs);
    expect((await instance()).restarts).toBe(2);

    // Third death within the window: the budget (2 restarts) is spent; nothing restarts it.
    await killChild();
    expect(clock.pending).toBe(0);
    const failed = await post(`${url}/v2/models/mlp/infer`, body);
    expect(failed.status).toBe(503);
    expect(failed.json.code).toBe('instance_failed');
    expect(failed.json.error).toMatch(/restarted 2 times within 60 s/);
    expect(failed.headers.get('retry-after')).toBeNull();
    const report = await instance();
    expect(report.restarts).toBe(2);
    expect(report.failure).toMatch(/marked failed: load the model again/);
    const text = await metrics();
    expect(metricValue(text, 'onnxforge_instances_failed', { model: 'mlp', version: '1' })).toBe(1);
    expect(metricValue(text, 'onnxforge_instance_restarts_total', { model: 'mlp', version: '1' })).toBe(2);
    const index = await post(`${url}/v2/repository/index`, {});
    expect(index.json).toContainEqual(expect.objectContaining({ name: 'mlp', state: 'UNAVAILABLE', reason: expect.stringMatching(/marked failed/) }));

    // Stepping the clock far ahead restarts nothing: the failed state holds until an operator acts.
    clock.advance(3_600_000);
    expect((await post(`${url}/v2/models/mlp/infer`, body)).json.code).toBe('instance_failed');
  });

  test('loading the model again brings it back with a fresh budget', async () => {
    const load = await post(`${url}/v2/repository/models/mlp/load`, {}, { authorization: `Bearer ${ADMIN}` });
    expect(load.status).toBe(200);
    const next = await post(`${url}/v2/models/mlp/infer`, body);
    expect(next.status).toBe(200);
    const report = await instance();
    expect(report).toMatchObject({ restarts: 0 });
    expect(report.failure).toBeUndefined();
    expect(metricValue(await metrics(), 'onnxforge_instances_failed', { model: 'mlp', version: '1' })).toBe(0);
  });
});
