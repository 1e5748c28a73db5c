import { ModelRuntime } from '../../lib/runtime/runtime';
import { rowsInput, smallMlp, writeRepository } from './fixtures';

describe('ModelRuntime', () => {
  test('loads an eager model, warms it up, runs it', async () => {
    const repo = writeRepository({ mlp: { config: { max_batch_size: 8 }, versions: { 1: smallMlp() } } });
    const runtime = new ModelRuntime({ repository: repo });
    try {
      await runtime.start();
      expect(runtime.ready).toBe(true);
      expect(runtime.loadedModel('mlp')?.warmupRuns).toBe(1);
      const result = await runtime.infer('mlp', { input: { type: 'float32', dims: [2, 8], data: rowsInput(2, 8) } });
      expect(result.outputs.output.dims).toEqual([2, 4]);
    } finally {
      await runtime.close();
    }
  });
});
