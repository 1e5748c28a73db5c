// serve --cluster: the KServe v2 HTTP API in front of the cluster. Requests become jobs for the
// workers; answers and errors are the ones the in-process server gives.
import { RuntimeError } from '../runtime/errors';
import type { InferenceBackend } from '../serve/backend';
import { serveBackend, type HttpOptions, type HttpServer } from '../serve/server';
import { ClusterClient, type ClusterClientOptions } from './client';

export interface ClusterServerOptions extends HttpOptions, ClusterClientOptions {}

export interface ClusterServer extends HttpServer {
  readonly client: ClusterClient;
}

class ModelControlUnavailableError extends RuntimeError {
  constructor() {
    super('model control is not available in front of a cluster: each worker loads the models of its own repository (restart workers to change them)', 501);
  }
}

export function clusterBackend(client: ClusterClient): InferenceBackend {
  let started = false;
  return {
    get ready() {
      return started && client.redis.status === 'ready';
    },
    async start() {
      await client.connect();
      await client.models(true);
      started = true;
    },
    close: () => client.close(),
    infer: (name, feeds, options) => client.infer(name, feeds, options),
    metadata: (name, version) => client.metadata(name, version),
    isModelReady: async (name, version) => (await client.model(name, version)) !== undefined,
    index: () => client.index(),
    load: () => Promise.reject(new ModelControlUnavailableError()),
    unload: () => Promise.reject(new ModelControlUnavailableError()),
    metrics: client.metrics,
  };
}

export function createClusterServer(options: ClusterServerOptions): ClusterServer {
  const client = new ClusterClient(options);
  return { client, ...serveBackend(clusterBackend(client), options) };
}
