// KServe v2 inference request/response bodies <-> host tensors, with the binary tensor
// data extension (a JSON header of Inference-Header-Content-Length bytes, then raw tensors).
import { elementCount, Feeds, HostTensor } from '../engine/tensor';
import { datatypeOf, isKserveDatatype, tensorTypeOf } from '../runtime/datatypes';
import { InvalidRequestError, RuntimeError } from '../runtime/errors';
import { rawTensorBytes, rawTensorData, type RawSource } from '../runtime/raw-tensor';
import { tensorFromValues, valuesOf } from '../runtime/tensor-values';

const BINARY_DATA: RawSource = { holder: 'binary data', size: 'binary_data_size', truncatedSuffix: '' };

export const HEADER_LENGTH = 'inference-header-content-length';

export class PayloadTooLargeError extends RuntimeError {
  constructor(message: string) {
    super(message, 413);
  }
}

export interface DecodedRequest {
  id?: string;
  feeds: Feeds;
  /** Requested output names; undefined means all. */
  outputs?: string[];
  /** Output names to send as binary. */
  binaryOutputs: Set<string>;
  /** All outputs binary (parameters.binary_data_output). */
  binaryAll: boolean;
  priority?: number;
  timeoutMs?: number;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function flatten(data: unknown[], expected: number, what: string): unknown[] {
  if (data.length === 0 || !Array.isArray(data[0])) return data;
  const flat: unknown[] = [];
  const walk = (value: unknown[], depth: number) => {
    if (depth > 32) throw new InvalidRequestError(`${what}: data is nested too deeply`);
    for (const v of value) {
      if (Array.isArray(v)) walk(v, depth + 1);
      else flat.push(v);
      if (flat.length > expected) throw new InvalidRequestError(`${what}: data has more values than its shape allows (${expected})`);
    }
  };
  walk(data, 0);
  return flat;
}

function optionalNumber(params: Json | undefined, key: string, integer: boolean): number | undefined {
  const value = params?.[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || (key === 'timeout_ms' && value < 0)) {
    throw new InvalidRequestError(`parameters.${key} must be ${integer ? 'an integer' : 'a number'}${key === 'timeout_ms' ? ' >= 0' : ''}`);
  }
  return value;
}

/** Decodes and checks a request body; `binary` is what followed the JSON header, if anything. */
export function decodeInferRequest(body: unknown, binary: Buffer | undefined, maxElements: number): DecodedRequest {
  if (!isObject(body)) throw new InvalidRequestError('the request body must be a JSON object with an "inputs" array');
  const { inputs, outputs, parameters, id } = body;
  if (!Array.isArray(inputs) || inputs.length === 0) throw new InvalidRequestError('"inputs" must be a non-empty array');
  if (id !== undefined && typeof id !== 'string') throw new InvalidRequestError('"id" must be a string');
  if (parameters !== undefined && !isObject(parameters)) throw new InvalidRequestError('"parameters" must be an object');
  const feeds: Feeds = {};
  let total = 0;
  let offset = 0;
  inputs.forEach((input: unknown, index) => {
    if (!isObject(input)) throw new InvalidRequestError(`inputs[${index}] must be an object`);
    const { name, shape, datatype, data } = input;
    if (typeof name !== 'string' || name === '') throw new InvalidRequestError(`inputs[${index}].name must be a non-empty string`);
    const what = `input "${name}"`;
    if (feeds[name]) throw new InvalidRequestError(`${what} is given twice`);
    if (typeof datatype !== 'string' || !isKserveDatatype(datatype)) throw new InvalidRequestError(`${what}: unknown datatype ${JSON.stringify(datatype)}`);
    // A zero dim is refused too: an empty tensor has nothing to infer, and some engines' kernels divide by it.
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
      throw new InvalidRequestError(`${what}: shape must be an array of positive integers, got ${JSON.stringify(shape)}`);
    }
    const count = elementCount(shape as number[]);
    total += count;
    if (!Number.isSafeInteger(count) || total > maxElements) {
      throw new PayloadTooLargeError(`the request holds more than ${maxElements} tensor elements`);
    }
    const type = tensorTypeOf(datatype);
    const params = input.parameters;
    if (params !== undefined && !isObject(params)) throw new InvalidRequestError(`${what}: parameters must be an object`);
    const binarySize = params?.binary_data_size;
    if (binarySize !== undefined) {
      if (!Number.isSafeInteger(binarySize) || (binarySize as number) < 0) throw new InvalidRequestError(`${what}: binary_data_size must be a non-negative integer`);
      if (!binary || offset + (binarySize as number) > binary.length) {
        throw new InvalidRequestError(`${what}: binary_data_size ${binarySize} runs past the end of the binary data`);
      }
      const bytes = binary.subarray(offset, offset + (binarySize as number));
      offset += binarySize as number;
      feeds[name] = { type, dims: shape as number[], data: rawTensorData(type, count, bytes, what, BINARY_DATA) };
      return;
    }
    if (!Array.isArray(data)) throw new InvalidRequestError(`${what}: "data" must be an array (or use the binary extension)`);
    const flat = flatten(data, count, what);
    if (flat.length !== count) throw new InvalidRequestError(`${what} has ${flat.length} values, its shape [${shape.join(', ')}] needs ${count}`);
    feeds[name] = tensorFromValues(type, shape as number[], flat, what);
  });
  if (binary && offset !== binary.length) {
    throw new InvalidRequestError(`the binary data is ${binary.length} bytes, the inputs' binary_data_size add up to ${offset}`);
  }
  let requested: string[] | undefined;
  const binaryOutputs = new Set<string>();
  if (outputs !== undefined) {
    if (!Array.isArray(outputs)) throw new InvalidRequestError('"outputs" must be an array');
    requested = outputs.map((o: unknown, index) => {
      if (!isObject(o) || typeof o.name !== 'string') throw new InvalidRequestError(`outputs[${index}].name must be a string`);
      if (isObject(o.parameters) && o.parameters.binary_data === true) binaryOutputs.add(o.name);
      return o.name;
    });
    if (new Set(requested).size !== requested.length) throw new InvalidRequestError('an output is requested twice');
  }
  return {
    id: id as string | undefined,
    feeds,
    outputs: requested,
    binaryOutputs,
    binaryAll: parameters?.binary_data_output === true,
    priority: optionalNumber(parameters as Json | undefined, 'priority', true),
    timeoutMs: optionalNumber(parameters as Json | undefined, 'timeout_ms', false),
  };
}

