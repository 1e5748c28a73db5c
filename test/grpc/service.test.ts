// `onnxforge serve --grpc-port` driven by a grpc-js client built from the same .proto: health,
// metadata, inference with raw and typed contents (checked against onnxruntime-node's own output
// for the same inputs), requested outputs, errors as gRPC status codes, repository load/unload.
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { status } from '@grpc/grpc-js';
import { packageVersion } from '../../lib/package-info';
import { rowsInput, smallMlp, writeRepository } from '../runtime/fixtures';
import { removeDir } from '../helpers/temp';
import { connect, failure, InferenceClient } from './client';
import { mixedModel } from './fixtures';
import { startServe, ServeProcess } from './serve-process';

const ADMIN = 'admin-secret';
const MAX_MESSAGE = 64 * 1024;
let repo: string;
let serve: ServeProcess;
let client: InferenceClient;

beforeAll(async () => {
  repo = writeRepository({
    mlp: { config: { max_batch_size: 8, dynamic_batching: {} }, versions: { 1: smallMlp(7) } },
    mixed: { config: { warmup: { samples: 0 } }, versions: { 1: mixedModel() } },
    spare: { config: { preload: 'lazy' }, versions: { 1: smallMlp(3) } },
    broken: { config: { max_batch_size: 'many' }, versions: { 1: smallMlp() } },
  });
  serve = await startServe(repo, ['--admin-token', ADMIN, '--grpc-max-message-bytes', String(MAX_MESSAGE)]);
  client = connect(serve.grpc);
});

afterAll(async () => {
  client?.close();
  if (serve) expect(await serve.stop()).toBe(0);
  removeDir(repo);
});

