// buildExportedMlp writes what torch.onnx.export writes for an nn.Sequential MLP (the facts below are
// from shared/exporter-graphs/mlp-784-256-10-opset13.txt) and computes W2·relu(W1·x + b1) + b2.
import * as ort from 'onnxruntime-node';
import { buildExportedMlp, getAttribute, randomNormal, type Model } from '../../lib/onnx';
import { runOrt } from './helpers';

const shapes = (model: Model) => model.graph.initializer.map((t) => [t.name, t.dims.map(Number)]);

/** The MLP in plain loops: Gemm with transB (weights [out, in]) and Relu between layers. */
function referenceMlp(model: Model, input: Float32Array, batch: number): Float32Array {
  const gemms = model.graph.node.filter((n) => n.opType === 'Gemm');
  let x = input;
  gemms.forEach((gemm, layer) => {
    const w = model.initializer(gemm.input[1])!;
    const b = model.initializer(gemm.input[2])!.data as Float32Array;
    const [out, inp] = w.dims;
    const weights = w.data as Float32Array;
    const y = new Float32Array(batch * out);
    for (let n = 0; n < batch; n++) {
      for (let o = 0; o < out; o++) {
        let sum = b[o];
        for (let i = 0; i < inp; i++) sum += x[n * inp + i] * weights[o * inp + i];
        y[n * out + o] = layer + 1 < gemms.length ? Math.max(0, sum) : sum;
      }
    }
    x = y;
  });
  return x;
}

describe('buildExportedMlp', () => {
  test('defaults are the exported 784-256-10 file: nodes, attributes, names and shapes', () => {
    const model = buildExportedMlp();
    expect(model.graph.node.map((n) => n.opType)).toEqual(['Flatten', 'Gemm', 'Relu', 'Gemm']);
    expect(getAttribute(model.graph.node[0], 'axis')).toBe(1);
    for (const gemm of model.graph.node.filter((n) => n.opType === 'Gemm')) {
      expect([getAttribute(gemm, 'alpha'), getAttribute(gemm, 'beta'), getAttribute(gemm, 'transB')]).toEqual([1, 1, 1]);
    }
    expect(shapes(model)).toEqual([['net.1.weight', [256, 784]], ['net.1.bias', [256]], ['net.3.weight', [10, 256]], ['net.3.bias', [10]]]);
    expect(model.inputs.map((v) => [v.name, v.dims])).toEqual([['image', ['batch', 1, 28, 28]]]);
    expect(model.outputs.map((v) => [v.name, v.dims])).toEqual([['logits', ['batch', 10]]]);
    expect(model.graph.node.map((n) => n.output[0])).toEqual([
      '/net/net.0/Flatten_output_0', '/net/net.1/Gemm_output_0', '/net/net.2/Relu_output_0', 'logits',
    ]);
    expect(model.opsetVersion()).toBe(13);
  });

  test('784-1024-1024-10 on images computes the reference MLP in onnxruntime', async () => {
    const model = buildExportedMlp({ hidden: [1024, 1024], seed: 5 });
    expect(model.graph.node.map((n) => n.opType)).toEqual(['Flatten', 'Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
    expect(model.initializerNames().filter((n) => n.endsWith('.weight'))).toEqual(['net.1.weight', 'net.3.weight', 'net.5.weight']);
    const batch = 3;
    const image = randomNormal(batch * 784, 7);
    const out = await runOrt(model, { image: new ort.Tensor('float32', image, [batch, 1, 28, 28]) });
    expect(out.logits.dims).toEqual([batch, 10]);
    const reference = referenceMlp(model, image, batch);
    const logits = out.logits.data as Float32Array;
    logits.forEach((v, i) => expect(Math.abs(v - reference[i])).toBeLessThan(1e-4 * (1 + Math.abs(reference[i]))));
    // He-scaled layers keep the logits near unit scale instead of vanishing or exploding.
    const rms = Math.sqrt(logits.reduce((s, v) => s + v * v, 0) / logits.length);
    expect(rms).toBeGreaterThan(0.2);
    expect(rms).toBeLessThan(5);
  });

  test('a [batch, features] input goes straight to Gemm', async () => {
    const model = buildExportedMlp({ inputShape: [20], hidden: [16, 8], outputSize: 4, batch: 2, opset: 17, seed: 1 });
    expect(model.graph.node.map((n) => n.opType)).toEqual(['Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
    expect(model.inputs.map((v) => [v.name, v.dims])).toEqual([['input', [2, 20]]]);
    expect(model.initializerNames()).toEqual(['net.0.weight', 'net.0.bias', 'net.2.weight', 'net.2.bias', 'net.4.weight', 'net.4.bias']);
    const input = randomNormal(40, 2);
    const logits = (await runOrt(model, { input: new ort.Tensor('float32', input, [2, 20]) })).logits.data as Float32Array;
    const reference = referenceMlp(model, input, 2);
    logits.forEach((v, i) => expect(Math.abs(v - reference[i])).toBeLessThan(1e-5));
  });

  test('opsets 11..17 write the same nodes; others are refused', () => {
    const nodes = (opset: number) => buildExportedMlp({ opset, inputShape: [1, 4, 4], hidden: [8] }).graph.node.map((n) => [n.opType, n.attribute.map((a) => a.name)]);
    for (const opset of [11, 12, 14, 15, 16, 17]) expect(nodes(opset)).toEqual(nodes(13));
    expect(() => buildExportedMlp({ opset: 10 })).toThrow(RangeError);
    expect(() => buildExportedMlp({ hidden: [0] })).toThrow(RangeError);
  });
});
