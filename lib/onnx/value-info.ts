// ValueInfoProto <-> a plain { name, dtype, dims } description.
import { create } from '@bufbuild/protobuf';
import {
  TensorShapeProto_DimensionSchema, TensorShapeProtoSchema, TypeProto_TensorSchema, TypeProtoSchema, ValueInfoProtoSchema,
  type TensorShapeProto, type TypeProto, type ValueInfoProto,
} from './gen/onnx_pb';
import { dtypeInfo, isKnownDataType, type DTypeName } from './dtype';

/** A dimension: a size, a symbolic name ("batch"), or -1 when unknown and unnamed. */
export type Dim = number | string;

export type ValueKind = 'tensor' | 'sparse_tensor' | 'sequence' | 'map' | 'optional' | 'opaque' | 'unknown';

export interface ValueInfo {
  name: string;
  kind: ValueKind;
  /** Element type of tensor and sparse tensor values; undefined when not stated or not a tensor. */
  dtype: DTypeName | undefined;
  /** Shape when stated; undefined means "rank unknown". */
  dims: Dim[] | undefined;
  proto: ValueInfoProto;
}

function shapeDims(shape: TensorShapeProto | undefined): Dim[] | undefined {
  if (!shape) return undefined;
  return shape.dim.map((d) => {
    if (d.value.case === 'dimValue') return Number(d.value.value);
    if (d.value.case === 'dimParam') return d.value.value;
    return -1;
  });
}

function kindOf(type: TypeProto | undefined): ValueKind {
  switch (type?.value.case) {
    case 'tensorType': return 'tensor';
    case 'sparseTensorType': return 'sparse_tensor';
    case 'sequenceType': return 'sequence';
    case 'mapType': return 'map';
    case 'optionalType': return 'optional';
    case 'opaqueType': return 'opaque';
    default: return 'unknown';
  }
}

export function describeValueInfo(proto: ValueInfoProto): ValueInfo {
  const type = proto.type;
  let dtype: DTypeName | undefined;
  let dims: Dim[] | undefined;
  if (type?.value.case === 'tensorType' || type?.value.case === 'sparseTensorType') {
    const elemType = type.value.value.elemType;
    dtype = elemType !== 0 && isKnownDataType(elemType) ? dtypeInfo(elemType).name : undefined;
    dims = shapeDims(type.value.value.shape);
  }
  return { name: proto.name, kind: kindOf(type), dtype, dims, proto };
}

/** A TensorShapeProto from dims; -1 leaves a dimension unknown. */
export function makeShape(dims: readonly Dim[]): TensorShapeProto {
  return create(TensorShapeProtoSchema, {
    dim: dims.map((d) => {
      if (typeof d === 'string') return create(TensorShapeProto_DimensionSchema, { value: { case: 'dimParam', value: d } });
      if (d === -1) return create(TensorShapeProto_DimensionSchema);
      if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`dimension ${d} is not a non-negative safe integer, a name, or -1`);
      return create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(d) } });
    }),
  });
}

/** A tensor TypeProto; omit dims for unknown rank. */
export function makeTensorType(dtype: DTypeName | string | number, dims?: readonly Dim[]): TypeProto {
  const tensor = create(TypeProto_TensorSchema, { elemType: dtypeInfo(dtype).dataType });
  if (dims) tensor.shape = makeShape(dims);
  return create(TypeProtoSchema, { value: { case: 'tensorType', value: tensor } });
}

export function makeValueInfo(name: string, dtype: DTypeName | string | number, dims?: readonly Dim[]): ValueInfoProto {
  return create(ValueInfoProtoSchema, { name, type: makeTensorType(dtype, dims) });
}
