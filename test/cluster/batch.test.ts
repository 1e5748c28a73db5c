// onnxforge batch on a real redis-server and worker processes: one .npz per sample, equal to
// onnxruntime in-process; resumable; never a duplicate or half-written output, even when a
// worker dies mid-chunk or two runs of one batch race.
import * as fs from 'fs';
import * as path from 'path';
import { runBatch, type BatchOptions } from '../../lib/cluster/batch';
import { encodeNpz } from '../../lib/cluster/npz-write';
import { ClusterClient } from '../../lib/cluster/client';
import { encodeNpy } from '../../lib/compare/npy';
import type { HostTensor } from '../../lib/engine/tensor';
import { parseNpz } from '../../lib/quantize/calibration/npz';
import { runCli } from '../helpers/cli';
import { RedisServer, redisAbsent } from '../helpers/redis';
import { describeWhen } from '../helpers/skip';
import { makeTempDir, removeDir } from '../helpers/temp';
import { rowsInput, smallMlp } from '../runtime/fixtures';
import { expectedOutputs, jobEvents, uniquePrefix, values } from './helpers';
import { FAST_CONFIG, FAST_RECOVERY, repositoryWith, startWorker, STUCK_CONFIG, type WorkerProcess } from './workers';

const SAMPLES = 30;

function sampleTensor(i: number): HostTensor {
  return { type: 'float32', dims: [1, 8], data: rowsInput(1, 8, i * 5) };
}

/** 28 .npy samples, one .npz and one folder (the three layouts), and "bad": an int32 array the model cannot take. */
function writeInputs(dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const name = `s${String(i).padStart(3, '0')}`;
    names.push(name);
    if (i === 28) fs.writeFileSync(path.join(dir, `${name}.npz`), encodeNpz({ input: sampleTensor(i) }));
    else if (i === 29) {
      fs.mkdirSync(path.join(dir, name));
      fs.writeFileSync(path.join(dir, name, 'input.npy'), encodeNpy(sampleTensor(i)));
    } else fs.writeFileSync(path.join(dir, `${name}.npy`), encodeNpy(sampleTensor(i)));
  }
  fs.writeFileSync(path.join(dir, 'bad.npy'), encodeNpy({ type: 'int32', dims: [1, 8], data: new Int32Array(8) }));
  return names;
}

