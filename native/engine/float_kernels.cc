#include "float_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "float_gemm.h"
#include "op_kernel.h"
#include "thread_pool.h"
#include "vector_math.h"

namespace onnxforge::engine {

struct DenseWeights {
  std::unique_ptr<fgemm::PackedFloatWeights> packed;
};

void DenseWeightsDeleter::operator()(DenseWeights* w) const { delete w; }

std::unique_ptr<DenseWeights, DenseWeightsDeleter> packDense(const float* w, size_t k, size_t n, bool transposed) {
  std::unique_ptr<DenseWeights, DenseWeightsDeleter> dense(new DenseWeights);
  dense->packed = fgemm::packWeights(w, k, n, transposed);
  return dense;
}

size_t denseBytes(const DenseWeights& w) { return w.packed->bytes(); }

namespace {

fgemm::Activation gemmActivation(Activation a) {
  switch (a) {
    case Activation::Relu: return fgemm::Activation::Relu;
    case Activation::Gelu: return fgemm::Activation::Gelu;
    case Activation::GeluTanh: return fgemm::Activation::GeluTanh;
    case Activation::Tanh: return fgemm::Activation::Tanh;
    case Activation::Sigmoid: return fgemm::Activation::Sigmoid;
    case Activation::None: case Activation::Relu6: case Activation::HardSwish: case Activation::Count: break;
  }
  return fgemm::Activation::None;
}

}  // namespace

void denseLinear(const float* x, size_t m, size_t lda, const DenseWeights& w, const float* bias,
                 Activation activation, float* y) {
  fgemm::Epilogue epilogue;
  epilogue.bias = bias;
  epilogue.activation = gemmActivation(activation);
  fgemm::gemmPacked(x, m, lda, *w.packed, y, w.packed->n, epilogue);
  // What the GEMM's epilogue lacks runs over the rows just written (conv blocks are cache-sized).
  if (activation == Activation::Relu6 || activation == Activation::HardSwish) {
    const size_t n = w.packed->n;
    parallelRange(m, static_cast<double>(n) * 2, [&](size_t r0, size_t r1) { applyActivation(activation, y + r0 * n, (r1 - r0) * n); });
  }
}

void gemmSerial(size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda, bool transA,
                const float* b, size_t ldb, bool transB, float beta, float* c, size_t ldc) {
  fgemm::gemmSerial(m, n, k, alpha, a, lda, transA, b, ldb, transB, beta, c, ldc);
}

void gemmParallel(size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda, bool transA,
                  const float* b, size_t ldb, bool transB, float beta, float* c, size_t ldc) {
  fgemm::gemm(m, n, k, alpha, a, lda, transA, b, ldb, transB, beta, c, ldc);
}

void applyActivation(Activation activation, float* y, size_t count) {
  switch (activation) {
    case Activation::None: return;
    case Activation::Relu: unaryFloat(UnaryKind::Relu, y, y, count, 0, 0); return;
    case Activation::Gelu: unaryFloat(UnaryKind::Gelu, y, y, count, 0, 0); return;
    case Activation::GeluTanh: unaryFloat(UnaryKind::GeluTanh, y, y, count, 0, 0); return;
    case Activation::Tanh: unaryFloat(UnaryKind::Tanh, y, y, count, 0, 0); return;
    case Activation::Sigmoid: unaryFloat(UnaryKind::Sigmoid, y, y, count, 0, 0); return;
    case Activation::Relu6: unaryFloat(UnaryKind::Clip, y, y, count, 0.0f, 6.0f); return;
    case Activation::HardSwish: unaryFloat(UnaryKind::HardSwish, y, y, count, 0, 0); return;
    case Activation::Count: return;
  }
}

void unaryFloat(UnaryKind kind, const float* x, float* y, size_t count, float alpha, float beta) {
  auto each = [&](auto f) { for (size_t i = 0; i < count; ++i) y[i] = f(x[i]); };
  switch (kind) {
    case UnaryKind::Identity: each([](float v) { return v; }); return;
    case UnaryKind::Relu: vmath::relu(x, y, count); return;
    case UnaryKind::Sigmoid: vmath::sigmoid(x, y, count); return;
    case UnaryKind::Tanh: vmath::tanh(x, y, count); return;
    case UnaryKind::Erf: vmath::erf(x, y, count); return;
    case UnaryKind::Sqrt: each([](float v) { return std::sqrt(v); }); return;
    case UnaryKind::Exp: vmath::exp(x, y, count); return;
    case UnaryKind::Log: each([](float v) { return std::log(v); }); return;
    case UnaryKind::Neg: each([](float v) { return -v; }); return;
    case UnaryKind::Abs: each([](float v) { return std::fabs(v); }); return;
    case UnaryKind::Reciprocal: each([](float v) { return 1.0f / v; }); return;
    case UnaryKind::Gelu: vmath::gelu(x, y, count); return;
    case UnaryKind::GeluTanh: vmath::geluTanh(x, y, count); return;
    case UnaryKind::Clip:
      if (alpha == 0.0f && beta == 6.0f) {
        vmath::relu6(x, y, count);
        return;
      }
      each([&](float v) { return v != v ? v : std::min(std::max(v, alpha), beta); }); return;
    case UnaryKind::LeakyRelu: each([&](float v) { return v >= 0.0f ? v : alpha * v; }); return;
    case UnaryKind::HardSigmoid: each([&](float v) { return std::max(0.0f, std::min(1.0f, alpha * v + beta)); }); return;
    case UnaryKind::HardSwish: vmath::hardSwish(x, y, count); return;
    case UnaryKind::Softplus: each([](float v) { return v > 20.0f ? v : std::log1p(std::exp(v)); }); return;
    case UnaryKind::Floor: each([](float v) { return std::floor(v); }); return;
    case UnaryKind::Ceil: each([](float v) { return std::ceil(v); }); return;
    case UnaryKind::Round: each([](float v) { return std::nearbyint(v); }); return;
    case UnaryKind::Sin: each([](float v) { return std::sin(v); }); return;
    case UnaryKind::Cos: each([](float v) { return std::cos(v); }); return;
    case UnaryKind::Sign: each([](float v) { return static_cast<float>((v > 0.0f) - (v < 0.0f)); }); return;
    case UnaryKind::Not: case UnaryKind::Count: return;
  }
}

void addInto(float* y, const float* x, size_t n) { vmath::add(y, x, y, n); }

void poolRow(const float* x, size_t pixels, size_t pixelStride, const ptrdiff_t* offsets, size_t taps, bool average,
             float scale, float* y, size_t n) {
  vmath::poolRow(x, pixels, pixelStride, offsets, taps, average, scale, y, n);
}

void depthwiseRow(const float* x, size_t pixels, size_t pixelStride, const ptrdiff_t* offsets,
                  const float* const* weights, size_t taps, const float* bias, float* y, size_t n) {
  vmath::depthwiseRow(x, pixels, pixelStride, offsets, weights, taps, bias, y, n);
}

void softmaxRow(const float* x, float* y, size_t n, bool logarithm) {
  if (!logarithm) {
    vmath::softmaxRow(x, y, n);
    return;
  }
  float max = -INFINITY;
  for (size_t i = 0; i < n; ++i) max = std::max(max, x[i]);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += std::exp(x[i] - max);
  const float logSum = static_cast<float>(std::log(sum));
  for (size_t i = 0; i < n; ++i) y[i] = x[i] - max - logSum;
}

void layerNormRow(const float* x, const float* gamma, const float* beta, size_t n, float epsilon, float* y) {
  vmath::layerNormRow(x, gamma, beta, n, epsilon, y);
}

}  // namespace onnxforge::engine
