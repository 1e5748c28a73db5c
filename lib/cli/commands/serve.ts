// onnxforge serve [REPO]: the KServe v2 model server over a model repository.
import { Command, Option } from 'commander';
import { ENGINE_CHOICES } from '../../engine/select';
import { ISOLATIONS } from '../../runtime/config';
import { createExampleServer, EXAMPLE_MODEL, EXAMPLE_REQUEST } from '../../serve/example';
import { createServer } from '../../serve/server';
import { checkRepositoryLayout } from '../../runtime/repository';
import { UsageError } from '../errors';
import { nonNegativeInt, positiveInt } from '../options';
import { formatBytes } from '../../format-bytes';
import { printJson, table } from '../output';
import { serveCluster } from './serve-cluster';
import { serveGrpc, type GrpcServer } from '../../serve/grpc/server';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3 };

/** "512MiB", "2GB", "1000000" -> bytes. */
export function parseByteSize(value: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)$/.exec(value.trim());
  const unit = match ? UNITS[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new UsageError(`expected a size like 512MiB or 2GB, got "${value}"`);
  return Math.floor(Number(match[1]) * unit);
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > 65535) throw new UsageError(`expected a port number (0-65535), got "${value}"`);
  return n;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a model repository over HTTP (KServe v2): <repo>/<model>/config.json + <repo>/<model>/<version>/model.onnx; without REPO, a built-in example model')
    .argument('[repo]', 'model repository folder')
    .option('--port <n>', 'port to listen on (0 picks a free one)', port, 8000)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--admin-token <token>', 'token for model control (load/unload); default $ONNXFORGE_ADMIN_TOKEN; without one model control is off')
    .option('--token <token>', 'token inference and metadata requests must send; default $ONNXFORGE_TOKEN')
    .option('--memory-budget <size>', 'memory budget for loaded models, e.g. 2GiB (default: half the machine memory)', parseByteSize)
    .option('--max-request-memory <size>', 'estimated activation memory one request may need, e.g. 512MiB (413 past it; a model\'s max_request_memory_bytes overrides it)', parseByteSize, 1024 ** 3)
    .option('--idle-unload <ms>', 'unload models unused this long (0 keeps them)', nonNegativeInt, 0)
    .option('--max-body <size>', 'largest request body', parseByteSize, 64 * 1024 * 1024)
    .option('--max-elements <n>', 'most tensor elements in one request', positiveInt, 16 * 1024 * 1024)
    .option('--max-inflight <n>', 'most inference requests in flight', positiveInt, 1024)
    .option('--headers-timeout <ms>', 'time a client has to send a request\'s headers (408 past it)', positiveInt, 10000)
    .option('--request-timeout <ms>', 'time a client has to send a whole request, body included', positiveInt, 60000)
    .option('--idle-timeout <ms>', 'time a keep-alive connection may sit idle', positiveInt, 5000)
    .option('--max-connections <n>', 'open connections at most; more are closed at once', positiveInt, 1024)
    .option('--grpc-port <n>', 'also serve the KServe v2 gRPC API on this port (0 picks a free one)', port)
    .option('--grpc-max-message-bytes <size>', 'largest gRPC message received or sent', parseByteSize, 64 * 1024 * 1024)
    .option('--cluster <url>', 'front the cluster at this Redis URL instead of a repository: requests become jobs for `onnxforge worker`s')
    .option('--prefix <prefix>', 'with --cluster: the key prefix of the cluster', 'onnxforge')
    .option('--timeout <ms>', 'with --cluster: default request timeout (504 past it; 0: none)', nonNegativeInt, 30000)
    .option('--max-queued <n>', 'with --cluster: jobs waiting for a model before requests get 503', positiveInt, 10000)
    .addOption(new Option('--engine <engine>', "engine of the models whose config.json names none: native, ort, or auto (native where it runs every node and is faster on the warm-up inputs)").choices([...ENGINE_CHOICES]).default('auto'))
    .addOption(new Option('--isolation <isolation>', "where the instances of models whose config.json names none run: none (the server's thread, no hop; a crash in the engine ends the server), thread (a worker thread each), or process (a child process each, restarted when it dies)").choices([...ISOLATIONS]).default('thread'))
    .option('--json', 'print the ready message as JSON')
    .action(async (repo: string | undefined, opts) => {
      if (opts.cluster !== undefined) {
        if (repo !== undefined) throw new UsageError('serve takes a repository or --cluster URL, not both');
        if (opts.grpcPort !== undefined) throw new UsageError('--grpc-port is not available with --cluster yet');
        return serveCluster(opts);
      }
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const options = {
        adminToken: opts.adminToken ?? process.env.ONNXFORGE_ADMIN_TOKEN,
        token: opts.token ?? process.env.ONNXFORGE_TOKEN,
        memoryBudgetBytes: opts.memoryBudget,
        idleUnloadMs: opts.idleUnload,
        maxRequestMemoryBytes: opts.maxRequestMemory,
        bodyLimitBytes: opts.maxBody,
        maxElements: opts.maxElements,
        maxInflight: opts.maxInflight,
        headersTimeoutMs: opts.headersTimeout,
        requestTimeoutMs: opts.requestTimeout,
        idleTimeoutMs: opts.idleTimeout,
        maxConnections: opts.maxConnections,
        engine: opts.engine,
        isolation: opts.isolation,
        log,
      };
      // A repository the server cannot use fails here, before anything listens.
      if (repo !== undefined) checkRepositoryLayout(repo);
      const server = repo === undefined ? createExampleServer(options) : createServer({ ...options, repository: repo });
      const { repository } = server;
      const grpc: GrpcServer | undefined = opts.grpcPort === undefined ? undefined
        : serveGrpc(server.runtime, { ...options, maxMessageBytes: opts.grpcMaxMessageBytes });
      let stopping: Promise<void> | undefined;
      const stop = () => {
        if (!stopping) log('shutting down: answering requests in flight');
        stopping ??= Promise.all([grpc?.close(), server.close()]).then(() => undefined);
        return stopping;
      };
      const stopped = new Promise<void>((resolve) => {
        const onSignal = () => void stop().then(resolve);
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });
      const url = await server.listen({ port: opts.port, host: opts.host });
      let grpcAddress: string | undefined;
      if (grpc) {
        const bound = await grpc.listen(opts.grpcPort, opts.host).catch(async (err: Error) => {
          await stop();
          throw new Error(`cannot serve gRPC on ${opts.host}:${opts.grpcPort}: ${err.message}`);
        });
        grpcAddress = `${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${bound}`;
      }
      log(`listening on ${url}${grpcAddress ? ` and gRPC ${grpcAddress}` : ''}${repo ? ` for ${repository}` : ` with the built-in example model (${repository})`}; loading models`);
      try {
        await server.ready();
      } catch (err) {
        await stop();
        throw err;
      }
      const index = server.runtime.index();
      if (opts.json) {
        printJson({ url, ...(grpcAddress ? { grpc: grpcAddress } : {}), repository, memoryBudgetBytes: server.runtime.memoryBudgetBytes, models: index });
      } else {
        const lines = [
          `ready: ${url}${grpcAddress ? `, gRPC ${grpcAddress}` : ''} (memory budget ${formatBytes(server.runtime.memoryBudgetBytes)})`,
          table(['model', 'version', 'state', 'note'], index.map((e) => [e.name, e.version ?? '-', e.state, e.reason ?? ''])),
        ];
        if (!repo) {
          lines.push(
            '',
            'try:',
            `  curl -s ${url}/v2/models/${EXAMPLE_MODEL}/infer -H 'content-type: application/json' \\`,
            `    -d '${JSON.stringify(EXAMPLE_REQUEST)}'`,
          );
        }
        process.stdout.write(lines.join('\n') + '\n');
      }
      await stopped;
    });
}
