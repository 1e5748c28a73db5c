// Host tensors <-> onnxruntime tensors. onnxruntime-node reads an input tensor's buffer in place.
import * as ort from 'onnxruntime-node';
import type { HostTensor, TensorType } from '../engine/tensor';

export function hostToOrt(t: HostTensor): ort.Tensor {
  return new ort.Tensor(t.type as ort.Tensor.Type, t.data as ort.Tensor.DataType, t.dims);
}

export function ortToHost(t: ort.Tensor): HostTensor {
  return { type: t.type as TensorType, dims: [...t.dims], data: t.data as HostTensor['data'] };
}
