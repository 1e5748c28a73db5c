// The interface every device implements: packing weights, the int8 and sparse products,
// quantization, and the memory packed weights hold. The CPU backend lives in native/cpu/,
// the CUDA one in native/cuda/ (in a build without CUDA it reports itself unavailable).
// backendFor() is the one place a device is chosen; callers never branch on devices.
//
// Weights remember the backend that packed them, and only that backend runs their products:
// call w.backend.linearInt8(w, ...).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "backend_error.h"
#include "cpu_features.h"
#include "int8_gemm.h"
#include "quantize.h"
#include "sparse_gemm.h"

namespace onnxforge {

class Backend;

// Dense int8 weights B (k x n) as a backend holds them.
struct Int8Weights {
  Int8Weights(const Backend& owner, size_t k, size_t n, IsaLevel isa, bool hasScales)
      : backend(owner), k(k), n(n), isa(isa), hasScales(hasScales) {}
  virtual ~Int8Weights() = default;
  // Bytes held, on the host or the device.
  virtual size_t bytes() const = 0;

  const Backend& backend;
  const size_t k, n;
  const IsaLevel isa;    // the CPU kernels' layout
  const bool hasScales;  // linearInt8 needs them
};

struct SparseShape {
  size_t k = 0, n = 0;
  size_t nonzeros = 0;
  sparse::WeightType type = sparse::WeightType::Float32;
  sparse::SparsePattern pattern = sparse::SparsePattern::Unstructured;
  bool hasScales = false;  // int8: linearSparseInt8 needs them
  double sparsity() const { return sparse::sparsityOf(k, n, nonzeros); }
};

// Pruned weights W (k x n) stored as their nonzeros.
struct SparseWeights {
  SparseWeights(const Backend& owner, const SparseShape& shape) : backend(owner), shape(shape) {}
  virtual ~SparseWeights() = default;
  virtual size_t bytes() const = 0;

  const Backend& backend;
  const SparseShape shape;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // 'cpu' or 'cuda'.
  virtual const char* device() const = 0;
  virtual bool available() const = 0;
  // Why the backend is not available ("" when it is).
  virtual std::string unavailableReason() const = 0;

  // B (k x n, row-major). Counts in options are 0, 1 or n (checked by the caller).
  virtual std::unique_ptr<Int8Weights> packInt8(const int8_t* b, size_t k, size_t n,
                                                const int8::WeightOptions& options) const = 0;
  // ONNX MatMulInteger: c (m x n) = (A - aZeroPoint)(B - bZeroPoint), exact int32. a: m x k
  // bytes, uint8 or int8 (isSigned); aZeroPoints: nullptr, or 1 or m values of A's type.
  virtual void matmulInteger(const Int8Weights& w, const uint8_t* a, bool isSigned, size_t m,
                             const void* aZeroPoints, size_t zeroPointCount, int32_t* c) const = 0;
  // Dynamic-quantized Linear: x (m x k) quantized per row to uint8, exact int32 product,
  // dequantized with w's scales (w.hasScales), plus bias (n values or nullptr).
  virtual void linearInt8(const Int8Weights& w, const float* x, size_t m, const float* bias, float* y) const = 0;

  // W (k x n, row-major float32 or int8 as `type` says; a 2:4 pattern is checked by the caller).
  // scales: int8 only, nullptr or 1 or n values.
  virtual std::unique_ptr<SparseWeights> packSparse(const void* w, sparse::WeightType type, size_t k, size_t n,
                                                    sparse::SparsePattern pattern, const float* scales,
                                                    size_t scaleCount) const = 0;
  // y (m x n) = x (m x k) * W + bias, for float32 W.
  virtual void matmulSparse(const SparseWeights& w, const float* x, size_t m, const float* bias, float* y) const = 0;
  // linearInt8 for int8 W with scales, bit-identical to linearInt8 on the same weights.
  virtual void linearSparseInt8(const SparseWeights& w, const float* x, size_t m, const float* bias,
                                float* y) const = 0;

  // ONNX QuantizeLinear / DequantizeLinear and the choice of parameters (quantize.h), on host
  // arrays in and out: the CPU kernels, unless a backend has a faster way.
  virtual void quantize(const float* x, const quant::AxisLayout& layout, const float* scales,
                        const int32_t* zeroPoints, quant::QuantType type, uint8_t* y) const;
  virtual void dequantize(const void* q, quant::QuantType type, const quant::AxisLayout& layout, const float* scales,
                          const int32_t* zeroPoints, float* y) const;
  virtual size_t quantParams(const float* x, const quant::AxisLayout& layout, bool symmetric, quant::QuantType type,
                             float* scales, int32_t* zeroPoints) const;
};

enum class DeviceRequest { Cpu, Cuda, Auto };

// 'cpu', 'cuda' or 'auto'; false for anything else.
bool parseDeviceRequest(const std::string& name, DeviceRequest* out);

// The backend for a request: Cpu the CPU; Auto the GPU when it is available, else the CPU;
// Cuda the GPU, or BackendError("CUDA is not available: <reason>").
const Backend& backendFor(DeviceRequest request);

const Backend& cpuBackend();
// Always defined; unavailable in a build without CUDA or on a machine without a GPU.
const Backend& cudaBackend();

}  // namespace onnxforge
