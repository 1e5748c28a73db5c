// Reads an ONNX test-data style .pb file (one serialized TensorProto) into a host tensor.
import { fromBinary } from '@bufbuild/protobuf';
import type { HostTensor, TensorType } from '../engine/tensor';
import { TensorProtoSchema } from '../onnx/gen/onnx_pb';
import { decodeTensor, isExternal } from '../onnx/tensor';

export function parseTensorProtoFile(bytes: Uint8Array, source: string): HostTensor {
  let proto;
  try {
    proto = fromBinary(TensorProtoSchema, bytes);
  } catch (err) {
    throw new Error(`${source}: not a serialized TensorProto (${(err as Error).message})`);
  }
  if (isExternal(proto)) throw new Error(`${source}: tensors with external data are not supported as inputs`);
  const tensor = decodeTensor(proto);
  return { type: tensor.dtype as TensorType, dims: tensor.dims, data: tensor.data as HostTensor['data'] };
}