/** onnxruntime-node's outputs for the model file the server serves. */
async function ortRun(model: string, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
  const session = await ort.InferenceSession.create(path.join(repo, model, '1', 'model.onnx'));
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function floats(bytes: Buffer): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

/** BYTES raw contents: a 4-byte little-endian length before each element. */
function bytesElements(raw: Buffer): string[] {
  const out: string[] = [];
  for (let offset = 0; offset < raw.length;) {
    const length = raw.readUInt32LE(offset);
    out.push(raw.toString('utf8', offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return out;
}

function bytesRaw(values: string[]): Buffer {
  return Buffer.concat(values.flatMap((v) => {
    const length = Buffer.alloc(4);
    length.writeUInt32LE(Buffer.byteLength(v));
    return [length, Buffer.from(v)];
  }));
}

const mlpRequest = (rows: number, extra: object = {}) => ({
  model_name: 'mlp',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, 8] }],
  raw_input_contents: [Buffer.from(rowsInput(rows, 8).buffer)],
  ...extra,
});

test('server live, ready and metadata', async () => {
  expect(await client.call('ServerLive', {})).toEqual({ live: true });
  expect(await client.call('ServerReady', {})).toEqual({ ready: true });
  expect(await client.call('ServerMetadata', {})).toEqual({ name: 'onnxforge', version: packageVersion(), extensions: ['model_repository'] });
});

test('model metadata and readiness; unknown models and versions are NOT_FOUND', async () => {
  expect(await client.call('ModelMetadata', { name: 'mlp' })).toEqual({
    name: 'mlp', versions: ['1'], platform: 'onnxruntime_onnx',
    inputs: [{ name: 'input', datatype: 'FP32', shape: ['-1', '8'] }],
    outputs: [{ name: 'output', datatype: 'FP32', shape: ['-1', '4'] }],
  });
  expect(await client.call('ModelReady', { name: 'mlp' })).toEqual({ ready: true });
  expect(await client.call('ModelReady', { name: 'mlp', version: '1' })).toEqual({ ready: true });
  expect(await client.call('ModelReady', { name: 'broken' })).toEqual({ ready: false });
  expect(await failure(client.call('ModelReady', { name: 'mlp', version: '9' }))).toEqual({ code: status.NOT_FOUND, details: 'model "mlp" has no version 9' });
  expect(await failure(client.call('ModelMetadata', { name: 'nope' }))).toEqual({ code: status.NOT_FOUND, details: 'unknown model "nope"' });
  expect((await failure(client.call('ModelMetadata', { name: '' }))).code).toBe(status.INVALID_ARGUMENT);
});

test('raw input contents in, raw output contents out, equal to onnxruntime-node on the same input', async () => {
  const response = await client.call('ModelInfer', mlpRequest(3, { id: 'req-1' }));
  expect(response).toMatchObject({ model_name: 'mlp', model_version: '1', id: 'req-1', outputs: [{ name: 'output', datatype: 'FP32', shape: ['3', '4'], contents: null }] });
  expect(response.raw_output_contents).toHaveLength(1);
  const expected = await ortRun('mlp', { input: new ort.Tensor('float32', rowsInput(3, 8), [3, 8]) });
  const got = floats(response.raw_output_contents[0]);
  const want = expected.output.data as Float32Array;
  expect(got).toHaveLength(12);
  got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
});

test('typed contents of three datatypes in, typed contents out for the requested outputs only, in their order', async () => {
  const x = rowsInput(2, 8);
  const k = [1, -2, 3, 40000, 5, -6];
  const tag = ['héllo', ''];
  const response = await client.call('ModelInfer', {
    model_name: 'mixed',
    inputs: [
      { name: 'x', datatype: 'FP32', shape: [2, 8], contents: { fp32_contents: Array.from(x) } },
      { name: 'k', datatype: 'INT32', shape: [2, 3], contents: { int_contents: k } },
      { name: 'tag', datatype: 'BYTES', shape: [2], contents: { bytes_contents: tag.map((t) => Buffer.from(t)) } },
    ],
    outputs: [{ name: 'tag_out' }, { name: 'k2' }],
    parameters: { binary_data_output: { bool_param: false } },
  });
  expect(response.raw_output_contents).toEqual([]);
  expect(response.outputs.map((o: { name: string }) => o.name)).toEqual(['tag_out', 'k2']);
  const expected = await ortRun('mixed', {
    x: new ort.Tensor('float32', x, [2, 8]), k: new ort.Tensor('int32', Int32Array.from(k), [2, 3]), tag: new ort.Tensor('string', tag, [2]),
  });
  const [tagOut, k2] = response.outputs;
  expect(tagOut).toMatchObject({ datatype: 'BYTES', shape: ['2'] });
  expect(tagOut.contents.bytes_contents.map((b: Buffer) => b.toString('utf8'))).toEqual(expected.tag_out.data);
  expect(k2).toMatchObject({ datatype: 'INT32', shape: ['2', '3'] });
  expect(k2.contents.int_contents).toEqual(Array.from(expected.k2.data as Int32Array));
  expect(k2.contents.int_contents).toEqual(k.map((v) => v * v));
});

test('raw contents of three datatypes; every output comes back raw by default', async () => {
  const x = rowsInput(1, 8, 3);
  const k = Int32Array.from([7, -8, 9]);
  const response = await client.call('ModelInfer', {
    model_name: 'mixed',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 8] }, { name: 'k', datatype: 'INT32', shape: [1, 3] }, { name: 'tag', datatype: 'BYTES', shape: [1] }],
    raw_input_contents: [Buffer.from(x.buffer), Buffer.from(k.buffer), bytesRaw(['raw tag'])],
  });
  expect(response.outputs.map((o: { name: string; datatype: string }) => [o.name, o.datatype])).toEqual([['y', 'FP32'], ['k2', 'INT32'], ['tag_out', 'BYTES']]);
  const expected = await ortRun('mixed', { x: new ort.Tensor('float32', x, [1, 8]), k: new ort.Tensor('int32', k, [1, 3]), tag: new ort.Tensor('string', ['raw tag'], [1]) });
  const [y, k2, tagOut] = response.raw_output_contents as Buffer[];
  floats(y).forEach((v, i) => expect(v).toBeCloseTo((expected.y.data as Float32Array)[i], 5));
  expect(Array.from(new Int32Array(k2.buffer.slice(k2.byteOffset, k2.byteOffset + k2.length)))).toEqual(Array.from(expected.k2.data as Int32Array));
  expect(bytesElements(tagOut)).toEqual(['raw tag']);
});

