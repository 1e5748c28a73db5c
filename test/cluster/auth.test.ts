// A Redis that requires a password: workers and clients authenticate from the URL (the worker
// from $ONNXFORGE_REDIS_URL, so the password stays out of the process list); a wrong or missing
// password is a one-line error that never shows the password.
import { spawn } from 'child_process';
import * as path from 'path';
import { ClusterClient } from '../../lib/cluster/client';
import { CLI, runCli } from '../helpers/cli';
import { RedisServer, redisAbsent } from '../helpers/redis';
import { describeWhen } from '../helpers/skip';
import { makeTempDir, removeDir } from '../helpers/temp';
import { expectedOutputs, request, values } from './helpers';
import { smallMlp } from '../runtime/fixtures';
import { FAST_CONFIG, repositoryWith } from './workers';

describeWhen(redisAbsent(), 'cluster: Redis with a password', () => {
  let redis: RedisServer;
  let dir: string;

  beforeAll(async () => {
    redis = await RedisServer.start('s3cret/pass');
    dir = makeTempDir('onnxforge-auth-');
  });

  afterAll(async () => {
    await redis?.close();
    removeDir(dir);
  });

  test('a worker started with the URL in $ONNXFORGE_REDIS_URL serves a client that authenticates', async () => {
    const repo = repositoryWith(path.join(dir, 'repo'), 'mlp', FAST_CONFIG);
    const child = spawn(process.execPath, [CLI, 'worker', '--repo', repo, '--name', 'auth-worker'], { env: { ...process.env, ONNXFORGE_REDIS_URL: redis.url } });
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c) => {
        stdout += c;
        if (stdout.includes('\n')) resolve();
      });
      void exited.then((code) => reject(new Error(`worker exited with ${code}`)));
    });
    expect(stdout).toMatch(new RegExp(`^worker auth-worker ready on redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redis.port}: mlp \\(version 1\\)\\n$`));
    const client = new ClusterClient({ redis: redis.url });
    try {
      const [want] = await expectedOutputs(smallMlp(5), [request(1)]);
      expect(values((await client.infer('mlp', request(1))).outputs.output)).toEqual(values(want));
    } finally {
      await client.close();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  test('a wrong password is a one-line failure without the password in it', () => {
    const wrong = redis.url.replace('s3cret%2Fpass', 'hunter2');
    const r = runCli(['cluster', 'status', '--redis', wrong]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^onnxforge: Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ refused the credentials: WRONGPASS/);
    expect(r.stderr).not.toContain('hunter2');
  });
});
