// What a model's sessions share: its constants (viewed in place, owned by the JS side)
// and its linear layers, packed once for the kernel chosen per layer.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dtype.h"
#include "float_kernels.h"
#include "int8_gemm.h"
#include "sparse_gemm.h"

namespace onnxforge::engine {

struct ConstantView {
  const void* data = nullptr;
  DType dtype = DType::Float32;
  size_t count = 0;
  size_t bytes() const { return count * dtypeSize(dtype); }
};

// dense: float32 GEMM on packed weights; sparse: float32 sparse GEMM; int8 / sparseInt8:
// int8 weights times activations quantized at run time.
enum class LinearKind { Dense, Sparse, Int8, SparseInt8 };
const char* linearKindName(LinearKind kind);

struct LinearWeights {
  LinearKind kind = LinearKind::Dense;
  size_t k = 0, n = 0;
  double sparsity = 0;  // fraction of zero weights, as measured at pack time
  std::unique_ptr<DenseWeights, DenseWeightsDeleter> dense;
  std::unique_ptr<int8::PackedWeights> int8;
  std::unique_ptr<sparse::PackedSparse> sparse;
  size_t bytes() const;
};

class ModelWeights {
 public:
  std::vector<ConstantView> constants;
  std::vector<LinearWeights> linears;
  size_t packedBytes() const;
};

}  // namespace onnxforge::engine
