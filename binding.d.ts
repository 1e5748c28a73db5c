// The typed contract of the native addons. NativeBinding is exactly what the shipped addon
// (onnxforge.node) exports: lib/native.ts loads it, lib/kernels.ts hands it out, and a test
// checks the export list against this file. TestBinding is the test addon
// (build/Release/onnxforge_test.node, never shipped): the same plus test hooks.

export type IsaName = 'scalar' | 'avx2' | 'avx512vnni' | 'amx';

export interface CpuFeatureFlags {
  'sse4.2': boolean;
  avx: boolean;
  avx2: boolean;
  fma: boolean;
  f16c: boolean;
  avx512f: boolean;
  avx512bw: boolean;
  avx512vl: boolean;
  avx512dq: boolean;
  avx512vnni: boolean;
  avxvnni: boolean;
  /** AMX flags are true only when the CPU has them, XCR0 enables them and arch_prctl granted permission. */
  'amx-tile': boolean;
  'amx-int8': boolean;
  'amx-bf16': boolean;
}

/** What an addon is and how it was built (`buildInfo()`). */
export interface BuildInfo {
  /** The onnxforge version it was built from (package.json); the loader refuses one that is not the package's. */
  version: string;
  /** The Node-API version it targets (package.json binary.napi_versions). */
  napiVersion: number;
  /** CMake's system name and processor, e.g. 'Linux x86_64'. */
  target: string;
  /** The C++ compiler, e.g. 'GNU 12.2.0'. */
  compiler: string;
  buildType: string;
  /** The CPU kernel paths compiled in (cpuInfo() says which one this CPU runs). */
  isaPaths: IsaName[];
  /** The nvcc version the CUDA kernels were built with; null in a build without them. */
  cuda: string | null;
  /** The oldest glibc it loads on (static libstdc++, pinned symbol versions); null when not built for one. */
  glibcFloor: string | null;
}

export interface CpuInfo {
  features: CpuFeatureFlags;
  /** The ISA level the kernels run at (after the ONNXFORGE_ISA cap). */
  isa: IsaName;
  /** The best level this machine supports. */
  detectedIsa: IsaName;
  /** ONNXFORGE_ISA as given, or null when unset. */
  isaCap: string | null;
  isaCapValid: boolean;
  /** The CPU advertises AMX but the OS or arch_prctl did not allow it. */
  amxDeniedByOs: boolean;
  logicalCores: number;
  physicalCores: number;
  /** Threads the kernels use (the calling thread included). */
  threads: number;
}

/** Int8 weights prepacked for the ISA in use (from `packInt8Weights`). */
export interface PackedInt8 {
  readonly k: number;
  readonly n: number;
  /** Native bytes held (packed data and per-column sums; GPU memory for device 'cuda'); 0 once disposed. */
  readonly bytes: number;
  /** The ISA whose layout the weights are packed in. */
  readonly isa: IsaName;
  /** Where the weights live and the products run. */
  readonly device: 'cpu' | 'cuda';
  /** Whether scales were given (linearInt8 needs them). */
  readonly hasScales: boolean;
  readonly disposed: boolean;
  /** Frees the native memory now (calls still running finish first); using it afterwards throws. */
  dispose(): void;
}

export interface PackInt8Options {
  /** One scale (per tensor) or one per column, each positive and finite; needed by linearInt8. */
  scales?: Float32Array;
  /** One zero point (per tensor) or one per column; default 0. */
  zeroPoints?: Int8Array;
  /**
   * 'cpu' (default); 'cuda': upload the weights to the GPU once, and run matmulInteger and linearInt8
   * there (throws "CUDA is not available: <reason>" without one); 'auto': 'cuda' when cudaAvailable().
   */
  device?: 'cpu' | 'cuda' | 'auto';
}

export type QuantDtype = 'uint8' | 'int8';

export interface AxisOptions {
  /** Per-axis parameters index this dimension of `shape` (negative counts from the end). */
  axis?: number;
  /** The data's dims; required with `axis`. */
  shape?: number[];
}

