// Models for the gRPC tests, built with the project's builder.
import { GraphBuilder, Model, randomNormal } from '../../lib/onnx';

/**
 * Three inputs of three kinds and three outputs: x FP32 [batch, 8] -> y = Relu(x W) [batch, 4];
 * k INT32 [batch, 3] -> k2 = k * k; tag BYTES [batch] -> tag_out = tag.
 */
export function mixedModel(): Model {
  const g = new GraphBuilder('mixed');
  const x = g.input('x', 'float32', ['batch', 8]);
  const k = g.input('k', 'int32', ['batch', 3]);
  const tag = g.input('tag', 'string', ['batch']);
  const w = g.initializer('w', randomNormal(32, 5, 0.5), [8, 4]);
  g.node('Relu', [g.node('MatMul', [x, w])], ['y']);
  g.node('Mul', [k, k], ['k2']);
  g.node('Identity', [tag], ['tag_out']);
  g.output('y', 'float32', ['batch', 4]);
  g.output('k2', 'int32', ['batch', 3]);
  g.output('tag_out', 'string', ['batch']);
  return g.build();
}
