// onnxforge serve --cluster URL: the KServe v2 server in front of the cluster's workers.
import { createClusterServer } from '../../cluster/cluster-server';
import { redactUrl } from '../../cluster/connection';
import { printJson, table } from '../output';

export interface ServeClusterOptions {
  cluster: string;
  prefix: string;
  timeout: number;
  maxQueued: number;
  port: number;
  host: string;
  adminToken?: string;
  token?: string;
  maxBody: number;
  maxElements: number;
  maxInflight: number;
  headersTimeout: number;
  requestTimeout: number;
  idleTimeout: number;
  maxConnections: number;
  json?: boolean;
}

export async function serveCluster(opts: ServeClusterOptions): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const server = createClusterServer({
    redis: opts.cluster, prefix: opts.prefix, timeoutMs: opts.timeout, maxQueued: opts.maxQueued,
    payloads: { maxPayloadBytes: opts.maxBody },
    adminToken: opts.adminToken ?? process.env.ONNXFORGE_ADMIN_TOKEN, token: opts.token ?? process.env.ONNXFORGE_TOKEN,
    bodyLimitBytes: opts.maxBody, maxElements: opts.maxElements, maxInflight: opts.maxInflight,
    headersTimeoutMs: opts.headersTimeout, requestTimeoutMs: opts.requestTimeout, idleTimeoutMs: opts.idleTimeout,
    maxConnections: opts.maxConnections, log,
  });
  let stopping: Promise<void> | undefined;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = () => {
      if (!stopping) log('shutting down: answering requests in flight');
      stopping ??= server.close();
      void stopping.then(resolve);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  const cluster = redactUrl(opts.cluster);
  const url = await server.listen({ port: opts.port, host: opts.host });
  log(`listening on ${url} in front of the cluster at ${cluster}; connecting`);
  try {
    await server.ready();
  } catch (err) {
    await server.close();
    throw err;
  }
  const index = await server.client.index();
  if (opts.json) printJson({ url, cluster, prefix: opts.prefix, models: index });
  else process.stdout.write(`ready: ${url} (cluster ${cluster})\n${table(['model', 'version', 'state'], index.map((e) => [e.name, e.version ?? '-', e.state]))}\n`);
  await stopped;
}
