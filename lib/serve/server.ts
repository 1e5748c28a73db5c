// The model server: KServe v2 (Open Inference Protocol) over HTTP on top of ModelRuntime.
import * as fs from 'fs';
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ValueMetadata } from '../engine/engine';
import type { EngineChoice } from '../engine/select';
import type { Isolation } from '../runtime/config';
import type { Clock } from '../runtime/clock';
import type { RestartPolicy } from '../runtime/restart-budget';
import { packageVersion } from '../package-info';
import { datatypeOf } from '../runtime/datatypes';
import { ModelNotFoundError, OverloadedError, ShuttingDownError } from '../runtime/errors';
import { ModelRuntime } from '../runtime/runtime';
import type { InferenceBackend } from './backend';
import type { CancelSignal } from '../runtime/scheduler';
import { checkAdminAuth, checkInferenceAuth } from './auth';
import { requestTimeoutMs } from './deadline';
import { decodeInferRequest, encodeInferResponseChunks, HEADER_LENGTH, type EncodedChunks } from './codec';
import { errorReply } from './error-reply';
import { BodyTooLargeError, matchInferRoute, readBody, writeResponse, type InferParams } from './infer-route';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'http';
import { parseBody, type ParsedBody } from './body';
import { limitedServer, type ConnectionLimits } from './http-limits';
import { finishRequest, mark, profileSummary, profiling, resetProfile } from '../runtime/request-profile';

export interface ServerOptions extends HttpOptions {
  /** The model repository folder. */
  repository: string;
  /** Memory budget of the model cache in bytes (default: half the machine's memory). */
  memoryBudgetBytes?: number;
  /** Unload models unused this long (ms); 0 keeps them (default). */
  idleUnloadMs?: number;
  /** Per-request activation memory budget of models whose config sets none (default 1 GiB). */
  maxRequestMemoryBytes?: number;
  /** The engine of models whose config.json names none (default 'auto'). */
  engine?: EngineChoice;
  /** Where the instances of models whose config.json names none run (default 'thread'). */
  isolation?: Isolation;
  /** How often a dead instance process may be restarted before the model is marked failed (isolation 'process'). */
  restartPolicy?: RestartPolicy;
  /** Times instance restarts' backoff and budget (tests step it; default the system clock). */
  clock?: Clock;
}

/** What the HTTP layer itself takes, whatever runs the models. */
export interface HttpOptions extends ConnectionLimits {
  /** Needed for /v2/repository/models/{m}/load and /unload; without it model control is off. */
  adminToken?: string;
  /** When set, inference and metadata need it too (health and metrics stay open). */
  token?: string;
  /** Largest request body in bytes (default 64 MiB). */
  bodyLimitBytes?: number;
  /** Most tensor elements in one request (default 16M). */
  maxElements?: number;
  /** Most inference requests in flight; more get 503 + Retry-After (default 1024). */
  maxInflight?: number;
  /** Told about loads, evictions, failures, unexpected errors. */
  log?: (line: string) => void;
}

export interface ListenOptions {
  port?: number;
  host?: string;
}

export interface ModelServer extends HttpServer {
  /** The model repository folder it serves. */
  readonly repository: string;
  readonly runtime: ModelRuntime;
}

/** The KServe v2 HTTP API over an inference backend. */
export interface HttpServer {
  readonly app: FastifyInstance;
  /** Starts listening, then loads and warms up the eager models; resolves with the base URL. */
  listen(options?: ListenOptions): Promise<string>;
  /** Resolves when the backend is ready (eager models loaded and warmed up; the server reports ready). */
  ready(): Promise<void>;
  /** Stops accepting requests, answers those in flight, closes the backend (unloads every model). */
  close(): Promise<void>;
}

type ModelParams = { model: string; version?: string };

/** A cancel signal per request, lighter than an AbortController on the hot path. */
class ClientGone implements CancelSignal {
  aborted = false;
  private listener: (() => void) | undefined;

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listener = listener;
  }

  removeEventListener(): void {
    this.listener = undefined;
  }

  abort(): void {
    this.aborted = true;
    this.listener?.();
  }
}

function parseVersion(version: string | undefined, model: string): number | undefined {
  if (version === undefined) return undefined;
  if (!/^[1-9][0-9]{0,9}$/.test(version)) throw new ModelNotFoundError(`model "${model}" has no version "${version}"`);
  return Number(version);
}

function tensorMetadata(list: readonly ValueMetadata[]) {
  return list.map((m) => ({
    name: m.name,
    datatype: datatypeOf(m.type),
    shape: (m.shape ?? []).map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
  }));
}

