// isolation 'process' with tensors through shared memory (issue 22): answers are byte-identical to
// 'thread' for small and 4 MiB tensors, and the 4 MiB ones really travel through a region the child
// maps (not the IPC channel); the IPC path (ONNXFORGE_PROCESS_TENSORS=ipc) gives the same bytes.
import * as fs from 'fs';
import type { HostTensor } from '../../lib/engine/tensor';
import { GraphBuilder, Model } from '../../lib/onnx';
import { ModelRuntime } from '../../lib/runtime/runtime';
import { smallMlp, writeRepository } from '../runtime/fixtures';
import { describeWhen } from '../helpers/skip';

/** [n, 1024] -> Relu -> [n, 1024]: a [1024, 1024] request is 4 MiB in and 4 MiB out. */
function relu(): Model {
  const g = new GraphBuilder('relu');
  g.node('Relu', [g.input('input', 'float32', ['batch', 1024])], ['output']);
  g.output('output', 'float32', ['batch', 1024]);
  return g.build();
}

function bytesOf(t: HostTensor): Buffer {
  const data = t.data as Float32Array;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Sizes (bytes) of the shared regions mapped into a process. */
function regionMappings(pid: number): number[] {
  return fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').filter((l) => l.includes('onnxforge-region')).map((l) => {
    const [start, end] = l.split(' ')[0].split('-').map((h) => parseInt(h, 16));
    return end - start;
  });
}

const repository = () => writeRepository({
  mlp_thread: { config: { isolation: 'thread', engine: 'ort' }, versions: { 1: smallMlp() } },
  mlp_process: { config: { isolation: 'process', engine: 'ort' }, versions: { 1: smallMlp() } },
  relu_thread: { config: { isolation: 'thread', engine: 'ort' }, versions: { 1: relu() } },
  relu_process: { config: { isolation: 'process', engine: 'ort' }, versions: { 1: relu() } },
});

const small = { input: { type: 'float32' as const, dims: [2, 8], data: Float32Array.from({ length: 16 }, (_, i) => Math.sin(i) * 3) } };
const large = { input: { type: 'float32' as const, dims: [1024, 1024], data: Float32Array.from({ length: 1 << 20 }, (_, i) => Math.sin(i * 0.37) * (i % 7)) } };

async function childPid(runtime: ModelRuntime, name: string): Promise<number> {
  return (await runtime.metadata(name)).instances![0].pid;
}

describeWhen(process.platform === 'linux' ? undefined : 'shared memory regions are Linux only', "isolation 'process' through shared memory", () => {
  let runtime: ModelRuntime;
  beforeAll(async () => {
    runtime = new ModelRuntime({ repository: repository() });
    await runtime.start();
  });
  afterAll(() => runtime.close());

  test.each([
    ['a small MLP [2, 8]', 'mlp', small],
    ['Relu on a 4 MiB [1024, 1024] tensor', 'relu', large],
  ])('%s: the process answer is byte-identical to the thread answer', async (_what, model, feeds) => {
    const thread = await runtime.infer(`${model}_thread`, feeds);
    for (let round = 0; round < 3; round++) {
      const processed = await runtime.infer(`${model}_process`, feeds);
      expect(processed.outputs.output.dims).toEqual(thread.outputs.output.dims);
      expect(bytesOf(processed.outputs.output).equals(bytesOf(thread.outputs.output))).toBe(true);
    }
  });

  test('the 4 MiB tensors went through shared memory: the child maps the server\'s region (8 MiB, twice the batch) and the server maps the child\'s', async () => {
    await runtime.infer('relu_process', large);
    const pid = await childPid(runtime, 'relu_process');
    const inChild = regionMappings(pid);
    const inServer = regionMappings(process.pid);
    expect(inChild).toContain(8 << 20);
    expect(inServer).toContain(8 << 20);
  });

  test('answers held by the caller stay intact while later requests reuse the region', async () => {
    const first = await runtime.infer('relu_process', large);
    const kept = Buffer.from(bytesOf(first.outputs.output));
    const other = { input: { type: 'float32' as const, dims: [1024, 1024], data: new Float32Array(1 << 20).fill(5) } };
    const second = await runtime.infer('relu_process', other);
    expect((second.outputs.output.data as Float32Array).every((v) => v === 5)).toBe(true);
    expect(bytesOf(first.outputs.output).equals(kept)).toBe(true);
  });

  test('SIGKILL of the child mid-request (4 MiB): 503 instance_restarting, then the same bytes from a new child through new regions', async () => {
    const expected = await runtime.infer('relu_thread', large);
    const before = await childPid(runtime, 'relu_process');
    // A stopped child cannot answer: the request is surely in flight when it is killed.
    process.kill(before, 'SIGSTOP');
    const inflight = runtime.infer('relu_process', large).then(() => undefined, (err: Error) => err);
    const model = runtime.loadedModel('relu_process')!;
    while (!model.busy) await new Promise((resolve) => setImmediate(resolve));
    process.kill(before, 'SIGKILL');
    const err = (await inflight) as { status?: number; name?: string } | undefined;
    expect(err).toMatchObject({ name: 'InstanceRestartingError', status: 503 });
    const next = await runtime.infer('relu_process', large);
    expect(bytesOf(next.outputs.output).equals(bytesOf(expected.outputs.output))).toBe(true);
    const after = await childPid(runtime, 'relu_process');
    expect(after).not.toBe(before);
    expect(regionMappings(after)).toContain(8 << 20);
  });

  test('concurrent requests on one child (max_inflight 1 queues them) each get their own answer', async () => {
    const feeds = Array.from({ length: 8 }, (_, k) => ({ input: { type: 'float32' as const, dims: [64, 1024], data: new Float32Array(64 * 1024).fill(k - 3) } }));
    const answers = await Promise.all(feeds.map((f) => runtime.infer('relu_process', f)));
    answers.forEach((a, k) => expect((a.outputs.output.data as Float32Array).every((v) => v === Math.max(0, k - 3))).toBe(true));
  });
});

describe("isolation 'process' over the IPC channel (ONNXFORGE_PROCESS_TENSORS=ipc, the fallback where shared memory is missing)", () => {
  let runtime: ModelRuntime;
  const saved = process.env.ONNXFORGE_PROCESS_TENSORS;
  beforeAll(async () => {
    process.env.ONNXFORGE_PROCESS_TENSORS = 'ipc';
    runtime = new ModelRuntime({ repository: repository() });
    await runtime.start();
  });
  afterAll(async () => {
    await runtime.close();
    if (saved === undefined) delete process.env.ONNXFORGE_PROCESS_TENSORS;
    else process.env.ONNXFORGE_PROCESS_TENSORS = saved;
  });

  test('the 4 MiB answer is byte-identical to the thread answer, and no region is mapped by the child', async () => {
    const thread = await runtime.infer('relu_thread', large);
    const processed = await runtime.infer('relu_process', large);
    expect(bytesOf(processed.outputs.output).equals(bytesOf(thread.outputs.output))).toBe(true);
    if (process.platform === 'linux') expect(regionMappings(await childPid(runtime, 'relu_process'))).toEqual([]);
  });
});
