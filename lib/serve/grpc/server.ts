// The KServe v2 GRPCInferenceService (plus Triton's repository RPCs) over the same backend as
// the HTTP API: the in-process ModelRuntime. Validation, errors and limits match the HTTP side.
import * as grpc from '@grpc/grpc-js';
import type { ValueMetadata } from '../../engine/engine';
import { packageVersion } from '../../package-info';
import { datatypeOf } from '../../runtime/datatypes';
import { InvalidRequestError, OverloadedError, ShuttingDownError } from '../../runtime/errors';
import { type AuthRequest, checkAdminAuth, checkInferenceAuth } from '../auth';
import type { InferenceBackend } from '../backend';
import { decodeModelInferRequest, encodeModelInferResponse, parseModelVersion } from './infer-codec';
import type { ModelInferRequest, ModelInferResponse } from './messages';
import { inferenceServiceDefinition } from './proto';
import { grpcErrorOf } from './status';

export interface GrpcOptions {
  /** Largest message received or sent, in bytes (default 64 MiB; grpc's own default is 4 MiB). */
  maxMessageBytes?: number;
  /** Most tensor elements in one request (default 16M). */
  maxElements?: number;
  /** Most inference calls in flight; more get UNAVAILABLE (default 1024). */
  maxInflight?: number;
  /** As over HTTP, sent as `authorization: Bearer <token>` metadata. */
  token?: string;
  adminToken?: string;
  log?: (line: string) => void;
}

export interface GrpcServer {
  /** Binds and serves; resolves with the port (0 picks a free one). */
  listen(port: number, host?: string): Promise<number>;
  /** Refuses new calls, lets those in flight finish, then stops. */
  close(): Promise<void>;
}

type Call = grpc.ServerUnaryCall<unknown, unknown>;

/** The client's deadline as epoch ms (grpc-js gives a Date or a number; Infinity when none). */
function deadlineOf(call: Call): number | undefined {
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : undefined;
}

/** What a request that is not a protobuf message of its type decodes to (grpc-js would answer INTERNAL). */
class MalformedRequest {
  constructor(readonly reason: string) {}
}

/** The service with deserializers that hand malformed requests to the handler instead of throwing. */
function tolerantDefinition(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const methods = Object.entries(definition).map(([name, method]) => {
    const requestDeserialize = (bytes: Buffer): unknown => {
      try {
        return method.requestDeserialize(bytes);
      } catch (err) {
        return new MalformedRequest((err as Error).message);
      }
    };
    return [name, { ...method, requestDeserialize }];
  });
  return Object.fromEntries(methods) as grpc.ServiceDefinition;
}

type Handler = (request: never, call: Call) => unknown;

function tensorMetadata(list: readonly ValueMetadata[]) {
  return list.map((m) => ({ name: m.name, datatype: datatypeOf(m.type), shape: (m.shape ?? []).map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) }));
}

/** The metadata's bearer token in the shape the HTTP auth checks read. */
function authOf(call: Call): AuthRequest {
  const value = call.metadata.get('authorization')[0];
  return { headers: { authorization: typeof value === 'string' ? value : undefined } };
}

function required(value: string, field: string): string {
  if (!value) throw new InvalidRequestError(`${field} is required`);
  return value;
}

