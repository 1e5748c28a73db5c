// Hostile calls into the native addon, generated deterministically: each kernel call with one argument
// (or one option) replaced by something hostile: Proxies, getters that throw or spoil a buffer,
// detached and shrunk resizable buffers, wrong typed-array kinds, NaN/Inf/huge/fractional sizes.
import { kernels } from '../../lib/kernels';

export interface AddonCase {
  id: string;
  run: () => unknown;
}

const K = 32, N = 16, M = 4;

function resizable(bytes: number): ArrayBuffer & { resize(n: number): void } {
  return new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void })(bytes, { maxByteLength: bytes });
}

type ArrayKind = 'float32' | 'int8' | 'uint8';
const CTOR = { float32: Float32Array, int8: Int8Array, uint8: Uint8Array };

/** Hostile stand-ins for a typed array of `kind` and `length`. */
function hostileArrays(kind: ArrayKind, length: number): Record<string, () => unknown> {
  const Ctor = CTOR[kind];
  const bytes = length * Ctor.BYTES_PER_ELEMENT;
  return {
    'a Proxy over the array': () => new Proxy(new Ctor(length), {}),
    'a detached array': () => {
      const a = new Ctor(length);
      structuredClone(a.buffer, { transfer: [a.buffer] });
      return a;
    },
    'a resizable buffer shrunk to 0': () => {
      const buffer = resizable(bytes);
      const a = new Ctor(buffer);
      buffer.resize(0);
      return a;
    },
    'a length-tracking view of a resizable buffer': () => new Ctor(resizable(bytes)),
    'the wrong kind': () => (kind === 'float32' ? new Int32Array(length) : new Float64Array(length)),
    'one element short': () => new Ctor(Math.max(0, length - 1)),
    'an empty array': () => new Ctor(0),
    'a plain array': () => Array.from({ length }, () => 1),
    'a DataView': () => new DataView(new ArrayBuffer(bytes)),
    'a SharedArrayBuffer view': () => Reflect.construct(Ctor, [new SharedArrayBuffer(bytes)]),
    'an unaligned view': () => (Ctor.BYTES_PER_ELEMENT > 1 ? new Uint8Array(bytes + 1).subarray(1) : new Uint8Array(new ArrayBuffer(bytes + 1), 1)),
    null: () => null,
    'a string': () => 'tensor',
    'an object whose length getter throws': () => ({ get length(): number { throw new Error('hostile getter'); } }),
  };
}

const HOSTILE_NUMBERS: Record<string, unknown> = {
  NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY, '-1': -1, '-0': -0, '1.5': 1.5,
  '2^31': 2 ** 31, '2^53': 2 ** 53, '1e300': 1e300, 'the string "8"': '8', 'a BigInt': 8n,
  'an object whose valueOf throws': { valueOf(): number { throw new Error('hostile valueOf'); } }, undefined,
};

