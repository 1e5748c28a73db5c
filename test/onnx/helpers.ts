// Shared by the lib/onnx tests: temp folders and running models in onnxruntime-node.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { serializeModel, type Model } from '../../lib/onnx';

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnxforge-onnx-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export type Feeds = Record<string, ort.Tensor>;

/** Run a model (in memory, or a saved file path so ORT resolves external data itself). */
export async function runOrt(model: Model | string, feeds: Feeds): Promise<Record<string, ort.Tensor>> {
  const session = typeof model === 'string'
    ? await ort.InferenceSession.create(model)
    : await ort.InferenceSession.create(serializeModel(model));
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

export function floatInput(dims: number[], seed = 1): ort.Tensor {
  const count = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  let s = seed;
  for (let i = 0; i < count; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    data[i] = (s / 2147483648) * 2 - 1;
  }
  return new ort.Tensor('float32', data, dims);
}

/** File contents as a plain Uint8Array view (toEqual tells a Buffer from a Uint8Array). */
export function readBytes(file: string): Uint8Array {
  const buf = fs.readFileSync(file);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Fast exact comparison of byte arrays or typed arrays (jest's toEqual walks big arrays slowly). */
export function expectSameData(actual: ArrayBufferView | readonly unknown[], expected: ArrayBufferView | readonly unknown[]): void {
  if (Array.isArray(actual) || Array.isArray(expected)) {
    expect(actual).toEqual(expected);
    return;
  }
  const a = actual as ArrayBufferView;
  const b = expected as ArrayBufferView;
  const kind = (x: ArrayBufferView): string => Object.prototype.toString.call(x);
  expect(kind(a)).toBe(kind(b));
  const bytesA = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const bytesB = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (bytesA.equals(bytesB)) return;
  let at = 0;
  while (at < Math.min(bytesA.length, bytesB.length) && bytesA[at] === bytesB[at]) at++;
  throw new Error(`data differ: ${bytesA.length} vs ${bytesB.length} bytes, first difference at byte ${at}`);
}
