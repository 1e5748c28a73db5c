// Linear: y = activation(x * W + bias) on the layer's packed weights, whichever kernel the
// layer was packed for (dense float32, sparse float32, int8, sparse int8). The int8 kinds
// quantize x as one tensor, as the DynamicQuantizeLinear they replace does.
#include <cstring>
#include <vector>

#include "../float_kernels.h"
#include "../op_kernel.h"
#include "dynamic_quant.h"
#include "linear_rows.h"

namespace onnxforge::engine {
namespace {

// ints = [m, k, n, activation, lda]; inputs x (m rows of k, lda apart), bias (n values, or -1).
void checkLinear(const Step& step, const Plan& plan) {
  requireArity(step, 1, 2, 1);
  requireInts(step, 5);
  const size_t m = sizeParam(step, 0), k = sizeParam(step, 1), n = sizeParam(step, 2), lda = sizeParam(step, 4);
  if (lda < k) planError(step, "row stride is shorter than a row");
  if (step.ints[3] < 0 || step.ints[3] >= static_cast<int64_t>(Activation::Count)) planError(step, "unknown activation");
  if (step.linear < 0 || static_cast<size_t>(step.linear) >= plan.weights->linears.size()) {
    planError(step, "refers to linear layer " + std::to_string(step.linear) + ", which the model does not have");
  }
  const LinearWeights& w = plan.weights->linears[static_cast<size_t>(step.linear)];
  if (w.k != k || w.n != n) {
    planError(step, "is " + std::to_string(k) + " x " + std::to_string(n) + " but its layer is " + std::to_string(w.k) +
                        " x " + std::to_string(w.n));
  }
  const ValueSlot& x = valueOf(step, plan, step.inputs[0], "x");
  requireDType(step, x, DType::Float32, "x");
  if (m > 0 && x.count < mulParam(step, 1, mulParam(step, m - 1, lda) + k)) planError(step, "x is smaller than its rows reach");
  if (step.inputs.size() == 2 && step.inputs[1] >= 0) {
    const ValueSlot& bias = valueOf(step, plan, step.inputs[1], "bias");
    requireDType(step, bias, DType::Float32, "bias");
    requireCount(step, bias, n, "bias");
  }
  const ValueSlot& y = valueOf(step, plan, step.outputs[0], "y");
  requireDType(step, y, DType::Float32, "y");
  requireCount(step, y, mulParam(step, m, n), "y");
}

std::vector<uint8_t>& quantizedScratch(size_t bytes) {
  thread_local std::vector<uint8_t> scratch;
  if (scratch.size() < bytes) scratch.resize(bytes);
  return scratch;
}

void int8Linear(const LinearWeights& w, const float* x, size_t m, const float* bias, float* y) {
  std::vector<uint8_t>& q = quantizedScratch(m * w.k);
  TensorQuantization tq = dynamicQuantize(x, m * w.k, q.data());
  if (w.kind == LinearKind::Int8) {
    int8::PackedActivations a = int8::packActivations(q.data(), false, m, w.k, &tq.zeroPoint, 1, *w.int8);
    a.scale.assign(a.rowsPadded, tq.scale);
    int8::gemmFloat(a, *w.int8, bias, y);
    return;
  }
  int8::QuantizedRows rows;
  rows.m = m;
  rows.k = w.k;
  rows.values.assign(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(m * w.k));
  rows.zeroPoint.assign(m, tq.zeroPoint);
  rows.scale.assign(m, tq.scale);
  sparse::linearInt8Rows(rows, *w.sparse, bias, y);
}

void runLinear(const Step& step, RunState& state) {
  const size_t m = static_cast<size_t>(step.ints[0]);
  const LinearWeights& w = state.plan.weights->linears[static_cast<size_t>(step.linear)];
  linearRows(w, state.at<float>(step.inputs[0]), m, static_cast<size_t>(step.ints[4]),
             step.inputs.size() == 2 ? state.at<float>(step.inputs[1]) : nullptr, static_cast<Activation>(step.ints[3]),
             state.at<float>(step.outputs[0]));
}

}  // namespace

void linearRows(const LinearWeights& w, const float* x, size_t m, size_t lda, const float* bias, Activation activation,
                float* y) {
  const size_t n = w.n;
  if (m == 0 || n == 0) return;
  std::vector<float> rows;
  if (lda != w.k && w.kind != LinearKind::Dense) {
    // Only the dense kernel reads strided rows; the others get them packed together.
    rows.resize(m * w.k);
    for (size_t i = 0; i < m; ++i) std::memcpy(rows.data() + i * w.k, x + i * lda, w.k * sizeof(float));
    x = rows.data();
  }
  if (w.k == 0) {
    for (size_t i = 0; i < m; ++i) {
      if (bias) std::memcpy(y + i * n, bias, n * sizeof(float));
      else std::memset(y + i * n, 0, n * sizeof(float));
    }
    applyActivation(activation, y, m * n);
    return;
  }
  switch (w.kind) {
    case LinearKind::Dense: denseLinear(x, m, lda, *w.dense, bias, activation, y); return;
    case LinearKind::Sparse: sparse::matmulFloat(x, m, *w.sparse, bias, y); break;
    case LinearKind::Int8: case LinearKind::SparseInt8: int8Linear(w, x, m, bias, y); break;
  }
  if (activation != Activation::None) {
    parallelRange(m, static_cast<double>(n) * 8, [&](size_t r0, size_t r1) {
      applyActivation(activation, y + r0 * n, (r1 - r0) * n);
    });
  }
}

void quantizedLinearRows(const LinearWeights& w, const uint8_t* x, bool isSigned, size_t m, size_t lda, float scale,
                         int32_t zeroPoint, const float* bias, Activation activation, float* y) {
  const size_t n = w.n;
  if (m == 0 || n == 0) return;
  std::vector<uint8_t> rows;
  if (lda != w.k || w.kind == LinearKind::SparseInt8) {
    // Packed together, and for the sparse kernels moved to uint8 (their rows are unsigned).
    rows.resize(m * w.k);
    const uint8_t flip = isSigned && w.kind == LinearKind::SparseInt8 ? 0x80 : 0;
    for (size_t i = 0; i < m; ++i)
      for (size_t kk = 0; kk < w.k; ++kk) rows[i * w.k + kk] = static_cast<uint8_t>(x[i * lda + kk] ^ flip);
    x = rows.data();
  }
  if (w.kind == LinearKind::Int8) {
    const int8_t signedZero = static_cast<int8_t>(zeroPoint);
    const uint8_t unsignedZero = static_cast<uint8_t>(zeroPoint);
    int8::PackedActivations a = int8::packActivations(x, isSigned, m, w.k,
                                                      isSigned ? static_cast<const void*>(&signedZero) : &unsignedZero, 1, *w.int8);
    a.scale.assign(a.rowsPadded, scale);
    int8::gemmFloat(a, *w.int8, bias, y);
  } else {
    int8::QuantizedRows q;
    q.m = m;
    q.k = w.k;
    q.values.assign(x, x + m * w.k);
    q.zeroPoint.assign(m, isSigned ? zeroPoint + 128 : zeroPoint);
    q.scale.assign(m, scale);
    sparse::linearInt8Rows(q, *w.sparse, bias, y);
  }
  if (activation != Activation::None) {
    parallelRange(m, static_cast<double>(n) * 8, [&](size_t r0, size_t r1) {
      applyActivation(activation, y + r0 * n, (r1 - r0) * n);
    });
  }
}

extern const OpKernel kLinearKernel{checkLinear, runLinear};

}  // namespace onnxforge::engine
