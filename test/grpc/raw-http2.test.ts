// A ModelInfer call written frame by frame with node's http2, laid out the way tritonclient's gRPC
// client (grpc-python over C-core) writes it: the headers it sends, one 5-byte length-prefixed
// protobuf message with the fields in field-number order, shape as packed varints, the tensor in
// raw_input_contents. The protobuf bytes are built by hand and the answer is decoded by hand, so a
// mistake in the .proto (a field number, a type) fails here even though grpc-js agrees with itself.
import * as http2 from 'http2';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { status } from '@grpc/grpc-js';
import { rowsInput, smallMlp, writeRepository } from '../runtime/fixtures';
import { removeDir } from '../helpers/temp';
import { startServe, ServeProcess } from './serve-process';
import { field, grpcFrame, packedVarints, readFields, readPacked, WireValue } from './wire';

const MAX_MESSAGE = 4096;
let repo: string;
let serve: ServeProcess;

beforeAll(async () => {
  repo = writeRepository({ mlp: { config: { max_batch_size: 8 }, versions: { 1: smallMlp(11) } } });
  serve = await startServe(repo, ['--grpc-max-message-bytes', String(MAX_MESSAGE)]);
});

afterAll(async () => {
  if (serve) expect(await serve.stop()).toBe(0);
  removeDir(repo);
});

interface Answer {
  headers: http2.IncomingHttpHeaders;
  /** The response body: gRPC-framed messages. */
  body: Buffer;
  /** grpc-status and grpc-message, from the trailers (or from the headers of a trailers-only answer). */
  grpcStatus: number;
  grpcMessage: string;
}

/** POSTs `body` (already gRPC-framed) to a method, with the headers grpc-python sends. */
function call(method: string, body: Buffer): Promise<Answer> {
  const session = http2.connect(`http://${serve.grpc}`);
  return new Promise((resolve, reject) => {
    session.once('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': `/inference.GRPCInferenceService/${method}`,
      ':scheme': 'http',
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'grpc-python/1.62.1 grpc-c/39.0.0 (linux; chttp2)',
      'grpc-accept-encoding': 'identity,deflate,gzip',
    });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (headers = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('error', reject);
    stream.once('close', () => {
      session.close();
      const source = trailers['grpc-status'] !== undefined ? trailers : headers;
      resolve({ headers, body: Buffer.concat(chunks), grpcStatus: Number(source['grpc-status']), grpcMessage: decodeURIComponent(String(source['grpc-message'] ?? '')) });
    });
    stream.end(body);
  });
}

/** ModelInferRequest for model "mlp" version 1, id "wire-1", input [rows, 8] FP32 raw, output "output" requested. */
function inferRequest(values: Float32Array, rows: number): Buffer {
  const input = Buffer.concat([field(1, 'input'), field(2, 'FP32'), packedVarints(3, [rows, 8])]);
  const requested = field(1, 'output');
  return Buffer.concat([
    field(1, 'mlp'),                                    // model_name
    field(2, '1'),                                      // model_version
    field(3, 'wire-1'),                                 // id
    field(5, input),                                    // inputs[0]
    field(6, requested),                                // outputs[0]
    field(7, Buffer.from(values.buffer)),               // raw_input_contents[0]
  ]);
}

const text = (value: WireValue | undefined) => (value as Buffer).toString('utf8');

test('a ModelInfer request in tritonclient\'s layout gets grpc-status 0 and onnxruntime-node\'s output in raw_output_contents', async () => {
  const values = rowsInput(2, 8, 5);
  const answer = await call('ModelInfer', grpcFrame(inferRequest(values, 2)));
  expect(answer.headers[':status']).toBe(200);
  expect(String(answer.headers['content-type'])).toMatch(/^application\/grpc/);
  expect(answer.grpcStatus).toBe(status.OK);

  // One uncompressed message, its length in the prefix.
  expect(answer.body[0]).toBe(0);
  expect(answer.body.readUInt32BE(1)).toBe(answer.body.length - 5);
  const fields = readFields(answer.body.subarray(5));
  const byNumber = (n: number) => fields.filter(([number]) => number === n).map(([, v]) => v);
  expect(text(byNumber(1)[0])).toBe('mlp');
  expect(text(byNumber(2)[0])).toBe('1');
  expect(text(byNumber(3)[0])).toBe('wire-1');
  expect(byNumber(5)).toHaveLength(1);
  const output = readFields(byNumber(5)[0] as Buffer);
  expect(text(output.find(([n]) => n === 1)?.[1])).toBe('output');
  expect(text(output.find(([n]) => n === 2)?.[1])).toBe('FP32');
  expect(readPacked(output.find(([n]) => n === 3)?.[1] as Buffer)).toEqual([2n, 4n]);

  const [raw] = byNumber(6) as Buffer[];
  const got = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  const session = await ort.InferenceSession.create(path.join(repo, 'mlp', '1', 'model.onnx'));
  const expected = (await session.run({ input: new ort.Tensor('float32', values, [2, 8]) })).output.data as Float32Array;
  await session.release();
  expect(got).toHaveLength(8);
  got.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
});

test('bytes that are no protobuf message get INVALID_ARGUMENT, a message past the size limit RESOURCE_EXHAUSTED; the next call is answered', async () => {
  // An unknown field (15) of wire type 7, which does not exist: the message cannot be decoded.
  const garbage = await call('ModelInfer', grpcFrame(Buffer.from([0x7f, 0x01])));
  expect({ status: garbage.grpcStatus, message: garbage.grpcMessage })
    .toEqual({ status: status.INVALID_ARGUMENT, message: 'the request is not a ModelInferRequest message: invalid wire type 7 at offset 1' });
  // model_name announced as 5 bytes, 2 sent: the decoder keeps what came, and the request has no inputs.
  const truncated = await call('ModelInfer', grpcFrame(Buffer.from([0x0a, 0x05, 0x6d, 0x6c])));
  expect({ status: truncated.grpcStatus, message: truncated.grpcMessage }).toEqual({ status: status.INVALID_ARGUMENT, message: 'inputs must not be empty' });
  const tooBig = await call('ModelInfer', grpcFrame(inferRequest(new Float32Array(MAX_MESSAGE / 4), MAX_MESSAGE / 32)));
  expect(tooBig.grpcStatus).toBe(status.RESOURCE_EXHAUSTED);
  const fine = await call('ModelInfer', grpcFrame(inferRequest(rowsInput(1, 8), 1)));
  expect(fine.grpcStatus).toBe(status.OK);
});

test('a well-formed message the model cannot take is INVALID_ARGUMENT, with the reason in grpc-message', async () => {
  const wrongShape = Buffer.concat([
    field(1, 'mlp'),
    field(5, Buffer.concat([field(1, 'input'), field(2, 'FP32'), packedVarints(3, [1, 7])])),
    field(7, Buffer.alloc(28)),
  ]);
  const answer = await call('ModelInfer', grpcFrame(wrongShape));
  expect({ status: answer.grpcStatus, message: answer.grpcMessage }).toEqual({ status: status.INVALID_ARGUMENT, message: 'input "input" must have shape [-1, 8], got [1, 7]' });
});