export interface QuantizeOptions extends AxisOptions {
  /** Positive; one value or one per channel of `axis`. */
  scale: number | Float32Array;
  /** Default 0; a typed array's kind decides the dtype. */
  zeroPoint?: number | Uint8Array | Int8Array;
  /** Default 'uint8' (ONNX QuantizeLinear's default). */
  dtype?: QuantDtype;
}

export interface DequantizeOptions extends AxisOptions {
  scale: number | Float32Array;
  /** Of q's type; must be 0 for Int32Array data. */
  zeroPoint?: number | Uint8Array | Int8Array;
}

export interface QuantParamsOptions extends AxisOptions {
  /** Zero point at the middle of the range (int8: 0, range [-127, 127]); default false. */
  symmetric?: boolean;
  dtype?: QuantDtype;
}

export interface QuantParams {
  scale: Float32Array;
  zeroPoint: Uint8Array | Int8Array;
  dtype: QuantDtype;
}

/** Test and benchmark hooks of the int8 kernels (test addon only). */
export interface Int8Internals {
  /** Puts the kernels' own buffers flush against inaccessible pages ('tail': after, 'head': before). */
  setGuardMode(mode: 'off' | 'tail' | 'head'): void;
  /** A zeroed typed array whose bytes end ('tail') or start ('head') at an inaccessible page. */
  guardedArray(kind: 'int8', length: number, placement: 'tail' | 'head'): Int8Array;
  guardedArray(kind: 'uint8', length: number, placement: 'tail' | 'head'): Uint8Array;
  guardedArray(kind: 'int32', length: number, placement: 'tail' | 'head'): Int32Array;
  guardedArray(kind: 'float32', length: number, placement: 'tail' | 'head'): Float32Array;
  /** Ops per second (2 per multiply-add) of the active ISA's int8 instruction on one thread. */
  peakOpsPerSecond(seconds: number): number;
  /** The ISA the int8 kernels run at. */
  isa(): IsaName;
}

/** Dense float32 weights packed once into the float GEMM's panels (from `packFloatWeights`). */
export interface PackedFloat {
  readonly k: number;
  readonly n: number;
  /** Native bytes held (the packed panels); 0 once disposed. */
  readonly bytes: number;
  /** The ISA whose layout the weights are packed in (the AMX level runs the AVX-512 kernels: 'avx512vnni'). */
  readonly isa: IsaName;
  /** Always 'cpu'. */
  readonly device: 'cpu' | 'cuda';
  readonly disposed: boolean;
  /** Frees the native memory now (calls still running finish first); using it afterwards throws. */
  dispose(): void;
}

export interface PackFloatOptions {
  /** b is n x k (as ONNX Gemm's B with transB = 1) instead of k x n. Default false. */
  transposed?: boolean;
}

/** Elementwise function of the linear layer's epilogue: 'gelu' is the exact (erf) form, 'gelu_tanh' the tanh approximation. */
export type FloatActivation = 'none' | 'relu' | 'gelu' | 'gelu_tanh' | 'tanh' | 'sigmoid';

export interface LinearFloatOptions {
  /** Applied to x * W + bias; default 'none'. */
  activation?: FloatActivation;
  /** m x n values added after the activation (a residual connection). */
  residual?: Float32Array;
}

/** Benchmark hooks of the float GEMM; not a stable API. */
export interface FloatInternals {
  /** Float operations per second (2 per FMA) of the active ISA's multiply-add on one thread. */
  peakFlopsPerSecond(seconds: number): number;
  /** The ISA the float kernels run at. */
  isa(): IsaName;
}

export type PrunePattern = 'unstructured' | '2:4' | '4:8' | 'block';

/**
 * What pruneMask keeps. W is k x n row-major (y = x * W); ranks are by |w| (blocks: by L2
 * norm); equal magnitudes keep the lower index first (row-major index; block index for
 * 'block'), so masks are deterministic.
 */
