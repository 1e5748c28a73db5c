// ModelInferRequest decoding and ModelInferResponse encoding, without a server: every malformed
// request is an InvalidRequestError (or a PayloadTooLargeError) naming the input and the rule.
import { InvalidRequestError } from '../../lib/runtime/errors';
import { PayloadTooLargeError } from '../../lib/serve/codec';
import { decodeModelInferRequest, encodeModelInferResponse } from '../../lib/serve/grpc/infer-codec';
import type { InferTensorContents, ModelInferRequest } from '../../lib/serve/grpc/messages';

const noContents = (): InferTensorContents => ({
  bool_contents: [], int_contents: [], int64_contents: [], uint_contents: [], uint64_contents: [], fp32_contents: [], fp64_contents: [], bytes_contents: [],
});

/** A request as proto-loader hands it over: every field present, defaults filled in. */
function request(fields: Partial<ModelInferRequest>): ModelInferRequest {
  return { model_name: 'm', model_version: '', id: '', parameters: {}, inputs: [], outputs: [], raw_input_contents: [], ...fields };
}

const input = (name: string, datatype: string, shape: number[], contents: Partial<InferTensorContents> | null = null) => ({
  name, datatype, shape: shape.map(String), parameters: {}, contents: contents && { ...noContents(), ...contents },
});

function decodeError(fields: Partial<ModelInferRequest>): string {
  try {
    decodeModelInferRequest(request(fields), 1000);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidRequestError);
    return (err as Error).message;
  }
  throw new Error('decoded; an error was expected');
}

test('typed contents of each integer kind become tensors of that kind, with range checks', () => {
  const decoded = decodeModelInferRequest(request({
    inputs: [
      input('a', 'INT8', [2], { int_contents: [-128, 127] }),
      input('b', 'UINT16', [1], { uint_contents: [65535] }),
      input('c', 'INT64', [2], { int64_contents: ['-9223372036854775808', '9007199254740993'] }),
      input('d', 'BOOL', [2], { bool_contents: [true, false] }),
    ],
  }), 1000);
  expect(decoded.feeds.a).toEqual({ type: 'int8', dims: [2], data: Int8Array.from([-128, 127]) });
  expect(decoded.feeds.b.data).toEqual(Uint16Array.from([65535]));
  expect(decoded.feeds.c.data).toEqual(BigInt64Array.from([-9223372036854775808n, 9007199254740993n]));
  expect(decoded.feeds.d.data).toEqual(Uint8Array.from([1, 0]));
  expect(decodeError({ inputs: [input('a', 'INT8', [1], { int_contents: [128] })] })).toBe('input "a": element 0 must be an integer in -128..127, got 128');
});

test('raw contents: one per input, the exact byte size, never mixed with typed contents; FP16 only raw', () => {
  const half = Buffer.from(Uint16Array.from([0x3c00, 0xc000]).buffer);
  const decoded = decodeModelInferRequest(request({ inputs: [input('h', 'FP16', [2])], raw_input_contents: [half] }), 1000);
  expect(decoded.feeds.h).toEqual({ type: 'float16', dims: [2], data: Uint16Array.from([0x3c00, 0xc000]) });
  expect(decodeError({ inputs: [input('h', 'FP16', [2], {})] })).toBe('input "h": FP16 has no typed contents field; send it in raw_input_contents');
  expect(decodeError({ inputs: [input('a', 'FP32', [1]), input('b', 'FP32', [1])], raw_input_contents: [Buffer.alloc(4)] }))
    .toBe('raw_input_contents has 1 entries; it needs one per input (2), in the order of inputs');
  expect(decodeError({ inputs: [input('a', 'FP32', [1], { fp32_contents: [1] })], raw_input_contents: [Buffer.alloc(4)] }))
    .toBe('input "a": contents must be empty when raw_input_contents is used');
  expect(decodeError({ inputs: [input('b', 'BOOL', [1])], raw_input_contents: [Buffer.from([2])] })).toBe('input "b": BOOL bytes must be 0 or 1');
  expect(decodeError({ inputs: [input('a', 'FP32', [1])] })).toBe('input "a" has 0 values, its shape [1] needs 1');
});

