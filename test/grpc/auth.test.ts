// Tokens over gRPC, as over HTTP: with --token, inference, metadata and the index need
// `authorization: Bearer <token>` metadata (the admin token works too); liveness and readiness stay open.
import { status } from '@grpc/grpc-js';
import { ModelRuntime } from '../../lib/runtime/runtime';
import { GrpcServer, serveGrpc } from '../../lib/serve/grpc/server';
import { removeDir } from '../helpers/temp';
import { rowsInput, smallMlp, writeRepository } from '../runtime/fixtures';
import { connect, failure, InferenceClient } from './client';

let repo: string;
let runtime: ModelRuntime;
let server: GrpcServer;
let client: InferenceClient;

beforeAll(async () => {
  repo = writeRepository({ mlp: { versions: { 1: smallMlp() } } });
  runtime = new ModelRuntime({ repository: repo });
  await runtime.start();
  server = serveGrpc(runtime, { token: 'user-secret', adminToken: 'admin-secret' });
  client = connect(`127.0.0.1:${await server.listen(0)}`);
});

afterAll(async () => {
  client.close();
  await server.close();
  await runtime.close();
  removeDir(repo);
});

const infer = { model_name: 'mlp', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 8] }], raw_input_contents: [Buffer.from(rowsInput(1, 8).buffer)] };

test('without a token: health answers, inference, metadata and the index are UNAUTHENTICATED', async () => {
  expect(await client.call('ServerLive', {})).toEqual({ live: true });
  expect(await client.call('ServerReady', {})).toEqual({ ready: true });
  const needsToken = { code: status.UNAUTHENTICATED, details: 'this server needs a token: send "Authorization: Bearer <token>"' };
  expect(await failure(client.call('ModelInfer', infer))).toEqual(needsToken);
  expect(await failure(client.call('ModelMetadata', { name: 'mlp' }))).toEqual(needsToken);
  expect(await failure(client.call('ServerMetadata', {}))).toEqual(needsToken);
  expect(await failure(client.call('RepositoryIndex', {}))).toEqual(needsToken);
  expect(await failure(client.call('ModelInfer', infer, { token: 'guess' }))).toEqual({ code: status.UNAUTHENTICATED, details: 'invalid token' });
});

test('the user token infers; only the admin token unloads', async () => {
  expect((await client.call('ModelInfer', infer, { token: 'user-secret' })).model_name).toBe('mlp');
  expect((await client.call('ModelInfer', infer, { token: 'admin-secret' })).model_name).toBe('mlp');
  expect(await failure(client.call('RepositoryModelUnload', { model_name: 'mlp' }, { token: 'user-secret' }))).toEqual({ code: status.UNAUTHENTICATED, details: 'invalid admin token' });
});

test('a server without an admin token refuses model control: PERMISSION_DENIED', async () => {
  const open = serveGrpc(runtime, {});
  const other = connect(`127.0.0.1:${await open.listen(0)}`);
  try {
    expect(await failure(other.call('RepositoryModelLoad', { model_name: 'mlp' }, { token: 'admin-secret' })))
      .toEqual({ code: status.PERMISSION_DENIED, details: 'model control is disabled; start the server with --admin-token (or ONNXFORGE_ADMIN_TOKEN)' });
  } finally {
    other.close();
    await open.close();
  }
});
