// OrtEngine and onnxruntime-node's CUDA execution provider: used when asked and there,
// a clear error naming the remedy when it is not, and 'auto' falling back to the CPU.
import { OrtEngine } from '../../lib/engine/ort-engine';
import { OrtCudaUnavailableError, ortCudaSupport } from '../../lib/engine/ort-cuda';
import { GraphBuilder } from '../../lib/onnx/builder';
import { serializeModel } from '../../lib/onnx/save';
import { kernels } from '../../lib/kernels';
import { firstAbsent, testWhen } from '../helpers/skip';

function matmulModel(): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['batch', 3]);
  const w = g.initializer('w', Float32Array.of(1, 2, 3, 4, 5, 6), [3, 2]);
  g.output(g.node('MatMul', [x, w]), 'float32', ['batch', 2]);
  return serializeModel(g.build());
}

const feeds = { x: { type: 'float32' as const, dims: [1, 3], data: Float32Array.of(1, 1, 1) } };
const support = ortCudaSupport();
// onnxruntime's CUDA provider needs its libraries and a GPU to start.
const cudaAbsent = firstAbsent(support.reason ?? undefined, kernels.cudaAvailable() ? undefined : `no usable GPU: ${kernels.cudaInfo().reason}`);

describe('OrtEngine and the CUDA execution provider', () => {
  test('ortCudaSupport says whether the provider is installed, and why not', () => {
    expect(typeof support.available).toBe('boolean');
    if (support.available) {
      expect(support.reason).toBeNull();
    } else {
      expect(support.reason).toMatch(/onnxruntime-node has no CUDA execution provider/);
      if (process.platform === 'linux') expect(support.reason).toMatch(/libonnxruntime_providers_cuda\.so.*ONNXRUNTIME_NODE_INSTALL=skip/);
    }
    expect(ortCudaSupport()).toBe(support);
  });

  testWhen(support.available ? 'onnxruntime-node has its CUDA execution provider here' : undefined, "device 'cuda' and executionProviders ['cuda', 'cpu'] fail with the reason, before onnxruntime tries", async () => {
    const engine = new OrtEngine();
    await expect(engine.load(matmulModel(), { device: 'cuda' })).rejects.toThrow(OrtCudaUnavailableError);
    await expect(engine.load(matmulModel(), { executionProviders: ['cuda', 'cpu'] })).rejects.toThrow(support.reason!);
  });

  test("device 'auto' runs on the CPU when CUDA cannot run, with the same results", async () => {
    const auto = await new OrtEngine().load(matmulModel(), { device: 'auto' });
    const cpu = await new OrtEngine().load(matmulModel(), { device: 'cpu' });
    const [a, c] = [await auto.run(feeds), await cpu.run(feeds)];
    expect(Array.from(a[Object.keys(a)[0]].data as Float32Array)).toEqual([9, 12]);
    expect(a).toEqual(c);
    await Promise.all([auto.dispose(), cpu.dispose()]);
  });

  testWhen(cudaAbsent, "device 'cuda' runs the model on the GPU", async () => {
    const session = await new OrtEngine().load(matmulModel(), { device: 'cuda' });
    const out = await session.run(feeds);
    expect(Array.from(out[Object.keys(out)[0]].data as Float32Array)).toEqual([9, 12]);
    await session.dispose();
  });
});