test('names, datatypes, shapes, versions and parameters are checked', () => {
  expect(decodeError({ model_name: '' })).toBe('model_name is required');
  expect(decodeError({})).toBe('inputs must not be empty');
  expect(decodeError({ inputs: [input('a', 'FLOAT', [1])] })).toBe('input "a": unknown datatype "FLOAT"');
  expect(decodeError({ inputs: [input('a', 'FP32', [1], { fp32_contents: [1] }), input('a', 'FP32', [1], { fp32_contents: [1] })] })).toBe('input "a" is given twice');
  expect(decodeError({ inputs: [{ ...input('a', 'FP32', []), shape: ['-1'] }] })).toBe('input "a": shape must hold positive integers, got [-1]');
  const one = [input('a', 'FP32', [1], { fp32_contents: [1] })];
  expect(decodeError({ inputs: one, outputs: [{ name: 'y', parameters: {} }, { name: 'y', parameters: {} }] })).toBe('an output is requested twice');
  expect(decodeError({ inputs: one, parameters: { priority: { parameter_choice: 'string_param', string_param: 'high' } } }))
    .toBe('parameters.priority must be a non-negative int64_param or uint64_param');
  expect(decodeError({ inputs: one, parameters: { binary_data_output: { parameter_choice: 'int64_param', int64_param: '1' } } })).toBe('parameters.binary_data_output must be a bool_param');
  expect(() => decodeModelInferRequest(request({ inputs: one, model_version: 'v2' }), 1000)).toThrow('model "m" has no version "v2"');
  const decoded = decodeModelInferRequest(request({
    inputs: one, model_version: '3',
    parameters: { priority: { parameter_choice: 'uint64_param', uint64_param: '2' }, timeout: { parameter_choice: 'int64_param', int64_param: '1500' } },
  }), 1000);
  expect(decoded).toMatchObject({ version: 3, priority: 2, timeoutMs: 1.5, rawOutputs: true });
});

test('Triton parameters that would change the answer (sequences, shared memory, classification) are refused, not ignored', () => {
  const one = [input('a', 'FP32', [1], { fp32_contents: [1] })];
  expect(decodeError({ inputs: one, parameters: { sequence_id: { parameter_choice: 'int64_param', int64_param: '7' } } }))
    .toBe('sequence batching (parameters.sequence_id) is not supported');
  expect(decodeError({ inputs: [{ ...input('a', 'FP32', [1]), parameters: { shared_memory_region: { parameter_choice: 'string_param', string_param: 'r' } } }] }))
    .toBe('input "a": shared memory tensors are not supported; send the tensor in raw_input_contents or contents');
  expect(decodeError({ inputs: one, outputs: [{ name: 'y', parameters: { classification: { parameter_choice: 'int64_param', int64_param: '3' } } }] }))
    .toBe('output "y": classification outputs (class_count) are not supported; request the output itself');
});

test('more elements than the limit is PayloadTooLarge, before any values are read', () => {
  expect(() => decodeModelInferRequest(request({ inputs: [input('a', 'FP32', [10, 101])] }), 1000)).toThrow(PayloadTooLargeError);
  expect(() => decodeModelInferRequest(request({ inputs: [input('a', 'FP32', [2 ** 40, 2 ** 40])] }), 1000)).toThrow('the request holds more than 1000 tensor elements');
});

test('outputs: raw by default in the requested order; typed on request, except FP16', () => {
  const outputs = {
    y: { type: 'float32' as const, dims: [2], data: Float32Array.from([1.5, -2]) },
    n: { type: 'int64' as const, dims: [1], data: BigInt64Array.from([2n ** 60n]) },
    h: { type: 'float16' as const, dims: [1], data: Uint16Array.from([0x3c00]) },
  };
  const base = { model: 'm', id: 'x', feeds: {}, rawOutputs: true };
  const raw = encodeModelInferResponse({ ...base, outputs: ['n', 'y'] }, 4, outputs);
  expect(raw.outputs).toEqual([{ name: 'n', datatype: 'INT64', shape: [1] }, { name: 'y', datatype: 'FP32', shape: [2] }]);
  expect(raw.raw_output_contents).toEqual([Buffer.from(outputs.n.data.buffer), Buffer.from(outputs.y.data.buffer)]);
  expect(raw).toMatchObject({ model_name: 'm', model_version: '4', id: 'x' });
  const typed = encodeModelInferResponse({ ...base, outputs: ['n', 'y'], rawOutputs: false }, 4, outputs);
  expect(typed.raw_output_contents).toEqual([]);
  expect(typed.outputs.map((o) => o.contents)).toEqual([{ int64_contents: ['1152921504606846976'] }, { fp32_contents: [1.5, -2] }]);
  expect(() => encodeModelInferResponse({ ...base, rawOutputs: false }, 4, outputs)).toThrow('output "h" is FP16, which has no typed contents field; leave binary_data_output on');
});
