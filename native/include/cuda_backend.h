// The CUDA backend's functions: plain C++, no CUDA headers. Built from native/cuda/*.cu
// when CMake finds nvcc; otherwise native/cuda/backend_stub.cc provides the same functions,
// which report CUDA as unavailable. native/cuda/cuda_backend.cc puts them behind the
// Backend interface (backend.h), which is how the rest of the addon reaches them.
//
// Weights are uploaded once (upload*) and stay on the GPU; each product copies only
// its inputs in and its output out, on a stream of its own, and returns when the
// output is on the host. Errors are thrown as cuda::Error.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend_error.h"

namespace onnxforge::cuda {

class Error : public BackendError {
 public:
  using BackendError::BackendError;
};

struct Status {
  bool compiled = false;   // this build has CUDA kernels
  bool available = false;  // and a GPU they can run on
  std::string reason;      // why not, when !available
  int runtimeVersion = 0;  // e.g. 13000; 0 when not compiled
  int driverVersion = 0;   // 0 when no driver is installed
  std::string architectures;  // what the kernels were compiled for, e.g. "75-real;...;90"
  int device = -1;         // the GPU the kernels run on (the first visible one)
};

// Probed once per process, on first use (it creates the CUDA context); never throws.
// ONNXFORGE_CUDA=0|off|false in the environment makes CUDA unavailable.
const Status& status();
inline bool available() { return status().available; }

struct DeviceInfo {
  int index = 0;
  std::string name;
  int major = 0, minor = 0;
  size_t totalMemory = 0;
  int multiprocessors = 0;
  int clockKHz = 0;  // peak SM clock
};

// Visible GPUs; empty without CUDA, a driver or a GPU. Never throws.
std::vector<DeviceInfo> devices();

// Which int8 GEMM kernel runs: tensor cores (mma.sync, sm_80+) or dp4a. Auto picks by
// compute capability; the others exist so tests cover both paths on one GPU.
enum class Int8Kernel { Auto, Mma, Dp4a };
void setInt8Kernel(Int8Kernel kernel);
// The kernel that runs for the current setting on the active GPU: "mma", "dp4a" or "none".
const char* int8KernelName();

// Weights resident on the GPU (opaque outside native/cuda).
struct Weights;
// GPU bytes held.
size_t deviceBytes(const Weights& w);

// B (k x n, row-major int8) for matmulInteger/linearInt8. zeroPoints: 0, 1 or n values;
// scales: 0, 1 or n values (linearInt8 needs them).
std::shared_ptr<const Weights> uploadInt8(const int8_t* b, size_t k, size_t n, const int8_t* zeroPoints,
                                          size_t zeroPointCount, const float* scales, size_t scaleCount);

// Sparse W (k x n, row-major, y = x * W) keeping its nonzeros. Float32 runs a CSC SpMM
// (2:4 included); int8 unstructured runs a CSC dp4a SpMM, int8 2:4 runs the dense int8
// GEMM on decompressed tiles (sparse tensor cores, mma.sp, are not used). Sets *nonzeros.
std::shared_ptr<const Weights> uploadSparseFloat(const float* w, size_t k, size_t n, bool twoFour,
                                                 size_t* nonzeros);
std::shared_ptr<const Weights> uploadSparseInt8(const int8_t* w, size_t k, size_t n, bool twoFour,
                                                const float* scales, size_t scaleCount, size_t* nonzeros);

// ONNX MatMulInteger: c (m x n) = (A - aZeroPoint)(B - bZeroPoint), exact int32 (wrapping
// like the CPU kernels). a: m x w.k bytes, uint8 or int8 (isSigned); aZeroPoints: nullptr,
// or 1 or m values of A's type.
void matmulInteger(const Weights& w, const uint8_t* a, bool isSigned, size_t m, const void* aZeroPoints,
                   size_t zeroPointCount, int32_t* c);
// Dynamic-quantized Linear, bit-identical to the CPU's linearInt8: x (m x k) quantized
// per row to uint8, exact int32 product, dequantized with w's scales, plus bias (n or nullptr).
void linearInt8(const Weights& w, const float* x, size_t m, const float* bias, float* y);
// y = x * W + bias for float32 sparse W.
void matmulSparse(const Weights& w, const float* x, size_t m, const float* bias, float* y);
// linearInt8 for int8 sparse W (bit-identical to the CPU's linearSparseInt8).
void linearSparseInt8(const Weights& w, const float* x, size_t m, const float* bias, float* y);

// Sustained int8 ops per second (2 per multiply-add) of the int8 GEMM kernel in use on
// a square product of side `size`, best of `runs` (for the benchmark).
double measureInt8OpsPerSecond(size_t size, int runs);

}  // namespace onnxforge::cuda
