// What a client sees when a request fails: a stable code and a short message; the engine's internals
// (its messages, the model's paths) go to the server's log (issue 22). Real HTTP on 127.0.0.1.
import { GraphBuilder } from '../../lib/onnx/builder';
import { createServer, ModelServer } from '../../lib/serve/server';
import { writeRepository } from '../runtime/fixtures';
import { post } from './http';

/** indices (int64, [n]) -> Gather over 3 constant values: an index out of range fails inside onnxruntime. */
function gatherModel() {
  const g = new GraphBuilder('gather');
  const indices = g.input('indices', 'int64', ['n']);
  const table = g.initializer('table', Float32Array.of(1, 2, 3), [3]);
  g.node('Gather', [table, indices], ['values']);
  g.output('values', 'float32');
  return g.build({ opset: 13 });
}

describe('error bodies', () => {
  let server: ModelServer;
  let url: string;
  const logged: string[] = [];

  beforeAll(async () => {
    // No warm-up: its generated indices could fall outside the table too.
    const repo = writeRepository({ gather: { config: { warmup: { samples: 0 } }, versions: { 1: gatherModel() } } });
    server = createServer({ repository: repo, log: (line) => logged.push(line) });
    url = await server.listen({ port: 0 });
    await server.ready();
  });

  afterAll(() => server.close());

  const infer = (indices: number[]) => post(`${url}/v2/models/gather/infer`, {
    inputs: [{ name: 'indices', datatype: 'INT64', shape: [indices.length], data: indices }],
  });

  test('an engine failure: 500 with code execution_failed, no engine message or path; the detail is logged', async () => {
    const failed = await infer([99]);
    expect(failed.status).toBe(500);
    expect(failed.json).toEqual({ error: 'the model failed to run this request (the server log has the detail)', code: 'execution_failed' });
    expect(logged.some((line) => line.startsWith('execution_failed:') && /99/.test(line))).toBe(true);
    // The next request is served.
    const ok = await infer([2, 0]);
    expect(ok.status).toBe(200);
    expect((ok.json as { outputs: { data: number[] }[] }).outputs[0].data).toEqual([3, 1]);
  });

  test('the caller\'s mistakes keep their message, with a stable code', async () => {
    const bad = await infer([]);
    expect(bad).toMatchObject({ status: 400, json: { code: 'invalid_request', error: expect.stringMatching(/shape must be an array of positive integers/) } });
    expect(await post(`${url}/v2/models/nope/infer`, { inputs: [{ name: 'indices', datatype: 'INT64', shape: [1], data: [0] }] })).toMatchObject({ status: 404, json: { code: 'model_not_found' } });
  });
});

describe('bodies that cannot be requests', () => {
  let server: ModelServer;
  let url: string;

  beforeAll(async () => {
    server = createServer({ repository: writeRepository({ gather: { config: { warmup: { samples: 0 } }, versions: { 1: gatherModel() } } }) });
    url = await server.listen({ port: 0 });
    await server.ready();
  });

  afterAll(() => server.close());

  const body = { inputs: [{ name: 'indices', datatype: 'INT64', shape: [1], data: [1] }] };

  test('a content type that is neither JSON nor binary: 415, not parsed as JSON anyway', async () => {
    const reply = await post(`${url}/v2/models/gather/infer`, JSON.stringify(body), { 'content-type': 'text/html' });
    expect(reply).toMatchObject({ status: 415, json: { code: 'unsupported_media_type', error: expect.stringMatching(/content-type text\/html/) } });
    expect((await post(`${url}/v2/models/gather/infer`, body, { 'content-type': 'application/json; charset=utf-8' })).status).toBe(200);
  });

  test('JSON nested deeper than any request: 400 before JSON.parse; the server answers the next request', async () => {
    const deep = `{"inputs":${'['.repeat(100000)}${']'.repeat(100000)}}`;
    expect(await post(`${url}/v2/models/gather/infer`, deep)).toMatchObject({ status: 400, json: { code: 'invalid_request', error: expect.stringMatching(/nested deeper than 64/) } });
    // Brackets inside strings do not count.
    const named = { ...body, id: '[[[['.repeat(40) };
    expect((await post(`${url}/v2/models/gather/infer`, named)).status).toBe(200);
  });
});
