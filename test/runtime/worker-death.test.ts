// A worker thread that dies mid-job: the requests it held fail with a clear error, the
// process and the other models keep going, and the model reloads on its next request.
import { ExecutionError } from '../../lib/runtime/errors';
import { ModelRuntime } from '../../lib/runtime/runtime';
import { rowsInput, smallMlp, writeRepository } from './fixtures';

const input = (rows: number) => ({ input: { type: 'float32' as const, dims: [rows, 8], data: rowsInput(rows, 8) } });

/** The worker threads behind a loaded model (private fields, reached on purpose to kill them). */
function workersOf(runtime: ModelRuntime, name: string): { terminate(): Promise<number> }[] {
  const loaded = runtime.loadedModel(name) as unknown as { instances: { worker: { terminate(): Promise<number> } }[] };
  return loaded.instances.map((i) => i.worker);
}

describe('ModelRuntime: a worker that dies', () => {
  let runtime: ModelRuntime;

  beforeAll(async () => {
    const repo = writeRepository({
      victim: { config: { max_batch_size: 8 }, versions: { 1: smallMlp(1) } },
      bystander: { config: { max_batch_size: 8 }, versions: { 1: smallMlp(2) } },
    });
    runtime = new ModelRuntime({ repository: repo });
    await runtime.start();
  });
  afterAll(() => runtime.close());

  test('in-flight requests fail with ExecutionError; the next request reloads the model', async () => {
    const expected = (await runtime.infer('victim', input(2))).outputs;
    const inFlight = Array.from({ length: 20 }, () => runtime.infer('victim', input(2)));
    await Promise.all(workersOf(runtime, 'victim').map((w) => w.terminate()));
    const settled = await Promise.allSettled(inFlight);
    // Requests the worker answered before it died succeed; the rest fail with a clear error, none hangs.
    const failures = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason);
    expect(failures.length).toBeGreaterThan(0);
    for (const err of failures) {
      expect(err).toBeInstanceOf(ExecutionError);
      expect(String(err.message)).toMatch(/worker exited/);
    }
    expect((await runtime.infer('bystander', input(1))).outputs.output.dims).toEqual([1, 4]);
    const again = await runtime.infer('victim', input(2));
    expect(Array.from(again.outputs.output.data as Float32Array)).toEqual(Array.from(expected.output.data as Float32Array));
  });
});
