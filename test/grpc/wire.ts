// Protobuf wire format by hand (varints and length-delimited fields), and gRPC's 5-byte message
// framing: for tests that must not trust any protobuf library, the server's included.

export function varint(value: number | bigint): Buffer {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;  // negative int64/int32: ten bytes, two's complement
  const bytes: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    bytes.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return Buffer.from(bytes);
}

/** A length-delimited field (wire type 2): strings, bytes, nested messages, packed repeated scalars. */
export function field(number: number, payload: Buffer | string): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([varint((number << 3) | 2), varint(bytes.length), bytes]);
}

export function packedVarints(number: number, values: readonly number[]): Buffer {
  return field(number, Buffer.concat(values.map(varint)));
}

/** gRPC length-prefixed message: compressed flag 0, 4-byte big-endian length, the message. */
export function grpcFrame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

export type WireValue = bigint | Buffer;

/** Every field of one message, in order: varints as bigints, length-delimited fields as bytes. */
export function readFields(message: Buffer): [number, WireValue][] {
  const fields: [number, WireValue][] = [];
  let offset = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = message[offset++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
    }
  };
  while (offset < message.length) {
    const key = Number(readVarint());
    const [number, type] = [key >> 3, key & 7];
    if (type === 0) fields.push([number, readVarint()]);
    else if (type === 2) {
      const length = Number(readVarint());
      fields.push([number, message.subarray(offset, offset + length)]);
      offset += length;
    } else if (type === 1 || type === 5) offset += type === 1 ? 8 : 4;
    else throw new Error(`wire type ${type} not expected`);
  }
  return fields;
}

/** The varints of a packed repeated field. */
export function readPacked(bytes: Buffer): bigint[] {
  const values: bigint[] = [];
  let value = 0n;
  let shift = 0n;
  for (const byte of bytes) {
    value |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
    if (byte < 0x80) {
      values.push(value);
      value = 0n;
      shift = 0n;
    }
  }
  return values;
}