export interface PruneMaskOptions {
  /**
   * Fraction in [0, 1] to zero: exactly round(sparsity * k * n) elements ('unstructured') or
   * round(sparsity * blocks) blocks ('block'). Optional for N:M patterns, where it must equal
   * 1 - N/M when given.
   */
  sparsity?: number;
  /**
   * 'unstructured' (default); 'N:M' ('2:4', '4:8'): in every group of M consecutive rows of a
   * column (along k, the reduction axis, as 2:4 sparse tensor cores expect for x * W) the N
   * largest stay, a last group shorter than M keeps min(N, its size); 'block': blocks of
   * `block` ranked by L2 norm.
   */
  pattern?: PrunePattern;
  /** [rows along k, columns along n] of a block; default [4, 1] (4 consecutive k of one column). */
  block?: [number, number];
}

/** Pruned weights stored as their nonzeros (from `packSparse`). */
export interface PackedSparse {
  readonly k: number;
  readonly n: number;
  /** Nonzero weights. */
  readonly nonzeros: number;
  /** 1 - nonzeros / (k * n). */
  readonly sparsity: number;
  readonly dtype: 'float32' | 'int8';
  readonly pattern: 'unstructured' | '2:4';
  /** Native bytes held; 0 once disposed. */
  readonly bytes: number;
  /** The ISA the sparse kernels run at (the AMX level runs the AVX-512 kernels: 'avx512vnni'). */
  readonly isa: IsaName;
  /** Where the weights live and the products run. */
  readonly device: 'cpu' | 'cuda';
  /** Whether scales were given (linearSparseInt8 needs them). */
  readonly hasScales: boolean;
  readonly disposed: boolean;
  /** Frees the native memory now (calls still running finish first); using it afterwards throws. */
  dispose(): void;
}

export interface PackSparseOptions {
  /** 'unstructured' (default) or '2:4', which is checked: at most 2 nonzeros in every 4 consecutive rows (along k) of a column. */
  pattern?: 'unstructured' | '2:4';
  /** Int8 weights only: one scale (per tensor) or one per column, each positive and finite; needed by linearSparseInt8. Zero points are 0 (pruned weights are exact zeros). */
  scales?: Float32Array;
  /**
   * 'cpu' (default); 'cuda': upload the nonzeros to the GPU once, and run matmulSparse and linearSparseInt8
   * there (throws "CUDA is not available: <reason>" without one); 'auto': 'cuda' when cudaAvailable().
   * On the GPU, float32 weights (2:4 included) and unstructured int8 weights run a compressed-column SpMM;
   * int8 2:4 weights run the dense int8 tensor-core GEMM on decompressed tiles (sparse tensor cores are not used).
   */
  device?: 'cpu' | 'cuda' | 'auto';
}

export interface CudaDevice {
  index: number;
  name: string;
  /** 'major.minor', e.g. '8.9'. */
  computeCapability: string;
  /** Bytes. */
  totalMemory: number;
  multiprocessors: number;
  /** Peak SM clock. */
  clockMHz: number;
}

export interface CudaInfo {
  /** This build has CUDA kernels (CMake found nvcc, ONNXFORGE_CUDA was not OFF). */
  compiled: boolean;
  /** ... and a GPU they run on: what cudaAvailable() returns. */
  available: boolean;
  /** Why CUDA is not available (no driver, no GPU, too old a GPU, ONNXFORGE_CUDA=0, no CUDA in this build); null when it is. */
  reason: string | null;
  /** The CUDA runtime the kernels were built with (linked statically), e.g. '13.0'. */
  runtimeVersion: string | null;
  /** The CUDA version the installed driver supports; null without a driver. */
  driverVersion: string | null;
  /** CMAKE_CUDA_ARCHITECTURES of the build, e.g. '75-real;80-real;86-real;89-real;90'. */
  architectures: string | null;
  /** The GPU the kernels run on (the first visible one). */
  device: number | null;
  /** The int8 GEMM kernel: tensor cores ('mma', sm_80+), 'dp4a' (sm_75), or 'none'. */
  int8Kernel: 'mma' | 'dp4a' | 'none';
}

