// Calls in flight: a gRPC deadline that passes or a client that cancels aborts the request's signal
// in the backend (a queued request leaves the queue); calls past maxInflight are UNAVAILABLE; close()
// answers the calls in flight before it resolves. The backend here holds every inference until the
// test answers it or its signal aborts, so each test waits on events, never on time.
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import type { Feeds, HostTensor } from '../../lib/engine/tensor';
import type { InferenceBackend } from '../../lib/serve/backend';
import { RequestCancelledError } from '../../lib/runtime/errors';
import type { InferOptions, InferResult } from '../../lib/runtime/runtime';
import { GrpcServer, serveGrpc } from '../../lib/serve/grpc/server';
import { inferenceClient } from '../../lib/serve/grpc/proto';

/** Inference that answers when the test says so, or fails once its signal aborts; tells who waits when a call arrives or aborts. */
class HoldingBackend implements InferenceBackend {
  held: ((outputs: Record<string, HostTensor>) => void)[] = [];
  readonly ready = true;
  readonly metrics = { registry: new Registry() };
  arrivals: (() => void)[] = [];
  aborts: (() => void)[] = [];
  start = async () => {};
  close = async () => {};
  metadata = () => Promise.reject(new Error('not used'));
  isModelReady = () => true;
  index = () => [];
  load = async () => {};
  unload = async () => {};

  infer(_name: string, _feeds: Feeds, options: InferOptions): Promise<InferResult> {
    this.arrivals.shift()?.();
    return new Promise((resolve, reject) => {
      this.held.push((outputs) => resolve({ model: 'm', version: 1, outputs }));
      options.signal!.addEventListener('abort', () => {
        this.aborts.shift()?.();
        reject(new RequestCancelledError());
      });
    });
  }

  nextArrival(): Promise<void> {
    return new Promise((resolve) => this.arrivals.push(resolve));
  }

  nextAbort(): Promise<void> {
    return new Promise((resolve) => this.aborts.push(resolve));
  }
}

const request = { model_name: 'm', inputs: [{ name: 'x', datatype: 'FP32', shape: ['1'], contents: { fp32_contents: [1] } }] };
let backend: HoldingBackend;
let server: GrpcServer;
let client: grpc.Client & Record<string, (...args: unknown[]) => grpc.ClientUnaryCall>;

beforeEach(async () => {
  backend = new HoldingBackend();
  server = serveGrpc(backend, { maxInflight: 1 });
  const port = await server.listen(0);
  client = new (inferenceClient())(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as typeof client;
});

afterEach(async () => {
  client.close();
  await server.close();
});

function infer(deadline?: number): { call: grpc.ClientUnaryCall; done: Promise<grpc.ServiceError | null> } {
  let call!: grpc.ClientUnaryCall;
  const done = new Promise<grpc.ServiceError | null>((resolve) => {
    call = client.ModelInfer(request, new grpc.Metadata(), { deadline }, (err: grpc.ServiceError | null) => resolve(err));
  });
  return { call, done };
}

test('a passed deadline aborts the request in the backend; the client gets DEADLINE_EXCEEDED', async () => {
  const arrived = backend.nextArrival();
  const aborted = backend.nextAbort();
  const { done } = infer(Date.now() + 1000);  // long enough to arrive on a loaded machine; the test waits for events, not for this
  await arrived;
  await aborted;
  expect((await done)?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
});

test('a call the client cancels is aborted in the backend; past maxInflight a call is UNAVAILABLE', async () => {
  const arrived = backend.nextArrival();
  const first = infer();
  await arrived;
  expect(await infer().done).toMatchObject({ code: grpc.status.UNAVAILABLE, details: 'too many requests in flight (1); retry later' });
  const aborted = backend.nextAbort();
  first.call.cancel();
  await aborted;
  expect((await first.done)?.code).toBe(grpc.status.CANCELLED);
});

test('close() refuses new calls, answers the one in flight, then resolves', async () => {
  const arrived = backend.nextArrival();
  const first = infer();
  await arrived;
  const closed = server.close();
  expect((await infer().done)?.code).toBe(grpc.status.UNAVAILABLE);
  expect(backend.held).toHaveLength(1);
  backend.held[0]({ y: { type: 'float32', dims: [1], data: Float32Array.from([2.5]) } });
  expect(await first.done).toBeNull();
  await closed;
});
