// The activation memory estimate of a request (issue 22): inputs plus every intermediate and output
// tensor at the request's concrete dims; values shape propagation cannot follow count as the largest one.
import { buildMlp, GraphBuilder } from '../../lib/onnx';
import { RequestMemoryEstimator } from '../../lib/runtime/request-memory';
import type { Feeds } from '../../lib/engine/tensor';

const rows = (n: number, width: number): Feeds => ({ input: { type: 'float32', dims: [n, width], data: new Float32Array(n * width) } });

describe('RequestMemoryEstimator', () => {
  test('an MLP: input + MatMul, Add, Relu [n, 1024] + MatMul, Add [n, 64], float32, exactly', () => {
    const estimator = RequestMemoryEstimator.fromModel(buildMlp({ inputSize: 64, hidden: [1024], outputSize: 64 }));
    const perRow = 64 * 4 + 3 * 1024 * 4 + 2 * 64 * 4;
    expect(estimator.estimate(rows(10, 64))).toEqual({ bytes: 10 * perRow, unknownValues: 0 });
    // Linear in rows: 100x the rows is 100x the memory.
    expect(estimator.estimate(rows(1000, 64)).bytes).toBe(1000 * perRow);
  });

  test('a value propagation cannot follow counts as large as the largest known one (an over-estimate, never under)', () => {
    const g = new GraphBuilder('tile');
    const x = g.input('input', 'float32', ['n', 8]);
    const relu = g.node('Relu', [x]);
    const repeats = g.initializer('repeats', BigInt64Array.of(1n, 1n), [2], 'int64');
    const tiled = g.node('Tile', [relu, repeats]);
    g.node('Relu', [tiled], ['output']);
    g.output('output', 'float32');
    const estimator = RequestMemoryEstimator.fromModel(g.build({ opset: 13 }));
    // input + Relu [n, 8] known; Tile and the last Relu unknown: each counted as [n, 8].
    expect(estimator.estimate(rows(5, 8))).toEqual({ bytes: 4 * 5 * 8 * 4, unknownValues: 2 });
  });
});
