// The native engine keeps a plan's arena for its next run only while it is small: the arena of a run far
// above the usual size (over 64 MiB) goes back to the system when the run ends, so one large request
// does not leave a served model holding its peak for good.
import { NativeEngine } from '../../lib/engine/native/native-engine';
import { GraphBuilder } from '../../lib/onnx/builder';
import { serializeModel } from '../../lib/onnx/save';

const WIDTH = 1024;
const KEPT_ARENA_BYTES = 64 * 1024 * 1024;

function model(): Uint8Array {
  // exp(x) is an intermediate [n, 1024] float32 tensor: the arena grows with n.
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['n', WIDTH]);
  const e = g.node('Exp', [x]);
  g.node('Add', [e, x], ['out']);
  g.output('out', 'float32', ['n', WIDTH]);
  return serializeModel(g.build({ opset: 13 }));
}

test.each([
  ['a small run keeps its arena for the next one', 16, true],
  ['a run with an arena over 64 MiB gives it back', 20_000, false],
])('%s', async (_title, rows, kept) => {
  const session = await new NativeEngine().load(model());
  try {
    const data = new Float32Array(rows * WIDTH).fill(0.5);
    const { out } = await session.run({ x: { type: 'float32', dims: [rows, WIDTH], data } });
    expect(out.data[rows * WIDTH - 1]).toBeCloseTo(Math.exp(0.5) + 0.5, 5);
    const { plan } = session.planFor([{ name: 'x', dtype: 'float32', dims: [rows, WIDTH] }]);
    expect(plan.arenaBytes > KEPT_ARENA_BYTES).toBe(!kept);
    expect(plan.arenaBytes).toBeGreaterThanOrEqual(rows * WIDTH * 4);
    expect(plan.arenaBytesHeld).toBe(kept ? plan.arenaBytes : 0);
  } finally {
    await session.dispose();
  }
});