/** Test and benchmark hooks of the CUDA kernels (test addon only). */
export interface CudaInternals {
  /** Forces the int8 GEMM kernel ('mma' needs sm_80+); 'auto' picks by compute capability. */
  setInt8Kernel(kernel: 'auto' | 'mma' | 'dp4a'): void;
  /** Int8 ops per second (2 per multiply-add) of the GEMM kernel alone on a size^3 product, best of `runs`. */
  int8OpsPerSecond(size: number, runs: number): number;
}

/** A linear layer handed to engineWeights: y = x * W (+ bias, activation, added by the plan's step). */
export interface EngineLayer {
  /**
   * The kernel: dense float32, sparse float32, int8, sparse int8 (symmetric weights only), or 'auto': sparse
   * when the weights' zero fraction reaches `sparseFrom` (int8: and the zero points are all 0), else dense.
   */
  kind: 'auto' | 'dense' | 'sparse' | 'int8' | 'sparse-int8';
  /** With kind 'auto': the sparsity (0..1) from which the layer is packed sparse. */
  sparseFrom?: number;
  k: number;
  n: number;
  /** float32 (dense/sparse) or int8 (int8/sparse-int8) k x n row-major; float32 may be n x k when `transposed`. */
  weights: Float32Array | Int8Array;
  transposed?: boolean;
  /** int8 kinds: 1 or n weight scales. */
  scales?: Float32Array;
  /** int8 kinds: 1 or n weight zero points (default 0). */
  zeroPoints?: Int8Array;
  pattern?: 'unstructured' | '2:4';
}

export type EngineConstantData = Float32Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;

export interface EngineWeightsSpec {
  /** Tensors the plans read in place (type: the ONNX element type code: 1 float32, 2 uint8, 3 int8, 6 int32, 7 int64, 9 bool). */
  constants: { type: number; data: EngineConstantData }[];
  linears: EngineLayer[];
}

/** A model's constants (viewed in place) and linear layers (packed): shared by every plan of the model. */
export interface EngineWeights {
  /** Bytes of packed weights. */
  readonly bytes: number;
  readonly layers: { kind: Exclude<EngineLayer['kind'], 'auto'>; k: number; n: number; sparsity: number; bytes: number }[];
  /** Releases the packed weights once no plan uses them. */
  dispose(): void;
}

/** A plan as the engine's lowering encodes it (see lib/engine/native/plan-builder.ts); checked in full by enginePlan. */
export interface EnginePlanSpec {
  values: { storage: Uint8Array; dtype: Uint8Array; count: Float64Array; offset: Float64Array; index: Uint32Array };
  steps: { op: string; inputs: Int32Array; outputs: Int32Array; ints: Float64Array; floats: Float32Array; linear?: number }[];
  planConstants: Uint8Array[];
  inputs: Int32Array;
  outputs: Int32Array;
  arenaBytes: number;
}

/** One model at one set of input shapes, ready to run. */
export interface EnginePlan {
  /** Bytes of one run's arena. */
  readonly arenaBytes: number;
  /**
   * Arena bytes held now (one arena per run that was in flight at the same time). Arenas above 64 MiB are
   * freed when their run ends instead of being kept for the next one, so a large request's peak goes back.
   */
  readonly arenaBytesHeld: number;
  /**
   * Runs on the calling thread; inputs in plan order, of exactly the plan's types and sizes. Returns the
   * outputs in plan order (their memory is pooled: collected arrays give it back for later runs).
   */
  run(inputs: EngineConstantData[], threads?: number): EngineConstantData[];
  /** Runs on a worker thread; the inputs are kept alive until the promise settles. */
  runAsync(inputs: EngineConstantData[], threads?: number): Promise<EngineConstantData[]>;
  /** A run on the calling thread with each step's wall time in milliseconds. */
  profile(inputs: EngineConstantData[], threads?: number): { outputs: EngineConstantData[]; stepMs: Float64Array };
  dispose(): void;
}

