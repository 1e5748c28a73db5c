// How an instance picks its engine: as configured, or for 'auto' native only when it runs every node
// and is measured faster. Real engines on real models; the measurement is injected, so the choice is
// decided by the numbers given here, never by the machine's timing.
import type { Session } from '../../lib/engine/engine';
import { NativeEngine } from '../../lib/engine/native/native-engine';
import { OrtEngine } from '../../lib/engine/ort-engine';
import { GraphBuilder } from '../../lib/onnx/builder';
import { serializeModel } from '../../lib/onnx/save';
import { chooseEngine, EngineLoaders, MeasureRun, timeRuns } from '../../lib/runtime/engine-choice';
import { rowsInput, smallMlp } from './fixtures';

/** TopK: an op the native engine does not run. */
function topKModel(): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', [1, 8]);
  const k = g.initializer('k', BigInt64Array.of(2n), [1]);
  g.node('TopK', [g.node('Relu', [x]), k], ['values', 'indices'], { axis: -1 });
  g.output('values', 'float32', [1, 2]);
  g.output('indices', 'int64', [1, 2]);
  return serializeModel(g.build({ opset: 17 }));
}

/** Loaders over real engines that record which sessions were disposed. */
function loaders(model: Uint8Array) {
  const disposed: string[] = [];
  const track = (engine: string, session: Session): Session => {
    const dispose = session.dispose.bind(session);
    session.dispose = () => {
      disposed.push(engine);
      return dispose();
    };
    return session;
  };
  const load: EngineLoaders = {
    ort: async () => track('ort', await new OrtEngine().load(model)),
    native: async () => track('native', await new NativeEngine().load(model)),
  };
  return { load, disposed };
}

const measured = (times: { ort: number; native: number }) => {
  const calls: string[] = [];
  const measure: MeasureRun = async (_session, engine) => {
    calls.push(engine);
    return times[engine];
  };
  return { measure, calls };
};

const mlp = serializeModel(smallMlp());

describe('engine choice', () => {
  test.each([
    [{ native: 1, ort: 2 }, 'native', 'native_faster'],
    [{ native: 3, ort: 2 }, 'ort', 'ort_faster'],
    // A tie keeps onnxruntime: native must be measured faster.
    [{ native: 2, ort: 2 }, 'ort', 'ort_faster'],
  ] as const)('auto on a model native covers, measured %j, runs %s', async (times, engine, cause) => {
    const { load, disposed } = loaders(mlp);
    const { measure, calls } = measured(times);
    const decision = await chooseEngine('auto', 'cpu', load, measure);
    expect(decision).toMatchObject({ engine, cause });
    expect(decision.reason).toContain(`native ${times.native.toFixed(3)} ms vs onnxruntime ${times.ort.toFixed(3)} ms`);
    expect(calls.sort()).toEqual(['native', 'ort']);
    // The engine not kept is released; the one kept is not.
    expect(disposed).toEqual([engine === 'native' ? 'ort' : 'native']);
    const out = await decision.session.run({ input: { type: 'float32', dims: [2, 8], data: rowsInput(2, 8) } });
    expect(out.output.dims).toEqual([2, 4]);
    await decision.session.dispose();
  });

  test('auto on a model with an op native lacks runs onnxruntime, names the op, and times nothing', async () => {
    const { load } = loaders(topKModel());
    const { measure, calls } = measured({ native: 0, ort: 1 });
    const decision = await chooseEngine('auto', 'cpu', load, measure);
    expect(decision).toMatchObject({ engine: 'ort', cause: 'native_unsupported' });
    expect(decision.reason).toMatch(/unsupported TopK/);
    expect(calls).toEqual([]);
    await decision.session.dispose();
  });

  test('auto keeps onnxruntime when the engines cannot be timed', async () => {
    const { load, disposed } = loaders(mlp);
    const decision = await chooseEngine('auto', 'cpu', load, async () => {
      throw new Error('no warm-up inputs');
    });
    expect(decision).toMatchObject({ engine: 'ort', cause: 'not_measured' });
    expect(decision.reason).toMatch(/no warm-up inputs/);
    expect(disposed).toEqual(['native']);
    await decision.session.dispose();
  });

  test('auto on cuda runs onnxruntime without loading native', async () => {
    let nativeLoads = 0;
    const decision = await chooseEngine('auto', 'cuda', {
      ort: () => new OrtEngine().load(mlp),
      native: () => {
        nativeLoads++;
        return new NativeEngine().load(mlp);
      },
    }, measured({ native: 0, ort: 1 }).measure);
    expect(decision).toMatchObject({ engine: 'ort', cause: 'device' });
    expect(nativeLoads).toBe(0);
    await decision.session.dispose();
  });

  test.each(['ort', 'native'] as const)('engine %s is loaded as asked, with no timing', async (choice) => {
    const { load } = loaders(mlp);
    const { measure, calls } = measured({ native: 1, ort: 1 });
    const decision = await chooseEngine(choice, 'cpu', load, measure);
    expect(decision).toMatchObject({ engine: choice, cause: 'requested' });
    expect(calls).toEqual([]);
    await decision.session.dispose();
  });

  test("engine 'native' on a model it cannot run fails, naming the op", async () => {
    const { load } = loaders(topKModel());
    await expect(chooseEngine('native', 'cpu', load, measured({ native: 0, ort: 0 }).measure)).rejects.toThrow(/unsupported TopK/);
  });

  test('timeRuns runs one untimed pass, then the given rounds over every input', async () => {
    const runs: number[] = [];
    const session = { run: async (feeds: { input: { dims: number[] } }) => { runs.push(feeds.input.dims[0]); return {}; } } as unknown as Session;
    const feeds = [1, 2].map((rows) => ({ input: { type: 'float32' as const, dims: [rows, 8], data: rowsInput(rows, 8) } }));
    await timeRuns(session, feeds, 3);
    expect(runs).toEqual([1, 2, 1, 2, 1, 2, 1, 2]);
    await expect(timeRuns(session, [], 3)).rejects.toThrow(/no warm-up inputs/);
  });
});
