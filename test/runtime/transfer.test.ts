// transferInputs: the caller gives up its input buffers, which move to the instance's thread instead of
// being copied (the server does this with the tensors it decoded); without it the caller's arrays stay whole.
import { ModelRuntime } from '../../lib/runtime/runtime';
import { rowsInput, smallMlp, writeRepository } from './fixtures';

describe('input transfer to the instance', () => {
  let runtime: ModelRuntime;

  beforeAll(async () => {
    runtime = new ModelRuntime({ repository: writeRepository({ mlp: { config: { engine: 'ort', max_batch_size: 4 }, versions: { 1: smallMlp() } } }) });
    await runtime.start();
  });

  afterAll(() => runtime.close());

  test('transferred inputs give the same answer and leave the caller with detached buffers', async () => {
    const kept = rowsInput(2, 8);
    const moved = rowsInput(2, 8);
    const copied = await runtime.infer('mlp', { input: { type: 'float32', dims: [2, 8], data: kept } });
    const transferred = await runtime.infer('mlp', { input: { type: 'float32', dims: [2, 8], data: moved } }, { transferInputs: true });
    expect(Array.from(transferred.outputs.output.data as Float32Array)).toEqual(Array.from(copied.outputs.output.data as Float32Array));
    expect(kept.length).toBe(16);
    // A detached buffer: the array now has no elements.
    expect(moved.length).toBe(0);
  });
});
