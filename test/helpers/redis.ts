// A real redis-server for tests: started on a free port in a temporary folder, without persistence
// (so a restart loses everything, the hardest case for the cluster). Tests that need it are skipped,
// with the reason, where the binary is absent (.ci/run installs it).
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import type { Absent } from './skip';

const BINARY = process.env.REDIS_SERVER ?? 'redis-server';

/** Why Redis tests cannot run here; undefined when redis-server runs. */
export function redisAbsent(): Absent {
  const r = spawnSync(BINARY, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `${BINARY} is not installed (apt-get install redis-server; .ci/run does it)`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** PEM files for a server that speaks only TLS. */
export interface RedisTlsFiles {
  cert: string;
  key: string;
}

export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number, private readonly dir: string, private readonly password: string | undefined, private readonly tls: RedisTlsFiles | undefined) {}

  /** The URL clients use (rediss:// for TLS), with the password when the server requires one. */
  get url(): string {
    return `${this.tls ? 'rediss' : 'redis'}://${this.password ? `:${encodeURIComponent(this.password)}@` : ''}127.0.0.1:${this.port}`;
  }

  /** The redis-server process (for its CPU time in benchmarks). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** `password`: the server requires it (requirepass); `tls`: the server takes TLS connections only. */
  static async start(password?: string, tls?: RedisTlsFiles): Promise<RedisServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxforge-redis-'));
    for (let attempt = 0; ; attempt++) {
      const server = new RedisServer(await freePort(), dir, password, tls);
      try {
        await server.launch();
        return server;
      } catch (err) {
        // Another process took the port between probing and binding it.
        if (attempt === 4) throw err;
      }
    }
  }

  /** Starts redis-server and resolves once it accepts connections. */
  private launch(): Promise<void> {
    const auth = this.password ? ['--requirepass', this.password] : [];
    const listen = this.tls
      ? ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', this.tls.cert, '--tls-key-file', this.tls.key, '--tls-ca-cert-file', this.tls.cert, '--tls-auth-clients', 'no']
      : ['--port', String(this.port)];
    const child = spawn(BINARY, [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...auth], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (chunk) => {
        output += chunk;
        if (output.includes('Ready to accept connections')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`)));
    });
  }

  /** Stops the server (everything in it is lost) and starts a new one on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async close(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
