// Operators whose output element type is set by an attribute (Cast's "to", RandomNormal's "dtype"...),
// which a precision change has to rewrite along with the tensors.
import type { NodeProto } from '../onnx/gen/onnx_pb';
import { attr, makeAttribute } from '../onnx/attributes';
import { DataType } from '../onnx/dtype';

interface DtypeAttribute {
  name: string;
  /** Absent means float32 (rather than "the input's type"). */
  defaultsToFloat: boolean;
}

const DTYPE_ATTRIBUTE: Record<string, DtypeAttribute> = {
  Cast: { name: 'to', defaultsToFloat: false },
  EyeLike: { name: 'dtype', defaultsToFloat: false },
  RandomNormal: { name: 'dtype', defaultsToFloat: true },
  RandomUniform: { name: 'dtype', defaultsToFloat: true },
  RandomNormalLike: { name: 'dtype', defaultsToFloat: false },
  RandomUniformLike: { name: 'dtype', defaultsToFloat: false },
  Bernoulli: { name: 'dtype', defaultsToFloat: false },
  HannWindow: { name: 'output_datatype', defaultsToFloat: true },
  HammingWindow: { name: 'output_datatype', defaultsToFloat: true },
  BlackmanWindow: { name: 'output_datatype', defaultsToFloat: true },
  MelWeightMatrix: { name: 'output_datatype', defaultsToFloat: true },
};

/** Make `node` produce `to` where its attribute (or the attribute's float32 default) said one of `from`. */
export function retargetDtypeAttribute(node: NodeProto, from: readonly number[], to: number): boolean {
  const spec = DTYPE_ATTRIBUTE[node.opType];
  if (!spec) return false;
  const a = node.attribute.find((x) => x.name === spec.name);
  if (a && from.includes(Number(a.i))) {
    a.i = BigInt(to);
    return true;
  }
  if (!a && spec.defaultsToFloat && from.includes(DataType.FLOAT)) {
    node.attribute.push(makeAttribute(spec.name, attr.int(to)));
    return true;
  }
  return false;
}