export interface NativeBinding {
  buildInfo(): BuildInfo;
  cpuInfo(): CpuInfo;
  getNumThreads(): number;
  /** 1..256; the default is the number of physical cores. */
  setNumThreads(n: number): void;

  /** The class of packInt8Weights' handles (for instanceof); not constructible from JS. */
  PackedInt8: { readonly prototype: PackedInt8 };
  /** Prepacks B (k x n, row-major int8) for the int8 kernels, with column sums for zero points. */
  packInt8Weights(b: Int8Array, k: number, n: number, opts?: PackInt8Options): PackedInt8;
  /**
   * ONNX MatMulInteger: (A - aZeroPoint)(B - bZeroPoint) as int32 (m x n). A is m x k, uint8 or
   * int8; aZeroPoint is one value or one per row, of A's type (default 0).
   */
  matmulInteger(a: Uint8Array | Int8Array, m: number, k: number, w: PackedInt8,
    aZeroPoint?: number | Uint8Array | Int8Array): Int32Array;
  matmulIntegerAsync(a: Uint8Array | Int8Array, m: number, k: number, w: PackedInt8,
    aZeroPoint?: number | Uint8Array | Int8Array): Promise<Int32Array>;
  /**
   * Dynamic-quantized Linear: x (m x k) quantized per row to uint8, int8 product with w,
   * dequantized with w's scales, plus bias (n values). Returns m x n.
   */
  linearInt8(x: Float32Array, m: number, k: number, w: PackedInt8, bias?: Float32Array | null): Float32Array;
  linearInt8Async(x: Float32Array, m: number, k: number, w: PackedInt8, bias?: Float32Array | null): Promise<Float32Array>;
  /** ONNX QuantizeLinear (round half to even, saturate), per tensor or per axis. */
  quantize(x: Float32Array, opts: QuantizeOptions & { dtype: 'int8' }): Int8Array;
  quantize(x: Float32Array, opts: QuantizeOptions & { zeroPoint: Int8Array }): Int8Array;
  quantize(x: Float32Array, opts: QuantizeOptions): Uint8Array | Int8Array;
  /** ONNX DequantizeLinear: (q - zeroPoint) * scale. */
  dequantize(q: Uint8Array | Int8Array | Int32Array, opts: DequantizeOptions): Float32Array;
  /**
   * Scale and zero point from the data's range, by the rules of native/include/quant_rules.h (after
   * onnxruntime's quantization tool). Throws RangeError when a range is not finite (x holds Infinity).
   */
  quantParams(x: Float32Array, opts?: QuantParamsOptions): QuantParams;
  /** The class of packFloatWeights' handles (for instanceof); not constructible from JS. */
  PackedFloat: { readonly prototype: PackedFloat };
  /** Packs dense float32 B (k x n row-major, or n x k with `transposed`) for linearFloat. */
  packFloatWeights(b: Float32Array, k: number, n: number, opts?: PackFloatOptions): PackedFloat;
  /**
   * Dense Linear layer: activation(x * W + bias) + residual, x m x k row-major, bias n values; returns m x n.
   * Each element is within (k + 2) * 2^-24 * sum |x_i w_i| (+ the activation's error) of the exact result.
   */
  linearFloat(x: Float32Array, m: number, k: number, w: PackedFloat, bias?: Float32Array | null,
    opts?: LinearFloatOptions): Float32Array;
  /** linearFloat off the event loop; works on copies of x, bias and residual. */
  linearFloatAsync(x: Float32Array, m: number, k: number, w: PackedFloat, bias?: Float32Array | null,
    opts?: LinearFloatOptions): Promise<Float32Array>;
  /** Magnitude pruning mask of W (k x n): 1 keeps an element, 0 prunes it. Throws RangeError on NaN. */
  pruneMask(w: Float32Array, k: number, n: number, opts: PruneMaskOptions): Uint8Array;
  pruneMaskAsync(w: Float32Array, k: number, n: number, opts: PruneMaskOptions): Promise<Uint8Array>;
  /** The class of packSparse's handles (for instanceof); not constructible from JS. */
  PackedSparse: { readonly prototype: PackedSparse };
  /** Packs W (k x n, row-major, y = x * W) keeping only its nonzeros; -0 counts as zero. */
  packSparse(w: Float32Array | Int8Array, k: number, n: number, opts?: PackSparseOptions): PackedSparse;
  /** y = x * W + bias for float32 W: x is m x k, bias n values; returns m x n. */
  matmulSparse(x: Float32Array, m: number, k: number, w: PackedSparse, bias?: Float32Array | null): Float32Array;
  matmulSparseAsync(x: Float32Array, m: number, k: number, w: PackedSparse, bias?: Float32Array | null): Promise<Float32Array>;
  /**
   * Dynamic-quantized Linear for int8 W, as linearInt8: x quantized per row to uint8, exact int32
   * product, dequantized with w's scales, plus bias. Bit-identical to linearInt8 on the same weights.
   */
  linearSparseInt8(x: Float32Array, m: number, k: number, w: PackedSparse, bias?: Float32Array | null): Float32Array;
  linearSparseInt8Async(x: Float32Array, m: number, k: number, w: PackedSparse, bias?: Float32Array | null): Promise<Float32Array>;
  /**
   * Whether the CUDA kernels can run here: a CUDA build, a driver and a GPU of compute capability 7.5+.
   * Probed once (creating the CUDA context); never throws. ONNXFORGE_CUDA=0 in the environment turns CUDA off.
   */
  cudaAvailable(): boolean;
  /** Visible GPUs; [] without CUDA, a driver or a GPU. Never throws. */
  cudaDevices(): CudaDevice[];
  /** What cudaAvailable() found and why; never throws. */
  cudaInfo(): CudaInfo;
  /**
   * A file's bytes in memory of their own, from huge pages where the OS gives them (a page fault per 2 MiB,
   * not per 4 KiB): what the native engine loads models with.
   */
  readFileLarge(path: string): Uint8Array;
  /** Packs a model's linear layers and views its constants, for enginePlan. */
  engineWeights(spec: EngineWeightsSpec): EngineWeights;
  /** Checks and prepares a plan (RangeError naming the first problem). */
  enginePlan(weights: EngineWeights, spec: EnginePlanSpec): EnginePlan;
  /** Whether createSharedRegion/openSharedRegion work here (Linux); elsewhere they throw an Error. */
  sharedMemorySupported(): boolean;
  /**
   * A new shared memory region of byteLength bytes (an integer in [1, 2^40]; RangeError/TypeError
   * otherwise), zero-filled, that another process of the same user can map with openSharedRegion(path).
   * Anonymous (memfd): nothing is left behind when the processes holding it end, even killed.
   */
  createSharedRegion(byteLength: number): SharedRegion;
  /**
   * Maps the region another process created: path is its SharedRegion.path (/proc/<pid>/fd/<fd>, TypeError
   * for anything else), byteLength its exact size (RangeError when it differs).
   */
  openSharedRegion(path: string, byteLength: number): SharedRegion;
}

/** One process's view of a shared memory region. */
export interface SharedRegion {
  /** The memory itself: writes are seen by every process that mapped the region. Detached by close(). */
  readonly buffer: ArrayBuffer;
  /** What openSharedRegion needs to map the same memory from another process. */
  readonly path: string;
  readonly byteLength: number;
  /** Detaches buffer (views read as empty from then on); the memory is unmapped once the buffer is collected. Idempotent. */
  close(): void;
}

/** The test addon: the public API plus the hooks tests and benchmarks use. */
export interface TestBinding extends NativeBinding {
  _int8Internals: Int8Internals;
  _cudaInternals: CudaInternals;
  _floatInternals: FloatInternals;
}

declare const binding: NativeBinding;
export default binding;