describeWhen(redisAbsent(), 'cluster: batch', () => {
  let redis: RedisServer;
  let dir: string;
  let inputs: string;
  let names: string[];
  let want: HostTensor[];
  const workers: WorkerProcess[] = [];
  const mlp = smallMlp(5);

  beforeAll(async () => {
    redis = await RedisServer.start();
    dir = makeTempDir('onnxforge-batch-');
    inputs = path.join(dir, 'inputs');
    names = writeInputs(inputs);
    repositoryWith(path.join(dir, 'fast'), 'mlp', FAST_CONFIG);
    repositoryWith(path.join(dir, 'stuck'), 'mlp', STUCK_CONFIG);
    want = await expectedOutputs(mlp, names.map((_, i) => ({ input: sampleTensor(i) })));
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await redis?.close();
    removeDir(dir);
  });

  const worker = async (prefix: string, repo: 'fast' | 'stuck', name: string, extra: string[] = []) => {
    const w = await startWorker(redis.url, path.join(dir, repo), name, ['--prefix', prefix, ...FAST_RECOVERY, ...extra]);
    workers.push(w);
    return w;
  };

  /** Every sample's output is there, complete and right, and nothing else is in the folder (no temp files, no strays). */
  function expectAllOutputs(out: string): void {
    expect(fs.readdirSync(out).sort()).toEqual(names.map((n) => `${n}.npz`));
    names.forEach((name, i) => {
      const arrays = parseNpz(fs.readFileSync(path.join(out, `${name}.npz`)), name);
      expect([...arrays.keys()]).toEqual(['output']);
      expect(values(arrays.get('output')!)).toEqual(values(want[i]));
    });
  }

  const options = (prefix: string, out: string, extra: Partial<BatchOptions> = {}): BatchOptions => ({
    redis: redis.url, prefix, model: 'mlp', inputs, out, chunk: 4, ...extra,
  });

  test('one .npz per sample, equal to onnxruntime; a sample that cannot be read fails alone; a rerun skips what is done', async () => {
    const prefix = uniquePrefix();
    await worker(prefix, 'fast', 'batch-a');
    const out = path.join(dir, 'out-a');
    const progress: number[] = [];
    const report = await runBatch(options(prefix, out, { onProgress: (done) => progress.push(done) }));
    expect(report).toMatchObject({ samples: 31, skipped: 0, written: 30, chunks: 8, adopted: 0, interrupted: false });
    expect(report.failed).toEqual([{ sample: 'bad', error: expect.stringMatching(/bad\.npy: input input wants float32, the file holds int32/) }]);
    expect(progress[progress.length - 1]).toBe(31);
    expectAllOutputs(out);
    const again = await runBatch(options(prefix, out));
    expect(again).toMatchObject({ skipped: 30, written: 0, chunks: 1 });
    expect(again.failed.map((f) => f.sample)).toEqual(['bad']);
    // A finished batch leaves nothing in Redis but the record of the failed sample's chunk job, which went with its parent.
    const client = new ClusterClient({ redis: redis.url, prefix });
    try {
      expect((await client.status()).batches).toEqual([]);
      expect(await client.redis.keys(`${prefix}:payload:*`)).toEqual([]);
    } finally {
      await client.close();
    }
  });

  test('an interrupted batch resumes: the files it wrote stay whole and are skipped, the rest is written', async () => {
    const prefix = uniquePrefix();
    await worker(prefix, 'fast', 'batch-b');
    const out = path.join(dir, 'out-b');
    const stop = new AbortController();
    // One chunk at a time; stop as soon as the first chunk's files are written.
    const first = await runBatch(options(prefix, out, { window: 1, signal: stop.signal, onProgress: (done) => done > 0 && stop.abort() }));
    expect(first).toMatchObject({ interrupted: true, written: 3 });
    expect(fs.readdirSync(out).sort()).toEqual(['s000.npz', 's001.npz', 's002.npz']);
    const second = await runBatch(options(prefix, out));
    expect(second).toMatchObject({ interrupted: false, skipped: 3, written: 27 });
    expectAllOutputs(out);
  });

  test('chunks an interrupted run left in Redis are adopted by the next run, not run again', async () => {
    const prefix = uniquePrefix();
    await worker(prefix, 'fast', 'batch-c');
    const out = path.join(dir, 'out-c');
    const client = new ClusterClient({ redis: redis.url, prefix });
    try {
      const queue = client.queues.get('infer.mlp');
      await queue.pause();
      const stop = new AbortController();
      const first = runBatch(options(prefix, out, { signal: stop.signal }));
      await jobEvents(redis.url, prefix, 'infer.mlp', 'added', 8);
      stop.abort();
      expect(await first).toMatchObject({ interrupted: true, written: 0 });
      expect((await client.status()).batches).toEqual([expect.objectContaining({ model: 'mlp', samples: 31, chunks: { done: 0, pending: 8, failed: 0 } })]);
      await queue.resume();
      const second = await runBatch(options(prefix, out));
      expect(second).toMatchObject({ chunks: 8, adopted: 8, written: 30 });
      expect(await queue.getJobCounts('completed', 'failed', 'waiting', 'prioritized')).toEqual({ completed: 0, failed: 0, waiting: 0, prioritized: 0 });
      expectAllOutputs(out);
    } finally {
      await client.close();
    }
  });

  test('two runs of one batch at once share its jobs and write every output once, whole', async () => {
    const prefix = uniquePrefix();
    await worker(prefix, 'fast', 'batch-d');
    const out = path.join(dir, 'out-d');
    const reports = await Promise.all([runBatch(options(prefix, out)), runBatch(options(prefix, out))]);
    for (const r of reports) expect(r.interrupted).toBe(false);
    expect(reports[0].written + reports[0].skipped).toBe(30);
    expect(reports[1].written + reports[1].skipped).toBe(30);
    expectAllOutputs(out);
  });

  test('a worker SIGKILLed mid-chunk: its chunks run on another worker; every output once, whole, right', async () => {
    const prefix = uniquePrefix();
    const victim = await worker(prefix, 'stuck', 'batch-victim', ['--concurrency', '2']);
    const out = path.join(dir, 'out-e');
    const batch = runBatch(options(prefix, out));
    await jobEvents(redis.url, prefix, 'infer.mlp', 'active', 2);
    await worker(prefix, 'fast', 'batch-survivor');
    await victim.kill('SIGKILL');
    const report = await batch;
    expect(report).toMatchObject({ written: 30, interrupted: false });
    expectAllOutputs(out);
  });

  test('onnxforge batch and onnxforge cluster status, as a user runs them', async () => {
    const prefix = uniquePrefix();
    await worker(prefix, 'fast', 'batch-cli');
    const out = path.join(dir, 'out-cli');
    const run = runCli(['batch', '--redis', redis.url, '--prefix', prefix, '--model', 'mlp', '--inputs', inputs, '--out', out, '--chunk', '8']);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/^mlp: 30 written to .*out-cli, 0 already there, 1 failed \(31 samples; 4 chunk jobs, 0 found from an earlier run\)$/m);
    expect(run.stdout).toMatch(/^ {2}bad: .*wants float32, the file holds int32$/m);
    expectAllOutputs(out);
    const over = runCli(['batch', '--redis', redis.url, '--prefix', prefix, '--model', 'mlp', '--inputs', inputs, '--out', inputs]);
    expect(over).toMatchObject({ status: 1, stderr: expect.stringMatching(/^onnxforge: the output folder .* must not be the inputs folder or inside it\n$/) });
    const status = runCli(['cluster', 'status', '--redis', redis.url, '--prefix', prefix, '--json']);
    expect(status.status).toBe(0);
    const json = JSON.parse(status.stdout) as { workers: { name: string }[]; queues: { model: string; workers: string[] }[] };
    expect(json.workers.map((w) => w.name)).toEqual(['batch-cli']);
    expect(json.queues).toEqual([expect.objectContaining({ model: 'mlp', waiting: 0, workers: ['batch-cli'] })]);
    const text = runCli(['cluster', 'status', '--redis', redis.url, '--prefix', prefix]);
    expect(text.stdout).toMatch(/^batch-cli +\S+:\d+ +serving +mlp /m);
  });
});
