// A Redis that speaks only TLS (rediss://), its certificate from a private CA: a worker and the CLI
// given the CA (NODE_EXTRA_CA_CERTS) serve and run a batch through it; without the CA the certificate
// is refused at once, in one line, never silently accepted.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { encodeNpy } from '../../lib/compare/npy';
import type { HostTensor } from '../../lib/engine/tensor';
import { parseNpz } from '../../lib/quantize/calibration/npz';
import { runCli } from '../helpers/cli';
import { RedisServer, redisAbsent } from '../helpers/redis';
import { describeWhen, firstAbsent, type Absent } from '../helpers/skip';
import { makeTempDir, removeDir } from '../helpers/temp';
import { rowsInput, smallMlp } from '../runtime/fixtures';
import { expectedOutputs, values } from './helpers';
import { FAST_CONFIG, repositoryWith, startWorker, type WorkerProcess } from './workers';

function opensslAbsent(): Absent {
  return spawnSync('openssl', ['version']).status === 0 ? undefined : 'openssl is not installed (it makes the test certificate)';
}

/** A self-signed certificate for 127.0.0.1, which is also the CA clients are given. */
function makeCertificate(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=onnxforge test', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { cert, key };
}

describeWhen(firstAbsent(redisAbsent(), opensslAbsent()), 'cluster: Redis over TLS', () => {
  let redis: RedisServer;
  let dir: string;
  let ca: { NODE_EXTRA_CA_CERTS: string };
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    dir = makeTempDir('onnxforge-tls-');
    const files = makeCertificate(dir);
    ca = { NODE_EXTRA_CA_CERTS: files.cert };
    redis = await RedisServer.start(undefined, files);
  });

  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await redis?.close();
    removeDir(dir);
  });

  test('a worker and onnxforge batch given the CA work through rediss://; outputs equal onnxruntime', async () => {
    expect(redis.url).toMatch(/^rediss:\/\/127\.0\.0\.1:\d+$/);
    worker = await startWorker(redis.url, repositoryWith(path.join(dir, 'repo'), 'mlp', FAST_CONFIG), 'tls-worker', [], ca);
    const inputs = path.join(dir, 'inputs');
    fs.mkdirSync(inputs);
    const samples: HostTensor[] = [0, 1, 2].map((i) => ({ type: 'float32', dims: [1, 8], data: rowsInput(1, 8, i * 7) }));
    samples.forEach((t, i) => fs.writeFileSync(path.join(inputs, `s${i}.npy`), encodeNpy(t)));
    const out = path.join(dir, 'out');
    const run = runCli(['batch', '--redis', redis.url, '--model', 'mlp', '--inputs', inputs, '--out', out], ca);
    expect(run).toMatchObject({ status: 0, stderr: '' });
    const want = await expectedOutputs(smallMlp(5), samples.map((input) => ({ input })));
    samples.forEach((_, i) => expect(values(parseNpz(fs.readFileSync(path.join(out, `s${i}.npz`)), 'out').get('output')!)).toEqual(values(want[i])));
    const status = runCli(['cluster', 'status', '--redis', redis.url, '--json'], ca);
    expect((JSON.parse(status.stdout) as { workers: { name: string }[] }).workers.map((w) => w.name)).toEqual(['tls-worker']);
  });

  test('without the CA the certificate is refused at once, in one line', () => {
    const r = runCli(['cluster', 'status', '--redis', redis.url]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^onnxforge: Redis at rediss:\/\/127\.0\.0\.1:\d+: its TLS certificate is not trusted here \(self[- ]signed certificate\); NODE_EXTRA_CA_CERTS names a private CA\n$/);
  });
});
