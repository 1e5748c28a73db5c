// MatMul of two activations (no packed weights): a [batch..., m, k] x b [batch..., k, n] with
// broadcast batch axes. ints = [m, k, n, batchRank, batchDims[r], aBatchStrides[r], bBatchStrides[r]]
// (strides in elements, 0 along broadcast axes); the output is contiguous [batch..., m, n].
#include "../float_kernels.h"
#include "../op_kernel.h"

namespace onnxforge::engine {
namespace {

constexpr size_t kMaxBatchRank = 6;

struct MatMulShape {
  size_t m = 0, k = 0, n = 0, rank = 0, batches = 1;
  size_t dims[kMaxBatchRank] = {};
  size_t aStrides[kMaxBatchRank] = {}, bStrides[kMaxBatchRank] = {};
  size_t offset(const size_t* strides, size_t batch) const {
    size_t off = 0;
    for (size_t d = rank; d-- > 0;) {
      off += (batch % dims[d]) * strides[d];
      batch /= dims[d];
    }
    return off;
  }
};

MatMulShape matmulShape(const Step& step) {
  MatMulShape s;
  s.m = static_cast<size_t>(step.ints[0]);
  s.k = static_cast<size_t>(step.ints[1]);
  s.n = static_cast<size_t>(step.ints[2]);
  s.rank = static_cast<size_t>(step.ints[3]);
  for (size_t d = 0; d < s.rank; ++d) {
    s.dims[d] = static_cast<size_t>(step.ints[4 + d]);
    s.aStrides[d] = static_cast<size_t>(step.ints[4 + s.rank + d]);
    s.bStrides[d] = static_cast<size_t>(step.ints[4 + 2 * s.rank + d]);
    s.batches *= s.dims[d];
  }
  return s;
}

void checkMatMul(const Step& step, const Plan& plan) {
  requireArity(step, 2, 2, 1);
  const size_t rank = sizeParam(step, 3);
  if (rank > kMaxBatchRank) planError(step, "more than " + std::to_string(kMaxBatchRank) + " batch axes");
  requireInts(step, 4 + 3 * rank);
  for (size_t i = 0; i < 4 + 3 * rank; ++i) sizeParam(step, i);
  const size_t m = sizeParam(step, 0), k = sizeParam(step, 1), n = sizeParam(step, 2);
  const size_t batches = productParam(step, 4, rank);
  const ValueSlot& a = valueOf(step, plan, step.inputs[0], "a");
  const ValueSlot& b = valueOf(step, plan, step.inputs[1], "b");
  const ValueSlot& y = valueOf(step, plan, step.outputs[0], "y");
  for (const ValueSlot* v : {&a, &b, &y}) requireDType(step, *v, DType::Float32, "operand");
  requireCount(step, y, mulParam(step, batches, mulParam(step, m, n)), "y");
  if (batches == 0) return;
  MatMulShape s = matmulShape(step);
  size_t aReach = mulParam(step, m, k), bReach = mulParam(step, k, n);
  for (size_t d = 0; d < rank; ++d) {
    aReach = mulParam(step, 1, aReach + mulParam(step, s.dims[d] - 1, s.aStrides[d]));
    bReach = mulParam(step, 1, bReach + mulParam(step, s.dims[d] - 1, s.bStrides[d]));
  }
  if (aReach > a.count) planError(step, "a is smaller than its batches reach");
  if (bReach > b.count) planError(step, "b is smaller than its batches reach");
}

void runMatMul(const Step& step, RunState& state) {
  const MatMulShape s = matmulShape(step);
  const float* a = state.at<float>(step.inputs[0]);
  const float* b = state.at<float>(step.inputs[1]);
  float* y = state.at<float>(step.outputs[0]);
  if (s.batches == 0 || s.m == 0 || s.n == 0) return;
  auto one = [&](size_t batch, bool parallel) {
    const float* pa = a + s.offset(s.aStrides, batch);
    const float* pb = b + s.offset(s.bStrides, batch);
    float* py = y + batch * s.m * s.n;
    if (parallel) gemmParallel(s.m, s.n, s.k, 1.0f, pa, s.k, false, pb, s.n, false, 0.0f, py, s.n);
    else gemmSerial(s.m, s.n, s.k, 1.0f, pa, s.k, false, pb, s.n, false, 0.0f, py, s.n);
  };
  if (s.batches == 1) {
    one(0, true);
    return;
  }
  parallelRange(s.batches, static_cast<double>(s.m) * s.n * s.k, [&](size_t b0, size_t b1) {
    for (size_t batch = b0; batch < b1; ++batch) one(batch, false);
  });
}

}  // namespace

extern const OpKernel kMatMulKernel{checkMatMul, runMatMul};

}  // namespace onnxforge::engine
