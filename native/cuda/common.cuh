// Shared by the .cu files: error checks, device memory, per-call streams, the
// layout of uploaded weights, and the int8 pieces the sparse products reuse.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "cuda_backend.h"

namespace onnxforge::cuda {

[[noreturn]] void fail(cudaError_t error, const char* what);

inline void check(cudaError_t error, const char* what) {
  if (error != cudaSuccess) fail(error, what);
}

inline size_t roundUp(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// Device memory freed on destruction; `stream` set: stream-ordered (cudaMallocAsync).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(size_t bytes, cudaStream_t stream = nullptr);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept { *this = std::move(other); }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  template <typename T>
  T* as() const { return static_cast<T*>(data_); }
  size_t size() const { return size_; }

 private:
  void release();
  void* data_ = nullptr;
  size_t size_ = 0;
  cudaStream_t stream_ = nullptr;
  bool async_ = false;
};

// One call's stream on the backend's GPU: created on entry, synchronized and destroyed on exit.
class CallStream {
 public:
  CallStream();
  ~CallStream();
  CallStream(const CallStream&) = delete;
  CallStream& operator=(const CallStream&) = delete;
  cudaStream_t get() const { return stream_; }
  // Copies bytes to a new stream-ordered device buffer (host memory may be pageable).
  DeviceBuffer upload(const void* host, size_t bytes);
  void download(void* host, const DeviceBuffer& from, size_t bytes);
  // Waits for the work queued so far; throws on an asynchronous kernel error.
  void finish();

 private:
  cudaStream_t stream_ = nullptr;
};

// Throws when CUDA is unavailable; makes the backend's GPU current on this thread.
void enterDevice();
void checkLaunch(const char* kernel);

enum class WeightsKind { DenseInt8, SparseFloat, SparseInt8 };

struct Weights {
  WeightsKind kind = WeightsKind::DenseInt8;
  size_t k = 0, n = 0;
  // DenseInt8: B transposed (nPadded x kPadded, zero padded), per padded column: zero
  // point, sum over k of (B - zero point) and scale (0 without scales).
  size_t kPadded = 0, nPadded = 0;
  bool hasScales = false;
  DeviceBuffer bT, zeroPoint, columnSum, scale;
  // Sparse: compressed columns. Float: a row index and a value per nonzero. Int8: a group
  // index (rows 4g..4g+3) and the group's 4 int8 values per group holding a nonzero.
  size_t entries = 0;
  DeviceBuffer columnStart, index, values;  // columnStart: n + 1 uint64 offsets

  size_t bytes() const {
    return bT.size() + zeroPoint.size() + columnSum.size() + scale.size() + columnStart.size() + index.size() +
           values.size();
  }
};

// Rows of activations as the int8 GEMM reads them: mPadded x kPadded bytes (uint8, int8
// A flipped to uint8 by +128), with per-row sums, zero points and (linear) scales.
struct Int8Rows {
  size_t m = 0, mPadded = 0;
  DeviceBuffer values, rowSum, zeroPoint, scale;
};

// Where quantizeRows writes element (row i, column kk): (kk / 4) * groupStride +
// i * rowStride + kk % 4 bytes; kPadded columns (zeros past k), mPadded rows (zeros past m).
struct RowLayout {
  size_t kPadded = 0, mPadded = 0;
  size_t rowStride = 0, groupStride = 0;
};

// x (m x k floats on the device) quantized per row as the CPU's linearInt8 does.
Int8Rows quantizeRows(CallStream& stream, const float* x, size_t m, size_t k, const RowLayout& layout);
// The int8 GEMM on dense weights with its epilogue: int32 (c) or float (y, with bias).
void runInt8Gemm(CallStream& stream, const Weights& w, const Int8Rows& a, int32_t* c, float* y, const float* bias);
// The dense int8 weights of B (k x n), zero points and scales as given (counts 0, 1 or n).
std::shared_ptr<Weights> makeDenseInt8(const int8_t* b, size_t k, size_t n, const int8_t* zeroPoints,
                                       size_t zeroPointCount, const float* scales, size_t scaleCount);
// linearInt8 on dense int8 weights (also the route of int8 2:4 sparse weights).
void linearDense(const Weights& w, const float* x, size_t m, const float* bias, float* y);

// Rows per GEMM tile: activation rows are padded to this.
constexpr size_t kGemmTileM = 64;
constexpr size_t kGemmTileN = 64;
constexpr size_t kGemmTileK = 64;

}  // namespace onnxforge::cuda
