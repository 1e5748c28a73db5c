// Sparse products on the GPU: y = x * W with W stored as compressed columns (CSC of W,
// that is CSR of W^T). One warp per output column walks the column's nonzeros; its lanes
// take 32 rows of x (read transposed, so the loads coalesce), or, for a few rows, split
// the nonzeros and reduce. Int8 entries are groups of 4 rows multiplied by dp4a; int8
// 2:4 weights run the dense int8 GEMM instead (sparse tensor cores are not used).
#include <algorithm>
#include <vector>

#include "common.cuh"

namespace onnxforge::cuda {
namespace {

constexpr int kColumnsPerBlock = 8;   // warps per block, one column each
constexpr size_t kFewRows = 8;        // below this, lanes split the nonzeros instead of the rows
constexpr unsigned kMaxGridY = 65535;

__device__ __forceinline__ uint32_t dp4aU8S8(uint32_t a, uint32_t b, uint32_t c) {
  uint32_t d;
  asm("dp4a.u32.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}

// The CPU's dequantize (sparse_tile.h): wrap, one rounded product of the scales, one fma.
__device__ __forceinline__ float dequantize(uint32_t acc, int32_t rowZeroPoint, int32_t columnSum, float rowScale,
                                            float scale, float bias) {
  uint32_t v = acc - static_cast<uint32_t>(rowZeroPoint) * static_cast<uint32_t>(columnSum);
  return __fmaf_rn(static_cast<float>(static_cast<int32_t>(v)), __fmul_rn(rowScale, scale), bias);
}

// xT (k x mPadded) = x (m x k) transposed, zeros in rows past m; 32 x 32 tiles.
__global__ void transposeKernel(const float* x, size_t m, size_t k, size_t mPadded, float* xT) {
  __shared__ float tile[32][33];
  const size_t r0 = static_cast<size_t>(blockIdx.x) * 32, k0 = static_cast<size_t>(blockIdx.y) * 32;
  for (int i = threadIdx.y; i < 32; i += blockDim.y) {
    size_t r = r0 + i, kk = k0 + threadIdx.x;
    tile[i][threadIdx.x] = r < m && kk < k ? x[r * k + kk] : 0.0f;
  }
  __syncthreads();
  for (int i = threadIdx.y; i < 32; i += blockDim.y) {
    size_t kk = k0 + i, r = r0 + threadIdx.x;
    if (kk < k && r < mPadded) xT[kk * mPadded + r] = tile[threadIdx.x][i];
  }
}

struct SparseArgs {
  const unsigned long long* columnStart;
  const uint32_t* index;
  const void* values;
  size_t m, n, mPadded;
  const float* bias;
  float* y;
  // int8
  const int32_t* rowZeroPoint;
  const float* rowScale;
  const int32_t* columnSum;
  const float* scale;
};

__device__ __forceinline__ float biasOf(const SparseArgs& a, size_t j) { return a.bias ? a.bias[j] : 0.0f; }

// Lanes are rows: xT[row * mPadded + i] for the 32 rows i of this block row.
__global__ void floatRowsKernel(SparseArgs a, const float* xT) {
  const size_t j = static_cast<size_t>(blockIdx.x) * kColumnsPerBlock + threadIdx.y;
  if (j >= a.n) return;
  const auto* values = static_cast<const float*>(a.values);
  const size_t begin = a.columnStart[j], end = a.columnStart[j + 1];
  for (size_t block = blockIdx.y; block * 32 < a.m; block += gridDim.y) {
    const size_t i = block * 32 + threadIdx.x;
    float sum = 0.0f;
    for (size_t p = begin; p < end; ++p) sum = __fmaf_rn(values[p], xT[a.index[p] * a.mPadded + i], sum);
    if (i < a.m) a.y[i * a.n + j] = sum + biasOf(a, j);
  }
}

// Lanes split the column's nonzeros for one row of x (row-major, k per row).
__global__ void floatFewRowsKernel(SparseArgs a, const float* x, size_t k) {
  const size_t j = static_cast<size_t>(blockIdx.x) * kColumnsPerBlock + threadIdx.y;
  if (j >= a.n) return;
  const auto* values = static_cast<const float*>(a.values);
  for (size_t i = blockIdx.y; i < a.m; i += gridDim.y) {
    const float* row = x + i * k;
    float sum = 0.0f;
    for (size_t p = a.columnStart[j] + threadIdx.x; p < a.columnStart[j + 1]; p += 32) {
      sum = __fmaf_rn(values[p], row[a.index[p]], sum);
    }
    for (int offset = 16; offset > 0; offset >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    if (threadIdx.x == 0) a.y[i * a.n + j] = sum + biasOf(a, j);
  }
}

// Quantized x as groups of 4 bytes: xq[group * mPadded + i] (rows) or xq[i * groups + group] (few rows).
__global__ void int8RowsKernel(SparseArgs a, const uint32_t* xq) {
  const size_t j = static_cast<size_t>(blockIdx.x) * kColumnsPerBlock + threadIdx.y;
  if (j >= a.n) return;
  const auto* values = static_cast<const uint32_t*>(a.values);
  const size_t begin = a.columnStart[j], end = a.columnStart[j + 1];
  for (size_t block = blockIdx.y; block * 32 < a.m; block += gridDim.y) {
    const size_t i = block * 32 + threadIdx.x;
    uint32_t acc = 0;
    for (size_t p = begin; p < end; ++p) acc = dp4aU8S8(xq[a.index[p] * a.mPadded + i], values[p], acc);
    if (i < a.m) {
      a.y[i * a.n + j] = dequantize(acc, a.rowZeroPoint[i], a.columnSum[j], a.rowScale[i], a.scale[j], biasOf(a, j));
    }
  }
}

__global__ void int8FewRowsKernel(SparseArgs a, const uint32_t* xq, size_t groups) {
  const size_t j = static_cast<size_t>(blockIdx.x) * kColumnsPerBlock + threadIdx.y;
  if (j >= a.n) return;
  const auto* values = static_cast<const uint32_t*>(a.values);
  for (size_t i = blockIdx.y; i < a.m; i += gridDim.y) {
    const uint32_t* row = xq + i * groups;
    uint32_t acc = 0;
    for (size_t p = a.columnStart[j] + threadIdx.x; p < a.columnStart[j + 1]; p += 32) {
      acc = dp4aU8S8(row[a.index[p]], values[p], acc);
    }
    // Integer sums: the order does not change the result.
    for (int offset = 16; offset > 0; offset >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, offset);
    if (threadIdx.x == 0) {
      a.y[i * a.n + j] = dequantize(acc, a.rowZeroPoint[i], a.columnSum[j], a.rowScale[i], a.scale[j], biasOf(a, j));
    }
  }
}

void put(DeviceBuffer& to, const void* from, size_t bytes) {
  to = DeviceBuffer(bytes);
  if (bytes) check(cudaMemcpy(to.as<void>(), from, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (weights)");
}

dim3 gridFor(size_t n, size_t rowBlocks) {
  size_t columnBlocks = (n + kColumnsPerBlock - 1) / kColumnsPerBlock;
  if (columnBlocks > 0x7fffffffu) throw Error("the product is too large for one launch");
  return dim3(static_cast<unsigned>(columnBlocks), static_cast<unsigned>(std::clamp<size_t>(rowBlocks, 1, kMaxGridY)));
}

SparseArgs argsFor(const Weights& w, size_t m, size_t mPadded, const DeviceBuffer& bias, float* y) {
  SparseArgs a = {};
  a.columnStart = w.columnStart.as<unsigned long long>();
  a.index = w.index.as<uint32_t>();
  a.values = w.values.as<void>();
  a.m = m;
  a.n = w.n;
  a.mPadded = mPadded;
  a.bias = bias.as<float>();
  a.y = y;
  a.columnSum = w.columnSum.as<int32_t>();
  a.scale = w.scale.as<float>();
  return a;
}

}  // namespace

std::shared_ptr<const Weights> uploadSparseFloat(const float* w, size_t k, size_t n, bool /*twoFour*/,
                                                 size_t* nonzeros) {
  enterDevice();
  if (k > 0xffffffffu) throw Error("k is too large for the CUDA sparse kernels (32-bit row indices)");
  auto p = std::make_shared<Weights>();
  p->kind = WeightsKind::SparseFloat;
  p->k = k;
  p->n = n;
  std::vector<unsigned long long> columnStart(n + 1, 0);
  for (size_t kk = 0; kk < k; ++kk) {
    for (size_t j = 0; j < n; ++j) columnStart[j + 1] += w[kk * n + j] != 0.0f;
  }
  for (size_t j = 0; j < n; ++j) columnStart[j + 1] += columnStart[j];
  p->entries = columnStart[n];
  std::vector<uint32_t> index(p->entries);
  std::vector<float> values(p->entries);
  std::vector<unsigned long long> next(columnStart.begin(), columnStart.end() - 1);
  for (size_t kk = 0; kk < k; ++kk) {
    for (size_t j = 0; j < n; ++j) {
      float v = w[kk * n + j];
      if (v == 0.0f) continue;
      index[next[j]] = static_cast<uint32_t>(kk);
      values[next[j]++] = v;
    }
  }
  put(p->columnStart, columnStart.data(), columnStart.size() * sizeof(unsigned long long));
  put(p->index, index.data(), index.size() * sizeof(uint32_t));
  put(p->values, values.data(), values.size() * sizeof(float));
  *nonzeros = p->entries;
  return p;
}

std::shared_ptr<const Weights> uploadSparseInt8(const int8_t* w, size_t k, size_t n, bool twoFour,
                                                const float* scales, size_t scaleCount, size_t* nonzeros) {
  size_t count = 0;
  for (size_t i = 0; i < k * n; ++i) count += w[i] != 0;
  *nonzeros = count;
  if (twoFour) return makeDenseInt8(w, k, n, nullptr, 0, scales, scaleCount);
  enterDevice();
  auto p = std::make_shared<Weights>();
  p->kind = WeightsKind::SparseInt8;
  p->k = k;
  p->n = n;
  p->hasScales = scaleCount > 0;
  const size_t groups = (k + 3) / 4;
  std::vector<unsigned long long> columnStart(n + 1, 0);
  std::vector<uint8_t> groupNonzero(n);
  for (size_t g = 0; g < groups; ++g) {
    std::fill(groupNonzero.begin(), groupNonzero.end(), 0);
    for (size_t kk = 4 * g; kk < std::min(k, 4 * g + 4); ++kk) {
      for (size_t j = 0; j < n; ++j) groupNonzero[j] |= w[kk * n + j] != 0;
    }
    for (size_t j = 0; j < n; ++j) columnStart[j + 1] += groupNonzero[j];
  }
  for (size_t j = 0; j < n; ++j) columnStart[j + 1] += columnStart[j];
  p->entries = columnStart[n];
  std::vector<uint32_t> index(p->entries), values(p->entries);
  std::vector<unsigned long long> next(columnStart.begin(), columnStart.end() - 1);
  for (size_t g = 0; g < groups; ++g) {
    for (size_t j = 0; j < n; ++j) {
      uint32_t packed = 0;
      for (size_t q = 0; q < 4 && 4 * g + q < k; ++q) {
        packed |= static_cast<uint32_t>(static_cast<uint8_t>(w[(4 * g + q) * n + j])) << (8 * q);
      }
      if (!packed) continue;
      index[next[j]] = static_cast<uint32_t>(g);
      values[next[j]++] = packed;
    }
  }
  // Wraps like the kernels' int32 arithmetic.
  std::vector<int64_t> sums(n, 0);
  for (size_t kk = 0; kk < k; ++kk) {
    for (size_t j = 0; j < n; ++j) sums[j] += w[kk * n + j];
  }
  std::vector<int32_t> columnSum(n);
  for (size_t j = 0; j < n; ++j) columnSum[j] = static_cast<int32_t>(static_cast<uint32_t>(sums[j]));
  std::vector<float> scale(n, 0.0f);
  for (size_t j = 0; j < n && scaleCount; ++j) scale[j] = scales[scaleCount == 1 ? 0 : j];
  put(p->columnStart, columnStart.data(), columnStart.size() * sizeof(unsigned long long));
  put(p->index, index.data(), index.size() * sizeof(uint32_t));
  put(p->values, values.data(), values.size() * sizeof(uint32_t));
  put(p->columnSum, columnSum.data(), columnSum.size() * sizeof(int32_t));
  put(p->scale, scale.data(), scale.size() * sizeof(float));
  return p;
}

void matmulSparse(const Weights& w, const float* x, size_t m, const float* bias, float* y) {
  if (w.kind != WeightsKind::SparseFloat) throw Error("matmulSparse: the weights are not float32 sparse weights");
  if (m == 0 || w.n == 0) return;
  CallStream stream;
  cudaStream_t s = stream.get();
  DeviceBuffer xDevice = stream.upload(x, m * w.k * sizeof(float));
  DeviceBuffer biasDevice = bias ? stream.upload(bias, w.n * sizeof(float)) : DeviceBuffer();
  DeviceBuffer out(m * w.n * sizeof(float), s);
  DeviceBuffer xT;
  if (m < kFewRows) {
    SparseArgs a = argsFor(w, m, m, biasDevice, out.as<float>());
    floatFewRowsKernel<<<gridFor(w.n, m), dim3(32, kColumnsPerBlock), 0, s>>>(a, xDevice.as<float>(), w.k);
    checkLaunch("floatFewRowsKernel");
  } else {
    const size_t mPadded = roundUp(m, 32);
    xT = DeviceBuffer(w.k * mPadded * sizeof(float), s);
    if (w.k > 0) {
      size_t kBlocks = (w.k + 31) / 32;
      if (kBlocks > kMaxGridY) throw Error("k is too large for the CUDA transpose");
      transposeKernel<<<dim3(static_cast<unsigned>(mPadded / 32), static_cast<unsigned>(kBlocks)), dim3(32, 8), 0, s>>>(
          xDevice.as<float>(), m, w.k, mPadded, xT.as<float>());
      checkLaunch("transposeKernel");
    }
    SparseArgs a = argsFor(w, m, mPadded, biasDevice, out.as<float>());
    floatRowsKernel<<<gridFor(w.n, mPadded / 32), dim3(32, kColumnsPerBlock), 0, s>>>(a, xT.as<float>());
    checkLaunch("floatRowsKernel");
  }
  stream.download(y, out, out.size());
  stream.finish();
}

void linearSparseInt8(const Weights& w, const float* x, size_t m, const float* bias, float* y) {
  if (w.kind == WeightsKind::DenseInt8) {
    linearDense(w, x, m, bias, y);
    return;
  }
  if (w.kind != WeightsKind::SparseInt8) throw Error("linearSparseInt8: the weights are not int8 sparse weights");
  if (!w.hasScales) throw Error("linearSparseInt8: the weights were uploaded without scales");
  if (m == 0 || w.n == 0) return;
  CallStream stream;
  cudaStream_t s = stream.get();
  DeviceBuffer xDevice = stream.upload(x, m * w.k * sizeof(float));
  DeviceBuffer biasDevice = bias ? stream.upload(bias, w.n * sizeof(float)) : DeviceBuffer();
  DeviceBuffer out(m * w.n * sizeof(float), s);
  const size_t groups = (w.k + 3) / 4;
  const bool few = m < kFewRows;
  RowLayout layout;
  layout.kPadded = groups * 4;
  layout.mPadded = few ? m : roundUp(m, 32);
  // Few rows: row-major (a row's groups together); else group-major (a group's rows together).
  layout.rowStride = few ? groups * 4 : 4;
  layout.groupStride = few ? 4 : layout.mPadded * 4;
  Int8Rows rows = quantizeRows(stream, xDevice.as<float>(), m, w.k, layout);
  SparseArgs a = argsFor(w, m, layout.mPadded, biasDevice, out.as<float>());
  a.rowZeroPoint = rows.zeroPoint.as<int32_t>();
  a.rowScale = rows.scale.as<float>();
  if (few) {
    int8FewRowsKernel<<<gridFor(w.n, m), dim3(32, kColumnsPerBlock), 0, s>>>(a, rows.values.as<uint32_t>(), groups);
    checkLaunch("int8FewRowsKernel");
  } else {
    int8RowsKernel<<<gridFor(w.n, layout.mPadded / 32), dim3(32, kColumnsPerBlock), 0, s>>>(a, rows.values.as<uint32_t>());
    checkLaunch("int8RowsKernel");
  }
  stream.download(y, out, out.size());
  stream.finish();
}

}  // namespace onnxforge::cuda
