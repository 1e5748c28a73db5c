// The CUDA backend: the Backend interface over cuda_backend.h's functions (native/cuda/*.cu,
// or backend_stub.cc in a build without CUDA, where it is never available).
#include <memory>
#include <utility>

#include "backend.h"
#include "cuda_backend.h"

namespace onnxforge {
namespace {

struct CudaInt8Weights final : Int8Weights {
  CudaInt8Weights(const Backend& owner, size_t k, size_t n, bool hasScales, std::shared_ptr<const cuda::Weights> w)
      : Int8Weights(owner, k, n, int8::int8Isa(), hasScales), gpu(std::move(w)) {}
  size_t bytes() const override { return cuda::deviceBytes(*gpu); }
  const std::shared_ptr<const cuda::Weights> gpu;
};

struct CudaSparseWeights final : SparseWeights {
  CudaSparseWeights(const Backend& owner, const SparseShape& shape, std::shared_ptr<const cuda::Weights> w)
      : SparseWeights(owner, shape), gpu(std::move(w)) {}
  size_t bytes() const override { return cuda::deviceBytes(*gpu); }
  const std::shared_ptr<const cuda::Weights> gpu;
};

// Weights reach a backend's products only through w.backend, so they are this backend's.
const cuda::Weights& gpuOf(const Int8Weights& w) { return *static_cast<const CudaInt8Weights&>(w).gpu; }
const cuda::Weights& gpuOf(const SparseWeights& w) { return *static_cast<const CudaSparseWeights&>(w).gpu; }

class CudaBackend final : public Backend {
 public:
  const char* device() const override { return "cuda"; }
  bool available() const override { return cuda::available(); }
  std::string unavailableReason() const override { return cuda::available() ? "" : cuda::status().reason; }

  std::unique_ptr<Int8Weights> packInt8(const int8_t* b, size_t k, size_t n,
                                        const int8::WeightOptions& options) const override {
    auto gpu = cuda::uploadInt8(b, k, n, options.zeroPoints, options.zeroPointCount, options.scales,
                                options.scaleCount);
    return std::make_unique<CudaInt8Weights>(*this, k, n, options.scaleCount > 0, std::move(gpu));
  }

  void matmulInteger(const Int8Weights& w, const uint8_t* a, bool isSigned, size_t m, const void* aZeroPoints,
                     size_t zeroPointCount, int32_t* c) const override {
    cuda::matmulInteger(gpuOf(w), a, isSigned, m, aZeroPoints, zeroPointCount, c);
  }

  void linearInt8(const Int8Weights& w, const float* x, size_t m, const float* bias, float* y) const override {
    cuda::linearInt8(gpuOf(w), x, m, bias, y);
  }

  std::unique_ptr<SparseWeights> packSparse(const void* w, sparse::WeightType type, size_t k, size_t n,
                                            sparse::SparsePattern pattern, const float* scales,
                                            size_t scaleCount) const override {
    SparseShape shape;
    shape.k = k;
    shape.n = n;
    shape.type = type;
    shape.pattern = pattern;
    shape.hasScales = scaleCount > 0;
    bool twoFour = pattern == sparse::SparsePattern::TwoFour;
    auto gpu = type == sparse::WeightType::Float32
                   ? cuda::uploadSparseFloat(static_cast<const float*>(w), k, n, twoFour, &shape.nonzeros)
                   : cuda::uploadSparseInt8(static_cast<const int8_t*>(w), k, n, twoFour, scales, scaleCount,
                                            &shape.nonzeros);
    return std::make_unique<CudaSparseWeights>(*this, shape, std::move(gpu));
  }

  void matmulSparse(const SparseWeights& w, const float* x, size_t m, const float* bias, float* y) const override {
    cuda::matmulSparse(gpuOf(w), x, m, bias, y);
  }

  void linearSparseInt8(const SparseWeights& w, const float* x, size_t m, const float* bias,
                        float* y) const override {
    cuda::linearSparseInt8(gpuOf(w), x, m, bias, y);
  }
};

}  // namespace

const Backend& cudaBackend() {
  static const CudaBackend backend;
  return backend;
}

}  // namespace onnxforge