export function serveGrpc(backend: InferenceBackend, options: GrpcOptions = {}): GrpcServer {
  const log = options.log ?? (() => {});
  const maxElements = options.maxElements ?? 16 * 1024 * 1024;
  const maxInflight = options.maxInflight ?? 1024;
  const maxMessageBytes = options.maxMessageBytes ?? 64 * 1024 * 1024;
  const server = new grpc.Server({ 'grpc.max_receive_message_length': maxMessageBytes, 'grpc.max_send_message_length': maxMessageBytes });
  let closing = false;
  let shutdown: Promise<void> | undefined;
  let inflight = 0;
  const inference = (call: Call) => checkInferenceAuth(authOf(call), options.token, options.adminToken);
  const admin = (call: Call) => checkAdminAuth(authOf(call), options.adminToken);

  const modelInfer = async (request: ModelInferRequest, call: Call): Promise<ModelInferResponse> => {
    inference(call);
    if (closing) throw new ShuttingDownError();
    if (inflight >= maxInflight) throw new OverloadedError(`too many requests in flight (${maxInflight}); retry later`);
    inflight++;
    // A cancelled call or a passed deadline (grpc-js reports both as 'cancelled') leaves the queue.
    const cancel = new AbortController();
    const onCancelled = () => cancel.abort();
    call.once('cancelled', onCancelled);
    try {
      const decoded = decodeModelInferRequest(request, maxElements);
      const result = await backend.infer(decoded.model, decoded.feeds, {
        version: decoded.version, outputs: decoded.outputs, priority: decoded.priority, timeoutMs: decoded.timeoutMs, deadline: deadlineOf(call), signal: cancel.signal,
      });
      return encodeModelInferResponse(decoded, result.version, result.outputs);
    } finally {
      inflight--;
      call.removeListener('cancelled', onCancelled);
    }
  };

  const handlers: Record<string, Handler> = {
    ServerLive: () => ({ live: true }),
    ServerReady: () => ({ ready: backend.ready && !closing }),
    ServerMetadata: (_request: never, call) => {
      inference(call);
      return { name: 'onnxforge', version: packageVersion(), extensions: ['model_repository'] };
    },
    ModelReady: async (request: { name: string; version: string }, call) => {
      inference(call);
      const name = required(request.name, 'name');
      return { ready: (await backend.isModelReady(name, parseModelVersion(request.version, name))) && !closing };
    },
    ModelMetadata: async (request: { name: string; version: string }, call) => {
      inference(call);
      const name = required(request.name, 'name');
      const meta = await backend.metadata(name, parseModelVersion(request.version, name));
      return { name: meta.name, versions: meta.versions, platform: meta.platform, inputs: tensorMetadata(meta.inputs), outputs: tensorMetadata(meta.outputs) };
    },
    ModelInfer: modelInfer,
    RepositoryIndex: async (request: { ready: boolean }, call) => {
      inference(call);
      const index = await backend.index();
      return { models: index.filter((e) => !request.ready || e.state === 'READY').map((e) => ({ name: e.name, version: e.version ?? '', state: e.state, reason: e.reason ?? '' })) };
    },
    RepositoryModelLoad: async (request: { model_name: string; parameters: Record<string, unknown> }, call) => {
      admin(call);
      if (closing) throw new ShuttingDownError();
      const name = required(request.model_name, 'model_name');
      const overrides = Object.keys(request.parameters ?? {});
      if (overrides.length) throw new InvalidRequestError(`load parameters (${overrides.join(', ')}) are not supported: models load from the repository folder`);
      await backend.load(name);
      return {};
    },
    RepositoryModelUnload: async (request: { model_name: string }, call) => {
      admin(call);
      await backend.unload(required(request.model_name, 'model_name'));
      return {};
    },
  };

  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    implementation[method] = (call: Call, callback: grpc.sendUnaryData<unknown>) => {
      Promise.resolve()
        .then(() => {
          if (call.request instanceof MalformedRequest) throw new InvalidRequestError(`the request is not a ${method}Request message: ${call.request.reason}`);
          return handler(call.request as never, call);
        })
        .then(
          (response) => callback(null, response),
          (err: Error) => {
            const { code, details } = grpcErrorOf(err, log);
            callback({ code, details });
          },
        );
    };
  }
  server.addService(tolerantDefinition(inferenceServiceDefinition()), implementation);

  return {
    listen(port, host = '127.0.0.1') {
      const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      return new Promise((resolve, reject) => {
        server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
      });
    },
    close() {
      closing = true;
      shutdown ??= new Promise((resolve) => server.tryShutdown(() => resolve()));
      return shutdown;
    },
  };
}
