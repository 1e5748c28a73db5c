// ModelInferRequest -> feeds and options, outputs -> ModelInferResponse. Inputs come as typed
// `contents` or as `raw_input_contents`; outputs go back raw by default, as Triton sends them.
import { elementCount, Feeds, HostTensor } from '../../engine/tensor';
import { datatypeOf, isKserveDatatype, KserveDatatype, tensorTypeOf } from '../../runtime/datatypes';
import { InvalidRequestError, ModelNotFoundError } from '../../runtime/errors';
import { rawTensorBytes, rawTensorData, type RawSource } from '../../runtime/raw-tensor';
import { tensorFromValues } from '../../runtime/tensor-values';

const RAW_CONTENTS: RawSource = { holder: 'raw_input_contents', size: 'raw_input_contents', truncatedSuffix: ' in raw_input_contents' };
import { PayloadTooLargeError } from '../codec';
import type { InferParameter, InferTensorContents, InferInputTensor, InferOutputTensor, ModelInferRequest, ModelInferResponse, Parameters } from './messages';

export interface DecodedInferRequest {
  model: string;
  /** Undefined: the latest version served. */
  version?: number;
  id: string;
  feeds: Feeds;
  /** Requested output names; undefined means all. */
  outputs?: string[];
  /** Outputs as raw_output_contents (default) or as typed contents (parameter binary_data_output=false). */
  rawOutputs: boolean;
  priority?: number;
  timeoutMs?: number;
}

/** The typed field of each datatype; FP16 and BF16 have none and travel raw only. */
const CONTENTS_FIELD: Record<KserveDatatype, keyof InferTensorContents | undefined> = {
  BOOL: 'bool_contents', INT8: 'int_contents', INT16: 'int_contents', INT32: 'int_contents', INT64: 'int64_contents',
  UINT8: 'uint_contents', UINT16: 'uint_contents', UINT32: 'uint_contents', UINT64: 'uint64_contents',
  FP32: 'fp32_contents', FP64: 'fp64_contents', BYTES: 'bytes_contents', FP16: undefined, BF16: undefined,
};

/** "" -> the latest version; anything but a plain positive number names no version. */
export function parseModelVersion(version: string, model: string): number | undefined {
  if (version === '') return undefined;
  if (!/^[1-9][0-9]{0,9}$/.test(version)) throw new ModelNotFoundError(`model "${model}" has no version "${version}"`);
  return Number(version);
}

function parseShape(shape: readonly string[], what: string): number[] {
  const dims = shape.map(Number);
  // A zero dim is refused too, as over HTTP: an empty tensor has nothing to infer.
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 1)) throw new InvalidRequestError(`${what}: shape must hold positive integers, got [${shape.join(', ')}]`);
  return dims;
}

function fromContents(datatype: KserveDatatype, dims: number[], contents: InferTensorContents | null, what: string): HostTensor {
  const field = CONTENTS_FIELD[datatype];
  if (!field) throw new InvalidRequestError(`${what}: ${datatype} has no typed contents field; send it in raw_input_contents`);
  const filled = contents ? (Object.keys(contents) as (keyof InferTensorContents)[]).filter((key) => contents[key]?.length) : [];
  const stray = filled.find((key) => key !== field);
  if (stray) throw new InvalidRequestError(`${what}: a ${datatype} input's values go in contents.${field}, not contents.${stray}`);
  const values: unknown[] = contents?.[field] ?? [];
  const count = elementCount(dims);
  if (values.length !== count) throw new InvalidRequestError(`${what} has ${values.length} values, its shape [${dims.join(', ')}] needs ${count}`);
  const plain = field === 'bytes_contents' ? (values as Buffer[]).map((b) => b.toString('utf8')) : values;
  return tensorFromValues(tensorTypeOf(datatype), dims, plain, what);
}

function parameterNumber(params: Parameters, key: string): number | undefined {
  const p: InferParameter | undefined = params[key];
  if (!p) return undefined;
  const raw = p.parameter_choice === 'int64_param' ? p.int64_param : p.parameter_choice === 'uint64_param' ? p.uint64_param : undefined;
  const value = raw === undefined ? NaN : Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidRequestError(`parameters.${key} must be a non-negative int64_param or uint64_param`);
  return value;
}

function parameterBool(params: Parameters, key: string): boolean | undefined {
  const p = params[key];
  if (!p) return undefined;
  if (p.parameter_choice !== 'bool_param') throw new InvalidRequestError(`parameters.${key} must be a bool_param`);
  return p.bool_param === true;
}

/** Triton parameters that change what a request means; ignoring them would answer a different question. */
const UNSUPPORTED: Record<string, string> = {
  sequence_id: 'sequence batching (parameters.sequence_id) is not supported',
  shared_memory_region: 'shared memory tensors are not supported; send the tensor in raw_input_contents or contents',
  classification: 'classification outputs (class_count) are not supported; request the output itself',
};