export interface EncodedResponse {
  body: Buffer | Json;
  /** Set for a binary response: the JSON header's length. */
  headerLength?: number;
}

/** A response as the pieces written one after another: the JSON (header), then each binary output's own bytes. */
export interface EncodedChunks {
  chunks: Buffer[];
  byteLength: number;
  /** Set for a binary response: the JSON header's length. */
  headerLength?: number;
}

type EncodeRequest = Pick<DecodedRequest, 'id' | 'outputs' | 'binaryOutputs' | 'binaryAll'>;

export function encodeInferResponse(model: string, version: number, request: EncodeRequest, outputs: Record<string, HostTensor>): EncodedResponse {
  const { json, binaryParts } = encodeParts(model, version, request, outputs);
  if (binaryParts.length === 0) return { body: json };
  const header = Buffer.from(JSON.stringify(json), 'utf8');
  return { body: Buffer.concat([header, ...binaryParts]), headerLength: header.length };
}

/** The same response with no concatenation: binary outputs are views of the engine's buffers. */
export function encodeInferResponseChunks(model: string, version: number, request: EncodeRequest, outputs: Record<string, HostTensor>): EncodedChunks {
  const { json, binaryParts } = encodeParts(model, version, request, outputs);
  const header = Buffer.from(JSON.stringify(json), 'utf8');
  const byteLength = binaryParts.reduce((sum, b) => sum + b.length, header.length);
  return { chunks: [header, ...binaryParts], byteLength, headerLength: binaryParts.length ? header.length : undefined };
}

function encodeParts(model: string, version: number, request: EncodeRequest, outputs: Record<string, HostTensor>): { json: Json; binaryParts: Buffer[] } {
  const names = request.outputs ?? Object.keys(outputs);
  const binaryParts: Buffer[] = [];
  const list = names.map((name) => {
    const tensor = outputs[name];
    const entry: Json = { name, datatype: datatypeOf(tensor.type), shape: [...tensor.dims] };
    if (request.binaryAll || request.binaryOutputs.has(name)) {
      const bytes = rawTensorBytes(tensor);
      binaryParts.push(bytes);
      entry.parameters = { binary_data_size: bytes.length };
    } else {
      entry.data = valuesOf(tensor);
    }
    return entry;
  });
  const json: Json = { model_name: model, model_version: String(version), outputs: list };
  if (request.id !== undefined) json.id = request.id;
  return { json, binaryParts };
}
