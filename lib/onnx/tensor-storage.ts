// Temporarily re-pointing a tensor's storage (inline raw_data or external file range) while a model
// is serialized, then putting every field back exactly as it was, presence included.
import { clearField, create, isFieldSet } from '@bufbuild/protobuf';
import {
  StringStringEntryProtoSchema, TensorProto_DataLocation as DataLocation, TensorProtoSchema, type TensorProto,
} from './gen/onnx_pb';

const F = TensorProtoSchema.field;

interface SavedStorage {
  tensor: TensorProto;
  rawData: Uint8Array | undefined;
  dataLocation: DataLocation | undefined;
  externalData: TensorProto['externalData'];
  floatData: number[];
  int32Data: number[];
  int64Data: bigint[];
  doubleData: number[];
  uint64Data: bigint[];
}

export class StorageSwap {
  private readonly saved: SavedStorage[] = [];

  private save(t: TensorProto): void {
    this.saved.push({
      tensor: t,
      rawData: isFieldSet(t, F.rawData) ? t.rawData : undefined,
      dataLocation: isFieldSet(t, F.dataLocation) ? t.dataLocation : undefined,
      externalData: t.externalData,
      floatData: t.floatData,
      int32Data: t.int32Data,
      int64Data: t.int64Data,
      doubleData: t.doubleData,
      uint64Data: t.uint64Data,
    });
  }

  /** Make the tensor hold `bytes` as raw_data. */
  inline(t: TensorProto, bytes: Uint8Array): void {
    this.save(t);
    clearTyped(t);
    t.externalData = [];
    clearField(t, F.dataLocation);
    t.rawData = bytes;
  }

  /** Make the tensor point at `length` bytes at `offset` of `location`. */
  external(t: TensorProto, location: string, offset: number, length: number): void {
    this.save(t);
    clearTyped(t);
    clearField(t, F.rawData);
    t.externalData = [
      create(StringStringEntryProtoSchema, { key: 'location', value: location }),
      create(StringStringEntryProtoSchema, { key: 'offset', value: String(offset) }),
      create(StringStringEntryProtoSchema, { key: 'length', value: String(length) }),
    ];
    t.dataLocation = DataLocation.EXTERNAL;
  }

  /** Put every swapped tensor back as it was. */
  restore(): void {
    for (const s of this.saved.reverse()) {
      const t = s.tensor;
      if (s.rawData !== undefined) t.rawData = s.rawData;
      else clearField(t, F.rawData);
      if (s.dataLocation !== undefined) t.dataLocation = s.dataLocation;
      else clearField(t, F.dataLocation);
      t.externalData = s.externalData;
      t.floatData = s.floatData;
      t.int32Data = s.int32Data;
      t.int64Data = s.int64Data;
      t.doubleData = s.doubleData;
      t.uint64Data = s.uint64Data;
    }
    this.saved.length = 0;
  }
}

function clearTyped(t: TensorProto): void {
  t.floatData = [];
  t.int32Data = [];
  t.int64Data = [];
  t.doubleData = [];
  t.uint64Data = [];
}
