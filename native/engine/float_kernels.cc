#include "float_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "thread_pool.h"

namespace onnxforge::engine {

struct DenseWeights {
  size_t k = 0, n = 0;
  std::vector<float> w;  // k x n row-major
};

void DenseWeightsDeleter::operator()(DenseWeights* w) const { delete w; }

std::unique_ptr<DenseWeights, DenseWeightsDeleter> packDense(const float* w, size_t k, size_t n, bool transposed) {
  std::unique_ptr<DenseWeights, DenseWeightsDeleter> packed(new DenseWeights);
  packed->k = k;
  packed->n = n;
  packed->w.resize(k * n);
  for (size_t kk = 0; kk < k; ++kk)
    for (size_t j = 0; j < n; ++j) packed->w[kk * n + j] = transposed ? w[j * k + kk] : w[kk * n + j];
  return packed;
}

size_t denseBytes(const DenseWeights& w) { return w.w.size() * sizeof(float); }

void denseLinear(const float* x, size_t m, size_t lda, const DenseWeights& w, const float* bias,
                 Activation activation, float* y) {
  const size_t k = w.k, n = w.n;
  parallelFor(m, 1, [&](size_t r0, size_t r1) {
    for (size_t i = r0; i < r1; ++i) {
      float* row = y + i * n;
      if (bias) std::memcpy(row, bias, n * sizeof(float));
      else std::memset(row, 0, n * sizeof(float));
      const float* xi = x + i * lda;
      for (size_t kk = 0; kk < k; ++kk) {
        const float a = xi[kk];
        const float* wk = w.w.data() + kk * n;
        for (size_t j = 0; j < n; ++j) row[j] += a * wk[j];
      }
      applyActivation(activation, row, n);
    }
  });
}

void gemmSerial(size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda, bool transA,
                const float* b, size_t ldb, bool transB, float beta, float* c, size_t ldc) {
  std::vector<float> acc(n);
  for (size_t i = 0; i < m; ++i) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (size_t kk = 0; kk < k; ++kk) {
      const float av = transA ? a[kk * lda + i] : a[i * lda + kk];
      if (transB) {
        for (size_t j = 0; j < n; ++j) acc[j] += av * b[j * ldb + kk];
      } else {
        const float* bk = b + kk * ldb;
        for (size_t j = 0; j < n; ++j) acc[j] += av * bk[j];
      }
    }
    float* ci = c + i * ldc;
    for (size_t j = 0; j < n; ++j) ci[j] = alpha * acc[j] + (beta == 0.0f ? 0.0f : beta * ci[j]);
  }
}

void gemmParallel(size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda, bool transA,
                  const float* b, size_t ldb, bool transB, float beta, float* c, size_t ldc) {
  parallelFor(m, 1, [&](size_t r0, size_t r1) {
    const float* a0 = transA ? a + r0 : a + r0 * lda;
    gemmSerial(r1 - r0, n, k, alpha, a0, lda, transA, b, ldb, transB, beta, c + r0 * ldc, ldc);
  });
}

namespace {

float gelu(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f)); }
float geluTanh(float x) {
  return 0.5f * x * (1.0f + std::tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}
float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace

void applyActivation(Activation activation, float* y, size_t count) {
  switch (activation) {
    case Activation::None: return;
    case Activation::Relu: unaryFloat(UnaryKind::Relu, y, y, count, 0, 0); return;
    case Activation::Gelu: unaryFloat(UnaryKind::Gelu, y, y, count, 0, 0); return;
    case Activation::GeluTanh: unaryFloat(UnaryKind::GeluTanh, y, y, count, 0, 0); return;
    case Activation::Tanh: unaryFloat(UnaryKind::Tanh, y, y, count, 0, 0); return;
    case Activation::Sigmoid: unaryFloat(UnaryKind::Sigmoid, y, y, count, 0, 0); return;
    case Activation::Count: return;
  }
}

void unaryFloat(UnaryKind kind, const float* x, float* y, size_t count, float alpha, float beta) {
  auto each = [&](auto f) { for (size_t i = 0; i < count; ++i) y[i] = f(x[i]); };
  switch (kind) {
    case UnaryKind::Identity: each([](float v) { return v; }); return;
    case UnaryKind::Relu: each([](float v) { return v > 0.0f ? v : 0.0f; }); return;
    case UnaryKind::Sigmoid: each(sigmoid); return;
    case UnaryKind::Tanh: each([](float v) { return std::tanh(v); }); return;
    case UnaryKind::Erf: each([](float v) { return std::erf(v); }); return;
    case UnaryKind::Sqrt: each([](float v) { return std::sqrt(v); }); return;
    case UnaryKind::Exp: each([](float v) { return std::exp(v); }); return;
    case UnaryKind::Log: each([](float v) { return std::log(v); }); return;
    case UnaryKind::Neg: each([](float v) { return -v; }); return;
    case UnaryKind::Abs: each([](float v) { return std::fabs(v); }); return;
    case UnaryKind::Reciprocal: each([](float v) { return 1.0f / v; }); return;
    case UnaryKind::Gelu: each(gelu); return;
    case UnaryKind::GeluTanh: each(geluTanh); return;
    case UnaryKind::Clip: each([&](float v) { return v != v ? v : std::min(std::max(v, alpha), beta); }); return;
    case UnaryKind::LeakyRelu: each([&](float v) { return v >= 0.0f ? v : alpha * v; }); return;
    case UnaryKind::HardSigmoid: each([&](float v) { return std::max(0.0f, std::min(1.0f, alpha * v + beta)); }); return;
    case UnaryKind::HardSwish:
      each([](float v) { return v * std::max(0.0f, std::min(1.0f, v / 6.0f + 0.5f)); });
      return;
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

void softmaxRow(const float* x, float* y, size_t n, bool logarithm) {
  float max = -INFINITY;
  for (size_t i = 0; i < n; ++i) max = std::max(max, x[i]);
  double sum = 0;
  if (logarithm) {
    for (size_t i = 0; i < n; ++i) sum += std::exp(x[i] - max);
    const float logSum = static_cast<float>(std::log(sum));
    for (size_t i = 0; i < n; ++i) y[i] = x[i] - max - logSum;
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    y[i] = std::exp(x[i] - max);
    sum += y[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (size_t i = 0; i < n; ++i) y[i] *= inv;
}

void layerNormRow(const float* x, const float* gamma, const float* beta, size_t n, float epsilon, float* y) {
  double mean = 0;
  for (size_t i = 0; i < n; ++i) mean += x[i];
  mean /= static_cast<double>(n);
  double var = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = x[i] - mean;
    var += d * d;
  }
  var /= static_cast<double>(n);
  const float inv = static_cast<float>(1.0 / std::sqrt(var + epsilon));
  const float m = static_cast<float>(mean);
  for (size_t i = 0; i < n; ++i) {
    const float v = (x[i] - m) * inv * (gamma ? gamma[i] : 1.0f);
    y[i] = beta ? v + beta[i] : v;
  }
}

}  // namespace onnxforge::engine