export function createServer(options: ServerOptions): ModelServer {
  if (!fs.existsSync(options.repository) || !fs.statSync(options.repository).isDirectory()) {
    throw new Error(`model repository ${options.repository} is not a directory`);
  }
  const runtime = new ModelRuntime({
    repository: options.repository,
    memoryBudgetBytes: options.memoryBudgetBytes,
    idleUnloadMs: options.idleUnloadMs,
    maxRequestMemoryBytes: options.maxRequestMemoryBytes,
    engine: options.engine,
    isolation: options.isolation,
    restartPolicy: options.restartPolicy,
    clock: options.clock,
    log: options.log,
  });
  return { repository: options.repository, runtime, ...serveBackend(runtime, options) };
}

/** The HTTP API over any backend: the in-process runtime, or the cluster's workers (serve --cluster). */
export function serveBackend(backend: InferenceBackend, options: HttpOptions): HttpServer {
  const log = options.log ?? (() => {});
  const maxElements = options.maxElements ?? 16 * 1024 * 1024;
  const maxInflight = options.maxInflight ?? 1024;
  const bodyLimit = options.bodyLimitBytes ?? 64 * 1024 * 1024;
  const app = Fastify({
    logger: false, bodyLimit,
    // POSTs to the infer routes skip fastify (lib/serve/infer-route.ts); the rest is fastify's.
    serverFactory: (handler) => limitedServer(options, (req, res) => {
      if (profiling) {
        mark('request');
        res.once('finish', finishRequest);
      }
      const params = matchInferRoute(req);
      if (params) void inferFast(req, res, params);
      else handler(req, res);
    }),
  });
  let inflight = 0;
  let closing = false;
  let activeRequests = 0;
  let onIdle: (() => void) | undefined;
  app.server.on('request', (_req, res) => {
    activeRequests++;
    res.once('close', () => {
      activeRequests--;
      if (activeRequests === 0) onIdle?.();
    });
  });
  let started: Promise<void> | undefined;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      if (profiling) mark('bodyRead');
      const parsed = parseBody(request.headers, body as Buffer);
      if (profiling) mark('parsed');
      done(null, parsed);
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, _request, reply) => {
    const { status, headers, body } = errorReply(err, log);
    void reply.code(status).headers(headers).send(body);
  });
  // During shutdown, answered connections close instead of idling until the keep-alive timeout.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: `no route ${request.method} ${request.url}` });
  });

  const inference = (request: { headers: IncomingHttpHeaders }) => checkInferenceAuth(request, options.token, options.adminToken);
  const admin = (request: FastifyRequest) => checkAdminAuth(request, options.adminToken);

  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_request, reply) => {
    const ready = backend.ready && !closing;
    return reply.code(ready ? 200 : 503).send({ ready });
  });
  app.get('/v2', async (request) => {
    inference(request);
    return { name: 'onnxforge', version: packageVersion(), extensions: ['binary_tensor_data', 'model_repository', 'metrics'] };
  });

  const metadata = async (request: FastifyRequest<{ Params: ModelParams }>) => {
    inference(request);
    const { model } = request.params;
    const meta = await backend.metadata(model, parseVersion(request.params.version, model));
    const extensions = { ...(meta.memory && { memory: meta.memory }), ...(meta.instances && { instances: meta.instances }), ...(meta.parameters && { parameters: meta.parameters }) };
    return { name: meta.name, versions: meta.versions, platform: meta.platform, inputs: tensorMetadata(meta.inputs), outputs: tensorMetadata(meta.outputs), ...extensions };
  };
  app.get('/v2/models/:model', metadata);
  app.get('/v2/models/:model/versions/:version', metadata);

  const modelReady = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    inference(request);
    const { model } = request.params;
    const ready = (await backend.isModelReady(model, parseVersion(request.params.version, model))) && !closing;
    return reply.code(ready ? 200 : 400).send({ name: model, ready });
  };
  app.get('/v2/models/:model/ready', modelReady);
  app.get('/v2/models/:model/versions/:version/ready', modelReady);

  /** One inference, from the parsed body to the encoded response: shared by the fast path and fastify's route. */
  const runInfer = async (request: { headers: IncomingHttpHeaders }, params: InferParams, body: ParsedBody | undefined, res: ServerResponse): Promise<EncodedChunks> => {
    if (profiling) mark('handler');
    inference(request);
    if (closing) throw new ShuttingDownError();
    if (inflight >= maxInflight) throw new OverloadedError(`too many requests in flight (${maxInflight}); retry later`);
    inflight++;
    // The client went away before the answer: drop its request from the queue.
    const clientGone = new ClientGone();
    res.once('close', () => {
      if (!res.writableFinished) clientGone.abort();
    });
    try {
      const { model } = params;
      const version = parseVersion(params.version, model);
      const decoded = decodeInferRequest(body?.json, body?.binary, maxElements);
      if (profiling) mark('decoded');
      const result = await backend.infer(model, decoded.feeds, {
        version,
        outputs: decoded.outputs,
        priority: decoded.priority,
        timeoutMs: requestTimeoutMs(request.headers, body?.json, decoded.timeoutMs),
        signal: clientGone,
        // The decoded tensors are this request's own: they move to the instance, not copied.
        transferInputs: true,
      });
      if (profiling) mark('resumed');
      const encoded = encodeInferResponseChunks(result.model, result.version, decoded, result.outputs);
      if (profiling) mark('encoded');
      return encoded;
    } finally {
      inflight--;
    }
  };

  const responseHeaders = (encoded: EncodedChunks): Record<string, string> => {
    const headers: Record<string, string> = encoded.headerLength === undefined
      ? { 'content-type': 'application/json; charset=utf-8' }
      : { 'content-type': 'application/octet-stream', [HEADER_LENGTH]: String(encoded.headerLength) };
    // During shutdown, answered connections close instead of idling until the keep-alive timeout.
    if (closing) headers.connection = 'close';
    return headers;
  };

  const inferFast = async (req: IncomingMessage, res: ServerResponse, params: InferParams): Promise<void> => {
    try {
      const raw = await readBody(req, bodyLimit);
      if (profiling) mark('bodyRead');
      const body = parseBody(req.headers, raw);
      if (profiling) mark('parsed');
      const encoded = await runInfer(req, params, body, res);
      writeResponse(res, 200, responseHeaders(encoded), encoded.chunks, encoded.byteLength);
      if (profiling) mark('written');
    } catch (err) {
      if (res.headersSent || res.destroyed) return;
      const reply = errorReply(err as Error, log);
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...reply.headers };
      // The rest of a refused body is not read: the connection cannot carry another request.
      if (closing || err instanceof BodyTooLargeError) headers.connection = 'close';
      const json = Buffer.from(JSON.stringify(reply.body));
      writeResponse(res, reply.status, headers, [json], json.length);
    }
  };

  const infer = async (request: FastifyRequest<{ Params: ModelParams; Body: ParsedBody | undefined }>, reply: FastifyReply) => {
    const encoded = await runInfer(request, request.params, request.body, reply.raw);
    void reply.headers(responseHeaders(encoded));
    return reply.send(encoded.chunks.length === 1 ? encoded.chunks[0] : Buffer.concat(encoded.chunks, encoded.byteLength));
  };
  app.post('/v2/models/:model/infer', infer);
  app.post('/v2/models/:model/versions/:version/infer', infer);

  app.post('/v2/repository/index', async (request: FastifyRequest<{ Body: ParsedBody | undefined }>) => {
    inference(request);
    const json = request.body?.json as { ready?: unknown } | undefined;
    const readyOnly = typeof json === 'object' && json !== null && json.ready === true;
    return (await backend.index()).filter((e) => !readyOnly || e.state === 'READY');
  });
  app.post('/v2/repository/models/:model/load', async (request: FastifyRequest<{ Params: { model: string } }>) => {
    admin(request);
    if (closing) throw new ShuttingDownError();
    await backend.load(request.params.model);
    return {};
  });
  app.post('/v2/repository/models/:model/unload', async (request: FastifyRequest<{ Params: { model: string } }>) => {
    admin(request);
    await backend.unload(request.params.model);
    return {};
  });

  if (profiling) {
    // ONNXFORGE_SERVE_PROFILE=1 only: the stage breakdown of requests so far (bench/serve.ts reads it).
    app.get('/v2/debug/profile', async () => profileSummary());
    app.post('/v2/debug/profile/reset', async () => {
      resetProfile();
      return {};
    });
  }

  app.get('/metrics', async (_request, reply) => {
    const text = await backend.metrics.registry.metrics();
    return reply.type(backend.metrics.registry.contentType).send(text);
  });

  const startRuntime = () => {
    started ??= backend.start();
    return started;
  };

  return {
    app,
    async listen(listen: ListenOptions = {}) {
      await app.listen({ port: listen.port ?? 8000, host: listen.host ?? '127.0.0.1' });
      void startRuntime().catch((err: Error) => log(`startup failed: ${err.message}`));
      const address = app.server.address();
      if (!address || typeof address === 'string') return String(address);
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `http://${host}:${address.port}`;
    },
    ready: startRuntime,
    async close() {
      closing = true;
      const closed = app.close();
      // Keep-alive connections left open would hold close() until their timeout; once every
      // request is answered none of them carries work, so end them all.
      if (activeRequests > 0) await new Promise<void>((resolve) => (onIdle = resolve));
      app.server.closeAllConnections();
      await closed;
      await backend.close();
    },
  };
}