test('bad requests are INVALID_ARGUMENT with the same messages as over HTTP, and the server keeps serving', async () => {
  const bad = async (request: object) => failure(client.call('ModelInfer', request));
  expect(await bad({ ...mlpRequest(1), inputs: [{ name: 'input', datatype: 'INT32', shape: [1, 8] }] }))
    .toEqual({ code: status.INVALID_ARGUMENT, details: 'input "input" must be FP32, got INT32' });
  expect(await bad({ ...mlpRequest(1), raw_input_contents: [Buffer.alloc(31)] }))
    .toEqual({ code: status.INVALID_ARGUMENT, details: 'input "input": raw_input_contents is 31 bytes, its shape and datatype need 32' });
  expect(await bad({ model_name: 'mlp', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 8], contents: { int_contents: [1, 2, 3, 4, 5, 6, 7, 8] } }] }))
    .toEqual({ code: status.INVALID_ARGUMENT, details: 'input "input": a FP32 input\'s values go in contents.fp32_contents, not contents.int_contents' });
  expect(await bad({ model_name: 'mlp', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 8], contents: { fp32_contents: [1, 2] } }] }))
    .toEqual({ code: status.INVALID_ARGUMENT, details: 'input "input" has 2 values, its shape [1, 8] needs 8' });
  expect(await bad(mlpRequest(1, { outputs: [{ name: 'logits' }] })))
    .toEqual({ code: status.INVALID_ARGUMENT, details: 'unknown output "logits"; the model\'s outputs are output' });
  expect(await bad({ ...mlpRequest(1), inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 0] }] }))
    .toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('shape must hold positive integers') });
  expect(await bad(mlpRequest(9))).toEqual({ code: status.INVALID_ARGUMENT, details: 'input "input": batch dim must be 1..8, got 9' });
  expect(await bad({ model_name: 'mixed', inputs: [{ name: 'tag', datatype: 'BYTES', shape: [1] }], raw_input_contents: [Buffer.from([9, 0, 0, 0, 65])] }))
    .toEqual({ code: status.INVALID_ARGUMENT, details: 'input "tag": truncated BYTES element in raw_input_contents' });
  expect((await client.call('ModelInfer', mlpRequest(1))).raw_output_contents[0]).toHaveLength(16);
});

test('unknown model NOT_FOUND, unavailable model UNAVAILABLE, message over --grpc-max-message-bytes RESOURCE_EXHAUSTED', async () => {
  expect(await failure(client.call('ModelInfer', { ...mlpRequest(1), model_name: 'nope' }))).toEqual({ code: status.NOT_FOUND, details: 'unknown model "nope"' });
  expect(await failure(client.call('ModelInfer', { ...mlpRequest(1), model_version: '3' }))).toEqual({ code: status.NOT_FOUND, details: 'model "mlp" has no version 3 (serving 1)' });
  expect((await failure(client.call('ModelInfer', { ...mlpRequest(1), model_name: 'broken' }))).code).toBe(status.UNAVAILABLE);
  const big = { ...mlpRequest(1), raw_input_contents: [Buffer.alloc(MAX_MESSAGE + 1)] };
  expect((await failure(client.call('ModelInfer', big))).code).toBe(status.RESOURCE_EXHAUSTED);
  expect(await client.call('ServerLive', {})).toEqual({ live: true });
});

test('repository index, unload and load (Triton\'s RPCs), behind the admin token', async () => {
  const spare = { model_name: 'spare' };
  expect(await failure(client.call('RepositoryModelUnload', spare))).toMatchObject({ code: status.UNAUTHENTICATED });
  expect(await failure(client.call('RepositoryModelUnload', spare, { token: 'wrong' }))).toEqual({ code: status.UNAUTHENTICATED, details: 'invalid admin token' });
  const index = await client.call('RepositoryIndex', {});
  expect(index.models.map((m: { name: string }) => m.name)).toEqual(['broken', 'mixed', 'mlp', 'spare']);
  expect((await client.call('RepositoryIndex', { ready: true })).models.map((m: { name: string }) => m.name)).toEqual(['mixed', 'mlp']);

  await client.call('RepositoryModelLoad', spare, { token: ADMIN });
  expect(await client.call('ModelReady', { name: 'spare' })).toEqual({ ready: true });
  await client.call('RepositoryModelUnload', spare, { token: ADMIN });
  expect(await client.call('ModelReady', { name: 'spare' })).toEqual({ ready: false });
  expect(await failure(client.call('ModelInfer', { ...mlpRequest(1), model_name: 'spare' })))
    .toEqual({ code: status.UNAVAILABLE, details: 'model "spare" is unloaded; load it through the repository API' });
  await client.call('RepositoryModelLoad', spare, { token: ADMIN });
  expect((await client.call('ModelInfer', { ...mlpRequest(1), model_name: 'spare' })).model_name).toBe('spare');

  expect(await failure(client.call('RepositoryModelLoad', { model_name: 'spare', parameters: { config: { string_param: '{}' } } }, { token: ADMIN })))
    .toEqual({ code: status.INVALID_ARGUMENT, details: 'load parameters (config) are not supported: models load from the repository folder' });
  expect(await failure(client.call('RepositoryModelLoad', { model_name: 'ghost' }, { token: ADMIN })))
    .toMatchObject({ code: status.NOT_FOUND, details: expect.stringContaining('ghost') });
  expect(await failure(client.call('RepositoryModelLoad', { model_name: 'broken' }, { token: ADMIN })))
    .toMatchObject({ code: status.FAILED_PRECONDITION, details: expect.stringContaining('failed to load model "broken"') });
});
