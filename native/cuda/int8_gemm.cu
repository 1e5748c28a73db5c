// Int8 GEMM on the GPU: ONNX MatMulInteger and the dynamic-quantized Linear layer,
// exact like the CPU kernels. Tensor cores (mma.sync m16n8k32 u8 x s8) on sm_80+,
// dp4a on sm_75. Both read A (mPadded x kPadded, uint8) and B transposed (nPadded x
// kPadded, int8) in 64 x 64 x 64 tiles through shared memory, and share the epilogue:
// c = acc - bZero[col] * rowSum[row] - aZero[row] * columnSum[col] (mod 2^32), which is
// (A - aZero)(B - bZero) whatever shift A was stored with.
#include <algorithm>
#include <atomic>
#include <vector>

#include "common.cuh"

namespace onnxforge::cuda {
namespace {

constexpr int kTileM = static_cast<int>(kGemmTileM);
constexpr int kTileN = static_cast<int>(kGemmTileN);
constexpr int kTileK = static_cast<int>(kGemmTileK);
// Bytes per shared-memory row: 64 + 16, so the 8 rows a fragment load touches fall in
// distinct banks (20 words apart) and rows stay 16-byte aligned.
constexpr int kSmemStride = kTileK + 16;
constexpr int kReduceThreads = 128;

std::atomic<Int8Kernel> gInt8Kernel{Int8Kernel::Auto};

struct GemmArgs {
  const uint8_t* a;
  const int8_t* bT;
  size_t kPadded;
  size_t m, n;
  const int32_t* rowSum;
  const int32_t* rowZeroPoint;
  const float* rowScale;
  const int32_t* zeroPoint;
  const int32_t* columnSum;
  const float* scale;
  const float* bias;
  int32_t* c;
  float* y;
};

__device__ __forceinline__ void storeResult(const GemmArgs& g, size_t row, size_t col, uint32_t acc) {
  if (row >= g.m || col >= g.n) return;
  uint32_t v = acc - static_cast<uint32_t>(g.zeroPoint[col]) * static_cast<uint32_t>(g.rowSum[row]) -
               static_cast<uint32_t>(g.rowZeroPoint[row]) * static_cast<uint32_t>(g.columnSum[col]);
  if (g.c) {
    g.c[row * g.n + col] = static_cast<int32_t>(v);
  } else {
    // As the CPU epilogue: one rounded product of the scales, then one fused multiply-add.
    float s = __fmul_rn(g.rowScale[row], g.scale[col]);
    g.y[row * g.n + col] = __fmaf_rn(static_cast<float>(static_cast<int32_t>(v)), s, g.bias ? g.bias[col] : 0.0f);
  }
}

__device__ __forceinline__ void mmaU8S8(int (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.u8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  __trap();  // the host launches this kernel on sm_80+ only
#endif
}

// 128 threads, 4 warps; each warp owns a 32 x 32 quarter of the 64 x 64 tile:
// 2 x 4 mma tiles of 16 x 8.
__global__ void __launch_bounds__(128) gemmMmaKernel(GemmArgs g) {
  __shared__ __align__(16) uint8_t as[kTileM * kSmemStride];
  __shared__ __align__(16) uint8_t bs[kTileN * kSmemStride];
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int group = lane >> 2, thread = lane & 3;
  const size_t row0 = static_cast<size_t>(blockIdx.x) * kTileM, col0 = static_cast<size_t>(blockIdx.y) * kTileN;
  const int warpRow = (warp >> 1) * 32, warpCol = (warp & 1) * 32;
  int acc[2][4][4] = {};
  for (size_t k0 = 0; k0 < g.kPadded; k0 += kTileK) {
    // Each operand tile is 64 rows x 64 bytes: 256 chunks of 16 bytes, 2 per thread.
    for (int i = tid; i < kTileM * kTileK / 16; i += blockDim.x) {
      int r = i >> 2, c = (i & 3) * 16;
      *reinterpret_cast<uint4*>(as + r * kSmemStride + c) =
          *reinterpret_cast<const uint4*>(g.a + (row0 + r) * g.kPadded + k0 + c);
      *reinterpret_cast<uint4*>(bs + r * kSmemStride + c) =
          *reinterpret_cast<const uint4*>(g.bT + (col0 + r) * g.kPadded + k0 + c);
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kTileK; kk += 32) {
      // Fragments (PTX ISA, m16n8k32 8-bit): a0 = A[g][4t..], a1 = A[g+8][4t..],
      // a2 = A[g][16+4t..], a3 = A[g+8][16+4t..]; b0 = B[4t..][g], b1 = B[16+4t..][g].
      uint32_t af[2][4], bf[4][2];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        const uint8_t* p = as + (warpRow + i * 16 + group) * kSmemStride + kk + thread * 4;
        af[i][0] = *reinterpret_cast<const uint32_t*>(p);
        af[i][1] = *reinterpret_cast<const uint32_t*>(p + 8 * kSmemStride);
        af[i][2] = *reinterpret_cast<const uint32_t*>(p + 16);
        af[i][3] = *reinterpret_cast<const uint32_t*>(p + 8 * kSmemStride + 16);
      }
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const uint8_t* p = bs + (warpCol + j * 8 + group) * kSmemStride + kk + thread * 4;
        bf[j][0] = *reinterpret_cast<const uint32_t*>(p);
        bf[j][1] = *reinterpret_cast<const uint32_t*>(p + 16);
      }
#pragma unroll
      for (int i = 0; i < 2; ++i) {
#pragma unroll
        for (int j = 0; j < 4; ++j) mmaU8S8(acc[i][j], af[i], bf[j]);
      }
    }
    __syncthreads();
  }
  // Accumulators: d0, d1 = C[g][2t], C[g][2t+1]; d2, d3 = the same columns of row g+8.
#pragma unroll
  for (int i = 0; i < 2; ++i) {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      size_t row = row0 + warpRow + i * 16 + group, col = col0 + warpCol + j * 8 + thread * 2;
      storeResult(g, row, col, static_cast<uint32_t>(acc[i][j][0]));
      storeResult(g, row, col + 1, static_cast<uint32_t>(acc[i][j][1]));
      storeResult(g, row + 8, col, static_cast<uint32_t>(acc[i][j][2]));
      storeResult(g, row + 8, col + 1, static_cast<uint32_t>(acc[i][j][3]));
    }
  }
}