/** Hostile stand-ins for an options object, given the valid one. */
function hostileOptions(valid: Record<string, unknown>): Record<string, () => unknown> {
  const out: Record<string, () => unknown> = {
    'a Proxy whose get throws': () => new Proxy({}, { get() { throw new Error('hostile proxy'); }, has() { throw new Error('hostile proxy'); } }),
    'a Proxy over the valid options': () => new Proxy({ ...valid }, {}),
    'a number': () => 42,
    'an array': () => [valid],
    'a frozen empty object': () => Object.freeze({}),
  };
  for (const key of Object.keys(valid)) {
    out[`"${key}" as a getter that throws`] = () => Object.defineProperty({ ...valid }, key, { get() { throw new Error('hostile getter'); }, enumerable: true });
    for (const [name, value] of Object.entries({ NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-1': -1, 'a Symbol': Symbol('x'), 'an object': {} })) {
      out[`"${key}" = ${name}`] = () => ({ ...valid, [key]: value });
    }
  }
  return out;
}

interface Slot {
  name: string;
  /** Argument position (default: the slot's own index). */
  at?: number;
  kind: 'array' | 'number' | 'options';
  array?: [ArrayKind, number];
  options?: Record<string, unknown>;
}

interface Template {
  name: string;
  slots: Slot[];
  valid: () => unknown[];
  call: (args: unknown[]) => unknown;
}

const f32 = (n: number) => new Float32Array(n).fill(0.25);
const packedInt8 = () => kernels.packInt8Weights(new Int8Array(K * N).fill(1), K, N, { scales: new Float32Array([0.1]) });
const packedFloat = () => kernels.packFloatWeights(f32(K * N), K, N);
const packedSparse = () => kernels.packSparse(f32(K * N), K, N);
/* eslint-disable @typescript-eslint/no-explicit-any */
const k = kernels as any;

const TEMPLATES: Template[] = [
  { name: 'quantize', slots: [{ name: 'x', kind: 'array', array: ['float32', 64] }, { name: 'options', kind: 'options', options: { scale: 0.5, zeroPoint: 3 } }],
    valid: () => [f32(64), { scale: 0.5, zeroPoint: 3 }], call: (a) => k.quantize(...a) },
  { name: 'dequantize', slots: [{ name: 'q', kind: 'array', array: ['uint8', 64] }, { name: 'options', kind: 'options', options: { scale: 0.5 } }],
    valid: () => [new Uint8Array(64), { scale: 0.5 }], call: (a) => k.dequantize(...a) },
  { name: 'quantParams', slots: [{ name: 'x', kind: 'array', array: ['float32', 64] }, { name: 'options', kind: 'options', options: { symmetric: true, axis: 0, shape: [8, 8] } }],
    valid: () => [f32(64), { symmetric: true, axis: 0, shape: [8, 8] }], call: (a) => k.quantParams(...a) },
  { name: 'packInt8Weights', slots: [{ name: 'b', kind: 'array', array: ['int8', K * N] }, { name: 'k', kind: 'number' }, { name: 'n', kind: 'number' }, { name: 'options', kind: 'options', options: { scales: 0.1 } }],
    valid: () => [new Int8Array(K * N), K, N, { scales: new Float32Array([0.1]) }], call: (a) => k.packInt8Weights(...a) },
  { name: 'matmulInteger', slots: [{ name: 'a', kind: 'array', array: ['uint8', M * K] }, { name: 'm', kind: 'number' }, { name: 'k', kind: 'number' }],
    valid: () => [new Uint8Array(M * K), M, K, packedInt8()], call: (a) => k.matmulInteger(...a) },
  { name: 'linearInt8Async', slots: [{ name: 'x', kind: 'array', array: ['float32', M * K] }, { name: 'm', kind: 'number' }, { name: 'k', kind: 'number' }, { name: 'bias', at: 4, kind: 'array', array: ['float32', N] }],
    valid: () => [f32(M * K), M, K, packedInt8(), f32(N)], call: (a) => k.linearInt8Async(...a) },
  { name: 'packFloatWeights', slots: [{ name: 'b', kind: 'array', array: ['float32', K * N] }, { name: 'k', kind: 'number' }, { name: 'n', kind: 'number' }, { name: 'options', kind: 'options', options: { transposed: false } }],
    valid: () => [f32(K * N), K, N, { transposed: false }], call: (a) => k.packFloatWeights(...a) },
  { name: 'linearFloat', slots: [{ name: 'x', kind: 'array', array: ['float32', M * K] }, { name: 'm', kind: 'number' }, { name: 'k', kind: 'number' }, { name: 'options', kind: 'options', options: { activation: 'relu' } }],
    valid: () => [f32(M * K), M, K, { activation: 'relu' }], call: (a) => k.linearFloat(a[0], a[1], a[2], packedFloat(), null, a[3]) },
  { name: 'pruneMaskAsync', slots: [{ name: 'w', kind: 'array', array: ['float32', K * N] }, { name: 'k', kind: 'number' }, { name: 'n', kind: 'number' }, { name: 'options', kind: 'options', options: { sparsity: 0.5, pattern: 'block', block: [4, 4] } }],
    valid: () => [f32(K * N), K, N, { sparsity: 0.5, pattern: 'block', block: [4, 4] }], call: (a) => k.pruneMaskAsync(...a) },
  { name: 'packSparse', slots: [{ name: 'w', kind: 'array', array: ['float32', K * N] }, { name: 'k', kind: 'number' }, { name: 'n', kind: 'number' }, { name: 'options', kind: 'options', options: { pattern: '2:4' } }],
    valid: () => [f32(K * N), K, N, { pattern: '2:4' }], call: (a) => k.packSparse(...a) },
  { name: 'matmulSparseAsync', slots: [{ name: 'x', kind: 'array', array: ['float32', M * K] }, { name: 'm', kind: 'number' }, { name: 'k', kind: 'number' }],
    valid: () => [f32(M * K), M, K], call: (a) => k.matmulSparseAsync(a[0], a[1], a[2], packedSparse()) },
  { name: 'setNumThreads', slots: [{ name: 'n', kind: 'number' }], valid: () => [1], call: (a) => { try { return k.setNumThreads(...a); } finally { k.setNumThreads(1); } } },
  { name: 'engineWeights', slots: [{ name: 'spec', kind: 'options', options: { constants: [], linears: [] } }], valid: () => [{ constants: [], linears: [] }], call: (a) => k.engineWeights(...a) },
];

function hostileFor(slot: Slot): Record<string, () => unknown> {
  if (slot.kind === 'array') return hostileArrays(...slot.array!);
  if (slot.kind === 'number') return Object.fromEntries(Object.entries(HOSTILE_NUMBERS).map(([name, v]) => [name, () => v]));
  return hostileOptions(slot.options!);
}

/** Every hostile call: each slot of each template with each of its hostile values. */
export function addonCases(): AddonCase[] {
  const out: AddonCase[] = [];
  for (const t of TEMPLATES) {
    t.slots.forEach((slot, i) => {
      for (const [name, make] of Object.entries(hostileFor(slot))) {
        out.push({
          id: `${t.name}: ${slot.name} = ${name}`,
          run: () => {
            const args = t.valid();
            args[slot.at ?? i] = make();
            return t.call(args);
          },
        });
      }
    });
  }
  return out;
}
