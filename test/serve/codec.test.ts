// KServe v2 request/response bodies <-> tensors, JSON and binary, for every datatype family.
import { decodeInferRequest, encodeInferResponse, PayloadTooLargeError } from '../../lib/serve/codec';
import { InvalidRequestError } from '../../lib/runtime/errors';
import { float32ToFloat16 } from '../../lib/onnx/float16';

const decode = (body: unknown, binary?: Buffer) => decodeInferRequest(body, binary, 1000);
const one = (input: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ inputs: [{ name: 'x', ...input }], ...extra });

describe('decodeInferRequest', () => {
  test('JSON data of each datatype becomes the matching typed array', () => {
    const cases: [string, unknown[], string, unknown[]][] = [
      ['FP32', [1.5, -2], 'Float32Array', [1.5, -2]],
      ['FP64', [1.5, -2], 'Float64Array', [1.5, -2]],
      ['INT8', [-128, 127], 'Int8Array', [-128, 127]],
      ['UINT8', [0, 255], 'Uint8Array', [0, 255]],
      ['INT32', [-5, 7], 'Int32Array', [-5, 7]],
      ['INT64', [-5, '9007199254740993'], 'BigInt64Array', [-5n, 9007199254740993n]],
      ['UINT64', [5, 6], 'BigUint64Array', [5n, 6n]],
      ['BOOL', [true, false], 'Uint8Array', [1, 0]],
      ['BYTES', ['a', 'b'], 'Array', ['a', 'b']],
      ['FP16', [1, 0.5], 'Uint16Array', Array.from(float32ToFloat16([1, 0.5]))],
    ];
    for (const [datatype, data, kind, values] of cases) {
      const { feeds } = decode(one({ datatype, shape: [2], data }));
      expect(feeds.x.data.constructor.name).toBe(kind);
      expect(Array.from(feeds.x.data as ArrayLike<unknown>)).toEqual(values);
    }
  });

  test('binary data is read in input order; BYTES elements carry a length prefix', () => {
    const floats = new Float32Array([1, 2, 3]);
    const strings = Buffer.concat([Buffer.from([2, 0, 0, 0]), Buffer.from('hi'), Buffer.from([0, 0, 0, 0])]);
    const binary = Buffer.concat([Buffer.from(floats.buffer), strings]);
    const { feeds } = decode(
      {
        inputs: [
          { name: 'f', datatype: 'FP32', shape: [3], parameters: { binary_data_size: 12 } },
          { name: 's', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: strings.length } },
        ],
      },
      binary.subarray(0),
    );
    expect(Array.from(feeds.f.data as Float32Array)).toEqual([1, 2, 3]);
    expect(feeds.s.data).toEqual(['hi', '']);
  });

  test('binary data at an odd offset is copied into an aligned buffer', () => {
    const padded = Buffer.alloc(13);
    Buffer.from(new Float32Array([4, 5, 6]).buffer).copy(padded, 1);
    const { feeds } = decode(one({ datatype: 'FP32', shape: [3], parameters: { binary_data_size: 12 } }), padded.subarray(1));
    expect(Array.from(feeds.x.data as Float32Array)).toEqual([4, 5, 6]);
  });

  test.each([
    [one({ datatype: 'INT8', shape: [1], data: [200] }), /element 0 must be an integer in -128..127/],
    [one({ datatype: 'INT32', shape: [1], data: [1.5] }), /element 0 must be an integer/],
    [one({ datatype: 'BOOL', shape: [1], data: ['yes'] }), /element 0 must be true or false/],
    [one({ datatype: 'BYTES', shape: [1], data: [3] }), /element 0 must be a string/],
    [one({ datatype: 'FP32', shape: [-1], data: [] }), /shape must be an array of positive integers/],
    [one({ datatype: 'INT64', shape: [1, 0], data: [] }), /shape must be an array of positive integers, got \[1,0\]/],
    [one({ datatype: 'FP32', shape: [2], data: [[1, 2], [3]] }), /more values than its shape allows/],
    [one({ datatype: 'FP32', shape: [2] }), /"data" must be an array/],
    [{ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }, { name: 'x', datatype: 'FP32', shape: [1], data: [1] }] }, /given twice/],
    [one({ datatype: 'FP32', shape: [1], data: [1] }, { outputs: [{ name: 'y' }, { name: 'y' }] }), /requested twice/],
    [one({ datatype: 'FP32', shape: [1], data: [1] }, { parameters: { timeout_ms: -1 } }), /timeout_ms must be a number >= 0/],
    [[1, 2], /must be a JSON object/],
  ])('rejects %j', (body, message) => {
    expect(() => decode(body)).toThrow(InvalidRequestError);
    expect(() => decode(body)).toThrow(message);
  });

  test('too many elements is a 413 before anything is allocated', () => {
    const err = (() => {
      try {
        decode(one({ datatype: 'FP32', shape: [1e9, 1e9], data: [] }));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect((err as PayloadTooLargeError).status).toBe(413);
  });

  test('reads priority, timeout, requested and binary outputs', () => {
    const request = decode(one({ datatype: 'FP32', shape: [1], data: [1] }, {
      id: 'r1',
      parameters: { priority: 2, timeout_ms: 50 },
      outputs: [{ name: 'a' }, { name: 'b', parameters: { binary_data: true } }],
    }));
    expect(request).toMatchObject({ id: 'r1', priority: 2, timeoutMs: 50, outputs: ['a', 'b'], binaryAll: false });
    expect([...request.binaryOutputs]).toEqual(['b']);
  });
});

describe('encodeInferResponse', () => {
  const outputs = {
    y: { type: 'float32' as const, dims: [2], data: new Float32Array([0.5, 1]) },
    n: { type: 'int64' as const, dims: [1], data: new BigInt64Array([7n]) },
    b: { type: 'bool' as const, dims: [2], data: new Uint8Array([1, 0]) },
  };

  test('JSON outputs', () => {
    const encoded = encodeInferResponse('m', 3, { id: 'r', outputs: undefined, binaryOutputs: new Set(), binaryAll: false }, outputs);
    expect(encoded.headerLength).toBeUndefined();
    expect(encoded.body).toEqual({
      id: 'r',
      model_name: 'm',
      model_version: '3',
      outputs: [
        { name: 'y', datatype: 'FP32', shape: [2], data: [0.5, 1] },
        { name: 'n', datatype: 'INT64', shape: [1], data: [7] },
        { name: 'b', datatype: 'BOOL', shape: [2], data: [true, false] },
      ],
    });
  });

  test('binary outputs follow the JSON header in order', () => {
    const encoded = encodeInferResponse('m', 1, { outputs: ['y', 'n'], binaryOutputs: new Set(['n']), binaryAll: false }, outputs);
    const body = encoded.body as Buffer;
    const header = JSON.parse(body.subarray(0, encoded.headerLength).toString());
    expect(header.outputs).toEqual([
      { name: 'y', datatype: 'FP32', shape: [2], data: [0.5, 1] },
      { name: 'n', datatype: 'INT64', shape: [1], parameters: { binary_data_size: 8 } },
    ]);
    expect(body.readBigInt64LE(encoded.headerLength!)).toBe(7n);
  });
});
