// The public kernel API: one function per export of the native addon, typed by binding.d.ts's
// NativeBinding; the addon loads on the first call. Arguments are checked in one place, the
// addon's bindings (native/napi/), which throw TypeError/RangeError naming the argument, so
// these functions only forward.
import type { NativeBinding } from '../binding';
import { native } from './native';

type FunctionName = {
  [K in keyof NativeBinding]: NativeBinding[K] extends (...args: never[]) => unknown ? K : never;
}[keyof NativeBinding];

function forward<K extends FunctionName>(name: K): NativeBinding[K] {
  const call = (...args: unknown[]): unknown => (native()[name] as (...a: unknown[]) => unknown)(...args);
  return call as NativeBinding[K];
}

export const buildInfo = forward('buildInfo');
export const cpuInfo = forward('cpuInfo');
export const getNumThreads = forward('getNumThreads');
export const setNumThreads = forward('setNumThreads');
export const packInt8Weights = forward('packInt8Weights');
export const matmulInteger = forward('matmulInteger');
export const matmulIntegerAsync = forward('matmulIntegerAsync');
export const linearInt8 = forward('linearInt8');
export const linearInt8Async = forward('linearInt8Async');
export const quantize = forward('quantize');
export const dequantize = forward('dequantize');
export const quantParams = forward('quantParams');
export const packFloatWeights = forward('packFloatWeights');
export const linearFloat = forward('linearFloat');
export const linearFloatAsync = forward('linearFloatAsync');
export const pruneMask = forward('pruneMask');
export const pruneMaskAsync = forward('pruneMaskAsync');
export const packSparse = forward('packSparse');
export const matmulSparse = forward('matmulSparse');
export const matmulSparseAsync = forward('matmulSparseAsync');
export const linearSparseInt8 = forward('linearSparseInt8');
export const linearSparseInt8Async = forward('linearSparseInt8Async');
export const cudaAvailable = forward('cudaAvailable');
export const cudaDevices = forward('cudaDevices');
export const cudaInfo = forward('cudaInfo');
/** The native engine's two entry points (NativeEngine lowers models into their specs). */
export const readFileLarge = forward('readFileLarge');
export const engineWeights = forward('engineWeights');
export const enginePlan = forward('enginePlan');
/** Shared memory between the server and its instance processes (isolation 'process'). */
export const sharedMemorySupported = forward('sharedMemorySupported');
export const createSharedRegion = forward('createSharedRegion');
export const openSharedRegion = forward('openSharedRegion');

/** The functions above as one object, plus the handle classes (for instanceof). */
export const kernels: NativeBinding = Object.freeze({
  buildInfo,
  cpuInfo,
  getNumThreads,
  setNumThreads,
  get PackedInt8() {
    return native().PackedInt8;
  },
  packInt8Weights,
  matmulInteger,
  matmulIntegerAsync,
  linearInt8,
  linearInt8Async,
  quantize,
  dequantize,
  quantParams,
  get PackedFloat() {
    return native().PackedFloat;
  },
  packFloatWeights,
  linearFloat,
  linearFloatAsync,
  pruneMask,
  pruneMaskAsync,
  get PackedSparse() {
    return native().PackedSparse;
  },
  packSparse,
  matmulSparse,
  matmulSparseAsync,
  linearSparseInt8,
  linearSparseInt8Async,
  cudaAvailable,
  cudaDevices,
  cudaInfo,
  readFileLarge,
  engineWeights,
  enginePlan,
  sharedMemorySupported,
  createSharedRegion,
  openSharedRegion,
});
