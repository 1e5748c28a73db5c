// Quantization inside If branches and Loop bodies: weights read from the outer scope, body
// initializers and Constant nodes, and static ranges measured through the control-flow nodes.
import * as ort from 'onnxruntime-node';
import { GraphBuilder, makeTensor, type Model } from '../../lib/onnx';
import { quantize } from '../../lib/quantize';
import { cosine, floats, opCounts, runModel } from './helpers';

const N = 16;

/**
 * y = cond ? Relu(x @ A) @ C : x @ B, then a Loop applies v = Tanh(v @ L) three times.
 * A and L live in the main graph, B is an else-branch initializer, C a then-branch Constant node.
 */
function controlFlowModel(): Model {
  const g = new GraphBuilder('control_flow');
  g.input('cond', 'bool', []);
  g.input('x', 'float32', [2, N]);
  const a = g.initializer('A', floats(N * N, 1), [N, N]);
  const l = g.initializer('L', floats(N * N, 2).map((v) => v * 0.3), [N, N]);

  const thenBody = g.subgraph('then_body');
  const c = thenBody.node('Constant', [], ['C'], { value: makeTensor('C_value', floats(N * N, 3), [N, N]) });
  thenBody.output(thenBody.node('MatMul', [thenBody.node('Relu', [thenBody.node('MatMul', ['x', a])]), c], ['then_y']), 'float32', [2, N]);
  const elseBody = g.subgraph('else_body');
  const b = elseBody.initializer('B', floats(N * N, 4), [N, N]);
  elseBody.output(elseBody.node('MatMul', ['x', b], ['else_y']), 'float32', [2, N]);
  const y = g.node('If', ['cond'], ['y'], { then_branch: thenBody.buildGraph(), else_branch: elseBody.buildGraph() });

  const loop = g.subgraph('loop_body');
  loop.input('i', 'int64', []);
  loop.input('keep_going', 'bool', []);
  loop.input('v', 'float32', [2, N]);
  loop.node('Identity', ['keep_going'], ['keep_going_out']);
  loop.node('Tanh', [loop.node('MatMul', ['v', l])], ['v_next']);
  loop.output('keep_going_out', 'bool', []);
  loop.output('v_next', 'float32', [2, N]);
  const trips = g.initializer('trips', BigInt64Array.of(3n), []);
  const yes = g.initializer('yes', Uint8Array.of(1), [], 'bool');
  g.node('Loop', [trips, yes, y], ['out'], { body: loop.buildGraph() });
  g.output('out', 'float32', [2, N]);
  return g.build({ opset: 17 });
}

async function outputsFor(model: Model, cond: boolean): Promise<Float32Array> {
  const feeds = {
    cond: new ort.Tensor('bool', Uint8Array.of(cond ? 1 : 0), []),
    x: new ort.Tensor('float32', floats(2 * N, 9), [2, N]),
  };
  return (await runModel(model, feeds)).out.data as Float32Array;
}

async function expectClose(source: Model, result: Model, minCosine: number): Promise<void> {
  for (const cond of [true, false]) {
    expect(cosine(await outputsFor(source, cond), await outputsFor(result, cond))).toBeGreaterThan(minCosine);
  }
}

describe('control flow', () => {
  const source = controlFlowModel();

  it('dynamic: quantizes MatMuls in both If branches and the Loop body', async () => {
    const { model, report } = await quantize(source, { mode: 'dynamic', verify: false });
    expect(report.quantized.map((q) => q.graph.replace(/_node_\d+/, '')).sort()).toEqual([
      'main/If.else_branch', 'main/If.then_branch', 'main/If.then_branch', 'main/Loop.body',
    ]);
    expect(opCounts(model).MatMulInteger).toBe(4);
    expect(opCounts(model).MatMul).toBeUndefined();
    // The replaced weights are gone, from whichever scope held them.
    expect(model.graph.initializer.map((t) => t.name)).not.toContain('A');
    expect(model.nodes().some((r) => r.node.opType === 'Constant' && r.node.output[0] === 'C')).toBe(false);
    await expectClose(source, model, 0.999);
  });

  it('weight-only int4: MatMulNBits inside the bodies', async () => {
    const { model, report } = await quantize(source, { mode: 'weight-only', bits: 4, blockSize: 16, verify: false });
    expect(report.quantized).toHaveLength(4);
    expect(opCounts(model).MatMulNBits).toBe(4);
    await expectClose(source, model, 0.98);
  });

  it('static: ranges come through If outputs and Loop scan outputs; the branch never taken is reported', async () => {
    const { model, report } = await quantize(source, {
      mode: 'static', randomSamples: 3, values: { cond: 1 }, latencyRuns: 0,
    });
    expect(report.quantized.map((q) => q.graph.replace(/_node_\d+/, '')).sort()).toEqual([
      'main/If.then_branch', 'main/If.then_branch', 'main/Loop.body',
    ]);
    expect(report.skipped).toEqual([expect.objectContaining({
      graph: expect.stringMatching(/^main\/If_node_\d+\.else_branch$/), detail: expect.stringMatching(/never reach/),
    })]);
    // Input and output of each of the three: inside bodies a Relu is not folded (see static/activations.ts).
    expect(opCounts(model).QuantizeLinear).toBe(6);
    expect(opCounts(model).Relu).toBe(1);
    expect(report.verification?.outputs[0].cosine).toBeGreaterThan(0.99);
    await expectClose(source, model, 0.98);
  });
});
