// Row-wise steps: Softmax / LogSoftmax, LayerNorm and reductions.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../float_kernels.h"
#include "../op_kernel.h"

namespace onnxforge::engine {
namespace {

// --- Softmax: ints = [outer, n, inner, logarithm]; the axis of length n has stride `inner`.
void checkSoftmax(const Step& step, const Plan& plan) {
  requireArity(step, 1, 1, 1);
  const ValueSlot& in = valueOf(step, plan, step.inputs[0], "input");
  const ValueSlot& out = valueOf(step, plan, step.outputs[0], "output");
  requireDType(step, in, DType::Float32, "input");
  requireDType(step, out, DType::Float32, "output");
  requireInts(step, 4);
  requireCount(step, in, productParam(step, 0, 3), "input");
  requireCount(step, out, in.count, "output");
}

void runSoftmax(const Step& step, RunState& state) {
  const size_t outer = static_cast<size_t>(step.ints[0]), n = static_cast<size_t>(step.ints[1]);
  const size_t inner = static_cast<size_t>(step.ints[2]);
  const bool logarithm = step.ints[3] != 0;
  const float* x = state.at<float>(step.inputs[0]);
  float* y = state.at<float>(step.outputs[0]);
  if (n == 0) return;
  parallelRange(outer * inner, static_cast<double>(n) * 8, [&](size_t r0, size_t r1) {
    std::vector<float> row(inner == 1 ? 0 : n), result(inner == 1 ? 0 : n);
    for (size_t r = r0; r < r1; ++r) {
      const size_t o = r / inner, i = r % inner;
      const float* src = x + o * n * inner + i;
      float* dst = y + o * n * inner + i;
      if (inner == 1) {
        softmaxRow(src, dst, n, logarithm);
        continue;
      }
      for (size_t j = 0; j < n; ++j) row[j] = src[j * inner];
      softmaxRow(row.data(), result.data(), n, logarithm);
      for (size_t j = 0; j < n; ++j) dst[j * inner] = result[j];
    }
  });
}

// --- LayerNorm: inputs x (rows x cols), gamma (cols), beta (cols, optional);
// ints = [rows, cols]; floats = [epsilon].
void checkLayerNorm(const Step& step, const Plan& plan) {
  requireArity(step, 2, 3, 1);
  requireInts(step, 2);
  requireFloats(step, 1);
  const size_t rows = sizeParam(step, 0), cols = sizeParam(step, 1);
  const ValueSlot& x = valueOf(step, plan, step.inputs[0], "x");
  requireDType(step, x, DType::Float32, "x");
  requireCount(step, x, mulParam(step, rows, cols), "x");
  const ValueSlot& gamma = valueOf(step, plan, step.inputs[1], "gamma");
  requireDType(step, gamma, DType::Float32, "gamma");
  requireCount(step, gamma, cols, "gamma");
  if (step.inputs.size() == 3 && step.inputs[2] >= 0) {
    const ValueSlot& beta = valueOf(step, plan, step.inputs[2], "beta");
    requireDType(step, beta, DType::Float32, "beta");
    requireCount(step, beta, cols, "beta");
  }
  const ValueSlot& out = valueOf(step, plan, step.outputs[0], "output");
  requireDType(step, out, DType::Float32, "output");
  requireCount(step, out, x.count, "output");
}

void runLayerNorm(const Step& step, RunState& state) {
  const size_t rows = static_cast<size_t>(step.ints[0]), cols = static_cast<size_t>(step.ints[1]);
  const float epsilon = step.floats[0];
  const float* x = state.at<float>(step.inputs[0]);
  const float* gamma = state.at<float>(step.inputs[1]);
  const float* beta = step.inputs.size() == 3 ? state.at<float>(step.inputs[2]) : nullptr;
  float* y = state.at<float>(step.outputs[0]);
  if (cols == 0) return;
  parallelRange(rows, static_cast<double>(cols) * 4, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) layerNormRow(x + r * cols, gamma, beta, cols, epsilon, y + r * cols);
  });
}

// --- Reduce: ints = [kind, outer, n, inner]: output outer x inner, reducing the n axis.
void checkReduce(const Step& step, const Plan& plan) {
  requireArity(step, 1, 1, 1);
  requireInts(step, 4);
  if (step.ints[0] < 0 || step.ints[0] >= static_cast<int64_t>(ReduceKind::Count)) planError(step, "unknown reduce kind");
  const ValueSlot& in = valueOf(step, plan, step.inputs[0], "input");
  const ValueSlot& out = valueOf(step, plan, step.outputs[0], "output");
  requireDType(step, in, DType::Float32, "input");
  requireDType(step, out, DType::Float32, "output");
  requireCount(step, in, productParam(step, 1, 3), "input");
  requireCount(step, out, mulParam(step, sizeParam(step, 1), sizeParam(step, 3)), "output");
}

void runReduce(const Step& step, RunState& state) {
  const auto kind = static_cast<ReduceKind>(step.ints[0]);
  const size_t outer = static_cast<size_t>(step.ints[1]), n = static_cast<size_t>(step.ints[2]);
  const size_t inner = static_cast<size_t>(step.ints[3]);
  const float* x = state.at<float>(step.inputs[0]);
  float* y = state.at<float>(step.outputs[0]);
  parallelRange(outer * inner, static_cast<double>(n), [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const size_t o = r / inner, i = r % inner;
      const float* src = x + o * n * inner + i;
      double acc = kind == ReduceKind::Prod ? 1.0 : 0.0;
      float extreme = kind == ReduceKind::Max ? -INFINITY : INFINITY;
      bool nan = false;
      for (size_t j = 0; j < n; ++j) {
        const float v = src[j * inner];
        switch (kind) {
          case ReduceKind::Mean: case ReduceKind::Sum: acc += v; break;
          case ReduceKind::Prod: acc *= v; break;
          case ReduceKind::SumSquare: case ReduceKind::L2: acc += static_cast<double>(v) * v; break;
          case ReduceKind::Max: nan |= v != v; extreme = std::max(extreme, v); break;
          case ReduceKind::Min: nan |= v != v; extreme = std::min(extreme, v); break;
          case ReduceKind::Count: break;
        }
      }
      float result;
      switch (kind) {
        case ReduceKind::Mean: result = static_cast<float>(acc / static_cast<double>(n)); break;
        case ReduceKind::L2: result = static_cast<float>(std::sqrt(acc)); break;
        case ReduceKind::Max: case ReduceKind::Min: result = nan ? NAN : extreme; break;
        default: result = static_cast<float>(acc); break;
      }
      y[r] = result;
    }
  });
}

}  // namespace

extern const OpKernel kSoftmaxKernel{checkSoftmax, runSoftmax};
extern const OpKernel kLayerNormKernel{checkLayerNorm, runLayerNorm};
extern const OpKernel kReduceKernel{checkReduce, runReduce};

}  // namespace onnxforge::engine