function refuseUnsupported(params: Parameters, what: string): void {
  const key = Object.keys(params).find((k) => Object.prototype.hasOwnProperty.call(UNSUPPORTED, k));
  if (key) throw new InvalidRequestError(`${what}${UNSUPPORTED[key]}`);
}

/** Checks and decodes a request; `maxElements` caps the tensor elements of all inputs together. */
export function decodeModelInferRequest(request: ModelInferRequest, maxElements: number): DecodedInferRequest {
  const model = request.model_name;
  if (!model) throw new InvalidRequestError('model_name is required');
  const version = parseModelVersion(request.model_version, model);
  const { inputs, raw_input_contents: raw } = request;
  refuseUnsupported(request.parameters ?? {}, '');
  if (inputs.length === 0) throw new InvalidRequestError('inputs must not be empty');
  if (raw.length > 0 && raw.length !== inputs.length) {
    throw new InvalidRequestError(`raw_input_contents has ${raw.length} entries; it needs one per input (${inputs.length}), in the order of inputs`);
  }
  const feeds: Feeds = {};
  let total = 0;
  inputs.forEach((input: InferInputTensor, index) => {
    if (!input.name) throw new InvalidRequestError(`inputs[${index}].name is required`);
    const what = `input "${input.name}"`;
    if (Object.prototype.hasOwnProperty.call(feeds, input.name)) throw new InvalidRequestError(`${what} is given twice`);
    refuseUnsupported(input.parameters ?? {}, `${what}: `);
    if (!isKserveDatatype(input.datatype)) throw new InvalidRequestError(`${what}: unknown datatype ${JSON.stringify(input.datatype)}`);
    const dims = parseShape(input.shape, what);
    const count = elementCount(dims);
    total += count;
    if (!Number.isSafeInteger(count) || total > maxElements) throw new PayloadTooLargeError(`the request holds more than ${maxElements} tensor elements`);
    if (raw.length > 0) {
      if (input.contents && Object.values(input.contents).some((v) => (v as unknown[]).length > 0)) {
        throw new InvalidRequestError(`${what}: contents must be empty when raw_input_contents is used`);
      }
      const type = tensorTypeOf(input.datatype);
      feeds[input.name] = { type, dims, data: rawTensorData(type, count, raw[index], what, RAW_CONTENTS) };
    } else {
      feeds[input.name] = fromContents(input.datatype, dims, input.contents, what);
    }
  });
  let outputs: string[] | undefined;
  if (request.outputs.length > 0) {
    outputs = request.outputs.map((o, index) => {
      if (!o.name) throw new InvalidRequestError(`outputs[${index}].name is required`);
      refuseUnsupported(o.parameters ?? {}, `output "${o.name}": `);
      return o.name;
    });
    if (new Set(outputs).size !== outputs.length) throw new InvalidRequestError('an output is requested twice');
  }
  const params = request.parameters ?? {};
  const timeoutUs = parameterNumber(params, 'timeout');
  return {
    model,
    version,
    id: request.id,
    feeds,
    outputs,
    rawOutputs: parameterBool(params, 'binary_data_output') ?? true,
    priority: parameterNumber(params, 'priority'),
    // Triton's request parameter "timeout" is in microseconds.
    timeoutMs: timeoutUs === undefined ? undefined : timeoutUs / 1000,
  };
}

function typedContents(tensor: HostTensor, name: string): InferOutputTensor['contents'] {
  const datatype = datatypeOf(tensor.type) as KserveDatatype;
  const field = CONTENTS_FIELD[datatype];
  if (!field) throw new InvalidRequestError(`output "${name}" is ${datatype}, which has no typed contents field; leave binary_data_output on`);
  const { data } = tensor;
  let values: unknown[];
  if (Array.isArray(data)) values = data.map((s) => Buffer.from(s, 'utf8'));
  else if (data instanceof BigInt64Array || data instanceof BigUint64Array) values = Array.from(data, String);
  else if (tensor.type === 'bool') values = Array.from(data as Uint8Array, (v) => v !== 0);
  else values = Array.from(data as ArrayLike<number>);
  return { [field]: values };
}

export function encodeModelInferResponse(request: DecodedInferRequest, version: number, outputs: Record<string, HostTensor>): ModelInferResponse {
  const names = request.outputs ?? Object.keys(outputs);
  const response: ModelInferResponse = { model_name: request.model, model_version: String(version), id: request.id, outputs: [], raw_output_contents: [] };
  for (const name of names) {
    const tensor = outputs[name];
    const entry: InferOutputTensor = { name, datatype: datatypeOf(tensor.type), shape: [...tensor.dims] };
    if (request.rawOutputs) response.raw_output_contents.push(rawTensorBytes(tensor));
    else entry.contents = typedContents(tensor, name);
    response.outputs.push(entry);
  }
  return response;
}