__device__ __forceinline__ uint32_t dp4aU8S8(uint32_t a, uint32_t b, uint32_t c) {
  uint32_t d;
  asm("dp4a.u32.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}

// 256 threads as 16 x 16; each computes rows ty + 16i and columns tx + 16j (i, j < 4).
__global__ void __launch_bounds__(256) gemmDp4aKernel(GemmArgs g) {
  constexpr int kWords = kTileK / 4;
  __shared__ uint32_t as[kTileM][kWords + 1];
  __shared__ uint32_t bs[kTileN][kWords + 1];
  const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
  const size_t row0 = static_cast<size_t>(blockIdx.x) * kTileM, col0 = static_cast<size_t>(blockIdx.y) * kTileN;
  uint32_t acc[4][4] = {};
  for (size_t k0 = 0; k0 < g.kPadded; k0 += kTileK) {
    for (int i = tid; i < kTileM * kWords; i += blockDim.x) {
      int r = i / kWords, w = i % kWords;
      as[r][w] = *reinterpret_cast<const uint32_t*>(g.a + (row0 + r) * g.kPadded + k0 + 4 * w);
      bs[r][w] = *reinterpret_cast<const uint32_t*>(g.bT + (col0 + r) * g.kPadded + k0 + 4 * w);
    }
    __syncthreads();
#pragma unroll 4
    for (int w = 0; w < kWords; ++w) {
      uint32_t a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) a[i] = as[ty + 16 * i][w];
#pragma unroll
      for (int j = 0; j < 4; ++j) b[j] = bs[tx + 16 * j][w];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = dp4aU8S8(a[i], b[j], acc[i][j]);
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
#pragma unroll
    for (int j = 0; j < 4; ++j) storeResult(g, row0 + ty + 16 * i, col0 + tx + 16 * j, acc[i][j]);
  }
}

// Sum (as uint32, wrapping), min and max over a block of kReduceThreads threads.
template <typename T, typename Op>
__device__ T blockReduce(T value, Op op, T* shared) {
  for (int offset = 16; offset > 0; offset >>= 1) value = op(value, __shfl_xor_sync(0xffffffffu, value, offset));
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  __syncthreads();  // `shared` may still be read by a previous reduction
  if (lane == 0) shared[warp] = value;
  __syncthreads();
  value = shared[0];
  for (int w = 1; w < kReduceThreads / 32; ++w) value = op(value, shared[w]);
  return value;
}

struct Sum {
  __device__ uint32_t operator()(uint32_t a, uint32_t b) const { return a + b; }
};
struct Min {
  __device__ float operator()(float a, float b) const { return fminf(a, b); }
};
struct Max {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

__device__ __forceinline__ size_t rowOffset(const RowLayout& l, size_t row, size_t kk) {
  return (kk >> 2) * l.groupStride + row * l.rowStride + (kk & 3);
}

// One block per padded row of A: A xor flip, zero padded, and the row's sum.
__global__ void __launch_bounds__(kReduceThreads) packRowsKernel(const uint8_t* a, size_t m, size_t k, uint8_t flip,
                                                                 RowLayout layout, uint8_t* out, int32_t* rowSum) {
  __shared__ uint32_t shared[kReduceThreads / 32];
  const size_t row = blockIdx.x;
  uint32_t sum = 0;
  for (size_t kk = threadIdx.x; kk < layout.kPadded; kk += blockDim.x) {
    uint8_t v = row < m && kk < k ? static_cast<uint8_t>(a[row * k + kk] ^ flip) : 0;
    out[rowOffset(layout, row, kk)] = v;
    sum += v;
  }
  sum = blockReduce(sum, Sum(), shared);
  if (threadIdx.x == 0) rowSum[row] = static_cast<int32_t>(sum);
}

// quant_rules.h's rules 4 and 1 as the CPU's dynamicRowParams and quantizeToU8 (int8_isa.h)
// compute them, operation for operation: IEEE division and round-half-even give the CPU's bytes.
__device__ __forceinline__ void dynamicRowParams(float rowMin, float rowMax, float* scale, int32_t* zeroPoint) {
  float lo = fminf(rowMin, 0.0f), hi = fmaxf(rowMax, 0.0f);
  float s = __fdiv_rn(__fsub_rn(hi, lo), 255.0f);
  if (!isfinite(s) || s < 1.17549435e-38f) {
    *scale = 1.0f;
    *zeroPoint = 0;
    return;
  }
  float zp = rintf(fminf(fmaxf(__fsub_rn(0.0f, __fdiv_rn(lo, s)), 0.0f), 255.0f));
  *scale = s;
  *zeroPoint = static_cast<int32_t>(zp);
}

__device__ __forceinline__ uint8_t quantizeToU8(float x, float scale, int32_t zeroPoint) {
  float v = __fdiv_rn(x, scale);
  if (v != v) return static_cast<uint8_t>(zeroPoint);
  float lo = static_cast<float>(-zeroPoint), hi = static_cast<float>(255 - zeroPoint);
  v = fminf(fmaxf(v, lo), hi);
  return static_cast<uint8_t>(static_cast<int32_t>(rintf(v)) + zeroPoint);
}

// One block per padded row of x: per-row uint8 quantization with the row's sum, zero
// point and scale (rows past m: zeros).
__global__ void __launch_bounds__(kReduceThreads) quantizeRowsKernel(const float* x, size_t m, size_t k,
                                                                     RowLayout layout, uint8_t* out, int32_t* rowSum,
                                                                     int32_t* zeroPoint, float* scale) {
  __shared__ float sharedFloat[kReduceThreads / 32];
  __shared__ uint32_t sharedSum[kReduceThreads / 32];
  const size_t row = blockIdx.x;
  const float* src = x + row * k;
  float lo = 0.0f, hi = 0.0f;
  if (row < m) {
    for (size_t kk = threadIdx.x; kk < k; kk += blockDim.x) {
      lo = fminf(lo, src[kk]);
      hi = fmaxf(hi, src[kk]);
    }
  }
  lo = blockReduce(lo, Min(), sharedFloat);
  hi = blockReduce(hi, Max(), sharedFloat);
  float s = 0.0f;
  int32_t zp = 0;
  if (row < m) dynamicRowParams(lo, hi, &s, &zp);
  uint32_t sum = 0;
  for (size_t kk = threadIdx.x; kk < layout.kPadded; kk += blockDim.x) {
    uint8_t v = row < m && kk < k ? quantizeToU8(src[kk], s, zp) : 0;
    out[rowOffset(layout, row, kk)] = v;
    sum += v;
  }
  sum = blockReduce(sum, Sum(), sharedSum);
  if (threadIdx.x == 0) {
    rowSum[row] = static_cast<int32_t>(sum);
    zeroPoint[row] = zp;
    scale[row] = s;
  }
}

bool useMma() {
  Int8Kernel kernel = gInt8Kernel.load();
  if (kernel == Int8Kernel::Dp4a) return false;
  int major = 0;
  check(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, status().device), "cudaDeviceGetAttribute");
  if (kernel == Int8Kernel::Mma && major < 8) throw Error("the mma.sync int8 kernel needs compute capability 8.0+");
  return major >= 8;
}

RowLayout denseLayout(size_t m, const Weights& w) {
  RowLayout layout;
  layout.kPadded = w.kPadded;
  layout.mPadded = roundUp(std::max<size_t>(m, 1), kGemmTileM);
  layout.rowStride = w.kPadded;
  layout.groupStride = 4;
  return layout;
}

void requireKind(const Weights& w, WeightsKind kind, const char* what) {
  if (w.kind != kind) throw Error(std::string(what) + ": the weights are of another kind");
}

}  // namespace

void setInt8Kernel(Int8Kernel kernel) { gInt8Kernel.store(kernel); }

const char* int8KernelName() {
  if (!available()) return "none";
  try {
    enterDevice();
    return useMma() ? "mma" : "dp4a";
  } catch (const std::exception&) {
    return "none";
  }
}

std::shared_ptr<Weights> makeDenseInt8(const int8_t* b, size_t k, size_t n, const int8_t* zeroPoints,
                                       size_t zeroPointCount, const float* scales, size_t scaleCount) {
  enterDevice();
  auto w = std::make_shared<Weights>();
  w->kind = WeightsKind::DenseInt8;
  w->k = k;
  w->n = n;
  w->kPadded = roundUp(k, kGemmTileK);
  w->nPadded = roundUp(std::max<size_t>(n, 1), kGemmTileN);
  std::vector<int8_t> bT(w->kPadded * w->nPadded, 0);
  constexpr size_t kBlock = 64;  // transpose in blocks that stay in cache
  for (size_t k0 = 0; k0 < k; k0 += kBlock) {
    for (size_t j0 = 0; j0 < n; j0 += kBlock) {
      for (size_t kk = k0; kk < std::min(k, k0 + kBlock); ++kk) {
        for (size_t j = j0; j < std::min(n, j0 + kBlock); ++j) bT[j * w->kPadded + kk] = b[kk * n + j];
      }
    }
  }
  std::vector<int32_t> zeroPoint(w->nPadded, 0), columnSum(w->nPadded, 0);
  std::vector<int64_t> sums(n, 0);
  for (size_t kk = 0; kk < k; ++kk) {
    for (size_t j = 0; j < n; ++j) sums[j] += b[kk * n + j];
  }
  for (size_t j = 0; j < n; ++j) {
    if (zeroPointCount) zeroPoint[j] = zeroPoints[zeroPointCount == 1 ? 0 : j];
    // Wraps like the kernels' int32 arithmetic.
    uint64_t adjusted = static_cast<uint64_t>(sums[j]) -
                        static_cast<uint64_t>(k) * static_cast<uint64_t>(static_cast<int64_t>(zeroPoint[j]));
    columnSum[j] = static_cast<int32_t>(static_cast<uint32_t>(adjusted));
  }
  std::vector<float> scale(w->nPadded, 0.0f);
  w->hasScales = scaleCount > 0;
  for (size_t j = 0; j < n && scaleCount; ++j) scale[j] = scales[scaleCount == 1 ? 0 : j];

  auto put = [](DeviceBuffer& to, const void* from, size_t bytes) {
    to = DeviceBuffer(bytes);
    if (bytes) check(cudaMemcpy(to.as<void>(), from, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (weights)");
  };
  put(w->bT, bT.data(), bT.size());
  put(w->zeroPoint, zeroPoint.data(), zeroPoint.size() * sizeof(int32_t));
  put(w->columnSum, columnSum.data(), columnSum.size() * sizeof(int32_t));
  put(w->scale, scale.data(), scale.size() * sizeof(float));
  return w;
}

std::shared_ptr<const Weights> uploadInt8(const int8_t* b, size_t k, size_t n, const int8_t* zeroPoints,
                                          size_t zeroPointCount, const float* scales, size_t scaleCount) {
  return makeDenseInt8(b, k, n, zeroPoints, zeroPointCount, scales, scaleCount);
}

Int8Rows quantizeRows(CallStream& stream, const float* x, size_t m, size_t k, const RowLayout& layout) {
  Int8Rows rows;
  rows.m = m;
  rows.mPadded = layout.mPadded;
  cudaStream_t s = stream.get();
  rows.values = DeviceBuffer(layout.mPadded * layout.kPadded, s);
  rows.rowSum = DeviceBuffer(layout.mPadded * sizeof(int32_t), s);
  rows.zeroPoint = DeviceBuffer(layout.mPadded * sizeof(int32_t), s);
  rows.scale = DeviceBuffer(layout.mPadded * sizeof(float), s);
  quantizeRowsKernel<<<static_cast<unsigned>(layout.mPadded), kReduceThreads, 0, s>>>(
      x, m, k, layout, rows.values.as<uint8_t>(), rows.rowSum.as<int32_t>(), rows.zeroPoint.as<int32_t>(),
      rows.scale.as<float>());
  checkLaunch("quantizeRowsKernel");
  return rows;
}

void runInt8Gemm(CallStream& stream, const Weights& w, const Int8Rows& a, int32_t* c, float* y, const float* bias) {
  GemmArgs g;
  g.a = a.values.as<uint8_t>();
  g.bT = w.bT.as<int8_t>();
  g.kPadded = w.kPadded;
  g.m = a.m;
  g.n = w.n;
  g.rowSum = a.rowSum.as<int32_t>();
  g.rowZeroPoint = a.zeroPoint.as<int32_t>();
  g.rowScale = a.scale.as<float>();
  g.zeroPoint = w.zeroPoint.as<int32_t>();
  g.columnSum = w.columnSum.as<int32_t>();
  g.scale = w.scale.as<float>();
  g.bias = bias;
  g.c = c;
  g.y = y;
  size_t rowTiles = a.mPadded / kGemmTileM, columnTiles = w.nPadded / kGemmTileN;
  if (rowTiles > 0x7fffffffu || columnTiles > 65535) throw Error("the product is too large for one launch");
  dim3 grid(static_cast<unsigned>(rowTiles), static_cast<unsigned>(columnTiles));
  if (useMma()) {
    gemmMmaKernel<<<grid, 128, 0, stream.get()>>>(g);
    checkLaunch("gemmMmaKernel");
  } else {
    gemmDp4aKernel<<<grid, 256, 0, stream.get()>>>(g);
    checkLaunch("gemmDp4aKernel");
  }
}

void matmulInteger(const Weights& w, const uint8_t* a, bool isSigned, size_t m, const void* aZeroPoints,
                   size_t zeroPointCount, int32_t* c) {
  requireKind(w, WeightsKind::DenseInt8, "matmulInteger");
  if (m == 0 || w.n == 0) return;
  CallStream stream;
  cudaStream_t s = stream.get();
  RowLayout layout = denseLayout(m, w);
  // Zero points per row, as the values are stored: int8 A is shifted by 128 to uint8.
  std::vector<int32_t> zeroPoint(layout.mPadded, 0);
  int32_t shift = isSigned ? 128 : 0;
  for (size_t i = 0; i < m; ++i) {
    int32_t zp = 0;
    if (zeroPointCount) {
      size_t index = zeroPointCount == 1 ? 0 : i;
      zp = isSigned ? static_cast<const int8_t*>(aZeroPoints)[index] : static_cast<const uint8_t*>(aZeroPoints)[index];
    }
    zeroPoint[i] = zp + shift;
  }
  DeviceBuffer raw = stream.upload(a, m * w.k);
  Int8Rows rows;
  rows.m = m;
  rows.mPadded = layout.mPadded;
  rows.values = DeviceBuffer(layout.mPadded * layout.kPadded, s);
  rows.rowSum = DeviceBuffer(layout.mPadded * sizeof(int32_t), s);
  rows.zeroPoint = stream.upload(zeroPoint.data(), zeroPoint.size() * sizeof(int32_t));
  packRowsKernel<<<static_cast<unsigned>(layout.mPadded), kReduceThreads, 0, s>>>(
      raw.as<uint8_t>(), m, w.k, isSigned ? 0x80 : 0x00, layout, rows.values.as<uint8_t>(), rows.rowSum.as<int32_t>());
  checkLaunch("packRowsKernel");
  DeviceBuffer out(m * w.n * sizeof(int32_t), s);
  runInt8Gemm(stream, w, rows, out.as<int32_t>(), nullptr, nullptr);
  stream.download(c, out, out.size());
  stream.finish();
}

void linearDense(const Weights& w, const float* x, size_t m, const float* bias, float* y) {
  if (!w.hasScales) throw Error("linearInt8: the weights were uploaded without scales");
  if (m == 0 || w.n == 0) return;
  CallStream stream;
  DeviceBuffer xDevice = stream.upload(x, m * w.k * sizeof(float));
  DeviceBuffer biasDevice = bias ? stream.upload(bias, w.n * sizeof(float)) : DeviceBuffer();
  Int8Rows rows = quantizeRows(stream, xDevice.as<float>(), m, w.k, denseLayout(m, w));
  DeviceBuffer out(m * w.n * sizeof(float), stream.get());
  runInt8Gemm(stream, w, rows, nullptr, out.as<float>(), bias ? biasDevice.as<float>() : nullptr);
  stream.download(y, out, out.size());
  stream.finish();
}

void linearInt8(const Weights& w, const float* x, size_t m, const float* bias, float* y) {
  requireKind(w, WeightsKind::DenseInt8, "linearInt8");
  linearDense(w, x, m, bias, y);
}

double measureInt8OpsPerSecond(size_t size, int runs) {
  std::vector<int8_t> b(size * size);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<int8_t>(i * 7 + 3);
  auto w = makeDenseInt8(b.data(), size, size, nullptr, 0, nullptr, 0);
  CallStream stream;
  cudaStream_t s = stream.get();
  RowLayout layout = denseLayout(size, *w);
  Int8Rows rows;
  rows.m = size;
  rows.mPadded = layout.mPadded;
  rows.values = DeviceBuffer(layout.mPadded * layout.kPadded, s);
  rows.rowSum = DeviceBuffer(layout.mPadded * sizeof(int32_t), s);
  rows.zeroPoint = DeviceBuffer(layout.mPadded * sizeof(int32_t), s);
  check(cudaMemsetAsync(rows.values.as<void>(), 0x5a, rows.values.size(), s), "cudaMemsetAsync");
  check(cudaMemsetAsync(rows.rowSum.as<void>(), 0, rows.rowSum.size(), s), "cudaMemsetAsync");
  check(cudaMemsetAsync(rows.zeroPoint.as<void>(), 0, rows.zeroPoint.size(), s), "cudaMemsetAsync");
  DeviceBuffer out(size * size * sizeof(int32_t), s);
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  double best = 0;
  try {
    runInt8Gemm(stream, *w, rows, out.as<int32_t>(), nullptr, nullptr);  // warm-up
    for (int run = 0; run < std::max(runs, 1); ++run) {
      check(cudaEventRecord(start, s), "cudaEventRecord");
      runInt8Gemm(stream, *w, rows, out.as<int32_t>(), nullptr, nullptr);
      check(cudaEventRecord(stop, s), "cudaEventRecord");
      check(cudaEventSynchronize(stop), "cudaEventSynchronize");
      float ms = 0;
      check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
      if (ms > 0) best = std::max(best, 2.0 * static_cast<double>(size) * size * size / (ms * 1e-3));
    }
  } catch (...) {
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    throw;
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  stream.finish();
  return best;
}

}  // namespace onnxforge::cuda
