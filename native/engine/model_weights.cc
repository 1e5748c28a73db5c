#include "model_weights.h"

namespace onnxforge::engine {

const char* linearKindName(LinearKind kind) {
  switch (kind) {
    case LinearKind::Dense: return "dense";
    case LinearKind::Sparse: return "sparse";
    case LinearKind::Int8: return "int8";
    case LinearKind::SparseInt8: return "sparse-int8";
  }
  return "dense";
}

size_t LinearWeights::bytes() const {
  if (dense) return denseBytes(*dense);
  if (int8) return int8->bytes();
  if (sparse) return sparse->bytes();
  return 0;
}

size_t ModelWeights::packedBytes() const {
  size_t total = 0;
  for (const LinearWeights& l : linears) total += l.bytes();
  return total;
}

}  // namespace onnxforge::engine
