// Storms (issue 22): every kind of malformed request, many times over and all at once, each answered
// with its own status and code while the server keeps serving; and a storm of large requests after which
// the instance's memory is back near where it started (onnxruntime's arena off, glibc's mmap threshold
// fixed in the instance process). Real HTTP on 127.0.0.1.
import * as fs from 'fs';
import { buildMlp } from '../../lib/onnx';
import { createServer, ModelServer } from '../../lib/serve/server';
import { describeWhen } from '../helpers/skip';
import { smallMlp, writeRepository } from '../runtime/fixtures';
import { post, Reply, request } from './http';

const good = { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 8], data: Array.from({ length: 16 }, (_, i) => i / 16) }] };
const wide = () => buildMlp({ inputSize: 64, hidden: [1024], outputSize: 64 });

interface BadCase {
  what: string;
  send(url: string): Promise<Reply>;
  status: number;
  code: string;
}

const infer = (url: string, model = 'mlp') => `${url}/v2/models/${model}/infer`;
const input = (fields: Record<string, unknown>) => ({ inputs: [{ ...good.inputs[0], ...fields }] });

const BAD: BadCase[] = [
  { what: 'malformed JSON', send: (url) => post(infer(url), '{"inputs": [', {}), status: 400, code: 'invalid_request' },
  { what: 'wrong dtype', send: (url) => post(infer(url), input({ datatype: 'INT32' })), status: 400, code: 'invalid_request' },
  { what: 'unknown dtype', send: (url) => post(infer(url), input({ datatype: 'FP99' })), status: 400, code: 'invalid_request' },
  { what: 'wrong shape', send: (url) => post(infer(url), input({ shape: [4, 4] })), status: 400, code: 'invalid_request' },
  { what: 'data shorter than the shape', send: (url) => post(infer(url), input({ shape: [3, 8] })), status: 400, code: 'invalid_request' },
  { what: 'zero dim', send: (url) => post(infer(url), input({ shape: [0, 8], data: [] })), status: 400, code: 'invalid_request' },
  { what: 'huge dims', send: (url) => post(infer(url), input({ shape: [2 ** 40, 2 ** 40], data: [] })), status: 413, code: 'payload_too_large' },
  { what: 'wrong content type', send: (url) => post(infer(url), JSON.stringify(good), { 'content-type': 'text/plain' }), status: 415, code: 'unsupported_media_type' },
  { what: 'deep JSON', send: (url) => post(infer(url), `{"inputs":${'['.repeat(5000)}${']'.repeat(5000)}}`), status: 400, code: 'invalid_request' },
  { what: 'unknown model', send: (url) => post(infer(url, 'nope'), good), status: 404, code: 'model_not_found' },
  { what: 'binary header past the body', send: (url) => post(infer(url), '{}', { 'inference-header-content-length': '999' }), status: 400, code: 'invalid_request' },
  {
    what: 'over the memory budget',
    send: (url) => post(infer(url, 'wide'), { inputs: [{ name: 'input', datatype: 'FP32', shape: [100, 64], data: new Array(6400).fill(1) }] }),
    status: 413,
    code: 'request_memory_exceeded',
  },
];

describe('a storm of bad requests', () => {
  let server: ModelServer;
  let url: string;

  beforeAll(async () => {
    const repo = writeRepository({
      mlp: { versions: { 1: smallMlp() } },
      wide: { config: { max_request_memory_bytes: 1024 * 1024 }, versions: { 1: wide() } },
    });
    server = createServer({ repository: repo });
    url = await server.listen({ port: 0 });
    await server.ready();
  });

  afterAll(() => server.close());

  test('each malformed request, 10 times over and all at once, gets its status and code; the next good request is served', async () => {
    const reference = await post(infer(url), good);
    expect(reference.status).toBe(200);
    const storm = Array.from({ length: 10 }, () => BAD).flat();
    const replies = await Promise.all(storm.map((c) => c.send(url)));
    const wrong = replies
      .map((reply, i) => ({ what: storm[i].what, status: reply.status, code: reply.json?.code }))
      .filter((r, i) => r.status !== storm[i].status || r.code !== storm[i].code);
    expect(wrong).toEqual([]);
    expect((await request(`${url}/v2/health/ready`)).status).toBe(200);
    const after = await post(infer(url), good);
    expect(after.status).toBe(200);
    expect(after.json.outputs).toEqual(reference.json.outputs);
  });
});

/** Resident memory of a process, from /proc. */
function residentBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

describeWhen(fs.existsSync('/proc/self/status') ? undefined : 'reads resident memory from /proc (Linux only)', 'a storm of large requests', () => {
  const ROWS = 16384;
  let server: ModelServer;
  let url: string;

  beforeAll(async () => {
    // Isolation 'process': the instance's own memory is measured, apart from the test runner's. Pinned to
    // onnxruntime: the setting under test is its arena (memory_arena); the native engine keeps its own buffers.
    server = createServer({ repository: writeRepository({ wide: { config: { isolation: 'process', threads: 1, engine: 'ort' }, versions: { 1: wide() } } }) });
    url = await server.listen({ port: 0 });
    await server.ready();
  });

  afterAll(() => server.close());

  test('after 12 requests of 4 MiB (each ~200 MiB of activations), the instance holds less than 20x one request (80 MiB) more than before, not the activations', async () => {
    const data = new Float32Array(ROWS * 64).fill(0.5);
    const header = Buffer.from(JSON.stringify({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [ROWS, 64], parameters: { binary_data_size: data.byteLength } }],
      outputs: [{ name: 'output', parameters: { binary_data: true } }],
    }));
    const body = Buffer.concat([header, Buffer.from(data.buffer)]);
    const send = () => request(infer(url, 'wide'), {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
      body,
    });
    const [instance] = (await request(`${url}/v2/models/wide`)).json.instances as { pid: number }[];
    const before = residentBytes(instance.pid);
    for (let round = 0; round < 3; round++) {
      const replies = await Promise.all([send(), send(), send(), send()]);
      expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    }
    const activations = ROWS * (64 * 4 + 3 * 1024 * 4 + 2 * 64 * 4);
    expect(activations).toBeGreaterThan(50 * data.byteLength);
    const grown = residentBytes(instance.pid) - before;
    // Measured here: +26 to +51 MiB with the arena off (the child's V8 heaps keep some request buffers);
    // with onnxruntime's arena on, +138 MiB or more: the arena keeps the peak.
    expect(grown).toBeLessThan(20 * data.byteLength);
  });
});
