// The CPU backend: the kernels of int8_gemm.h and sparse_gemm.h on host memory.
#include <memory>
#include <utility>

#include "backend.h"

namespace onnxforge {
namespace {

struct CpuInt8Weights final : Int8Weights {
  CpuInt8Weights(const Backend& owner, std::unique_ptr<int8::PackedWeights> w)
      : Int8Weights(owner, w->k, w->n, w->isa, !w->scale.empty()), packed(std::move(w)) {}
  size_t bytes() const override { return packed->bytes(); }
  const std::unique_ptr<const int8::PackedWeights> packed;
};

SparseShape shapeOf(const sparse::PackedSparse& w) {
  SparseShape shape;
  shape.k = w.k;
  shape.n = w.n;
  shape.nonzeros = w.nonzeros;
  shape.type = w.type;
  shape.pattern = w.pattern;
  shape.hasScales = !w.scale.empty();
  return shape;
}

struct CpuSparseWeights final : SparseWeights {
  CpuSparseWeights(const Backend& owner, std::unique_ptr<sparse::PackedSparse> w)
      : SparseWeights(owner, shapeOf(*w)), packed(std::move(w)) {}
  size_t bytes() const override { return packed->bytes(); }
  const std::unique_ptr<const sparse::PackedSparse> packed;
};

// Weights reach a backend's products only through w.backend, so they are this backend's.
const int8::PackedWeights& packedOf(const Int8Weights& w) { return *static_cast<const CpuInt8Weights&>(w).packed; }
const sparse::PackedSparse& packedOf(const SparseWeights& w) {
  return *static_cast<const CpuSparseWeights&>(w).packed;
}

class CpuBackend final : public Backend {
 public:
  const char* device() const override { return "cpu"; }
  bool available() const override { return true; }
  std::string unavailableReason() const override { return ""; }

  std::unique_ptr<Int8Weights> packInt8(const int8_t* b, size_t k, size_t n,
                                        const int8::WeightOptions& options) const override {
    return std::make_unique<CpuInt8Weights>(*this, int8::packWeights(b, k, n, options));
  }

  void matmulInteger(const Int8Weights& w, const uint8_t* a, bool isSigned, size_t m, const void* aZeroPoints,
                     size_t zeroPointCount, int32_t* c) const override {
    const int8::PackedWeights& packed = packedOf(w);
    int8::PackedActivations rows = int8::packActivations(a, isSigned, m, w.k, aZeroPoints, zeroPointCount, packed);
    int8::gemmInt32(rows, packed, c);
  }

  void linearInt8(const Int8Weights& w, const float* x, size_t m, const float* bias, float* y) const override {
    const int8::PackedWeights& packed = packedOf(w);
    int8::gemmFloat(int8::quantizeActivations(x, m, w.k, packed), packed, bias, y);
  }

  std::unique_ptr<SparseWeights> packSparse(const void* w, sparse::WeightType type, size_t k, size_t n,
                                            sparse::SparsePattern pattern, const float* scales,
                                            size_t scaleCount) const override {
    auto packed = type == sparse::WeightType::Float32
                      ? sparse::packFloat(static_cast<const float*>(w), k, n, pattern)
                      : sparse::packInt8(static_cast<const int8_t*>(w), k, n, pattern, scales, scaleCount);
    return std::make_unique<CpuSparseWeights>(*this, std::move(packed));
  }

  void matmulSparse(const SparseWeights& w, const float* x, size_t m, const float* bias, float* y) const override {
    sparse::matmulFloat(x, m, packedOf(w), bias, y);
  }

  void linearSparseInt8(const SparseWeights& w, const float* x, size_t m, const float* bias,
                        float* y) const override {
    sparse::linearInt8(x, m, packedOf(w), bias, y);
  }
};

}  // namespace

const Backend& cpuBackend() {
  static const CpuBackend backend;
  return backend;
}

}  // namespace onnxforge
