// The vector math one element at a time, from libm: the reference-quality path
// for CPUs without AVX2, and what ONNXFORGE_ISA=scalar runs.
#include <algorithm>
#include <cmath>
#include <limits>

#include "vector_math_isa.h"

namespace onnxforge::vmath {
namespace {

template <float (*f)(float)>
void unaryRow(const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

float expScalar(float x) { return std::exp(x); }
float erfScalar(float x) { return std::erf(x); }
float tanhScalar(float x) { return std::tanh(x); }
float sigmoidScalar(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// The limits where a product of infinity and zero would give NaN, as the SIMD paths.
float geluScalar(float x) {
  if (std::isnan(x)) return x;
  float twicePhi = std::erfc(-x * 0.707106781186547524f);
  return twicePhi == 0.0f ? 0.0f : 0.5f * x * twicePhi;
}

float geluTanhScalar(float x) {
  if (std::isnan(x)) return x;
  float u2 = 2.0f * 0.797884560802865356f * x * (1.0f + 0.044715f * x * x);
  float s = 1.0f / (1.0f + std::exp(-u2));
  return s == 0.0f ? 0.0f : x * s;
}

float reluScalar(float x) { return x < 0.0f ? 0.0f : x; }
float relu6Scalar(float x) { return x != x ? x : std::min(std::max(x, 0.0f), 6.0f); }
float hardSwishScalar(float x) { return x * std::max(0.0f, std::min(1.0f, x / 6.0f + 0.5f)); }

void addRow(const float* a, const float* b, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

void poolRow(const float* x, size_t pixels, size_t pixelStride, const ptrdiff_t* offsets, size_t taps, bool average,
             float scale, float* y, size_t n) {
  for (size_t p = 0; p < pixels; ++p) {
    const float* xp = x + p * pixelStride;
    for (size_t i = 0; i < n; ++i) {
      float a = average ? 0.0f : -std::numeric_limits<float>::infinity();
      for (size_t t = 0; t < taps; ++t) {
        const float v = xp[offsets[t] + static_cast<ptrdiff_t>(i)];
        a = average ? a + v : (a != a ? a : (v > a || v != v ? v : a));
      }
      y[p * n + i] = average ? a * scale : a;
    }
  }
}

void depthwiseRow(const float* x, size_t pixels, size_t pixelStride, const ptrdiff_t* offsets,
                  const float* const* weights, size_t taps, const float* bias, float* y, size_t n) {
  for (size_t p = 0; p < pixels; ++p) {
    const float* xp = x + p * pixelStride;
    for (size_t i = 0; i < n; ++i) {
      float a = bias ? bias[i] : 0.0f;
      for (size_t t = 0; t < taps; ++t) a += xp[offsets[t] + static_cast<ptrdiff_t>(i)] * weights[t][i];
      y[p * n + i] = a;
    }
  }
}

void softmaxRow(const float* x, float* y, size_t n) {
  if (n == 0) return;
  // A NaN is skipped here but makes its exp, and so the sum, NaN.
  float maxValue = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < n; ++i) maxValue = std::max(maxValue, x[i]);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    y[i] = std::exp(x[i] - maxValue);
    sum += y[i];
  }
  float scale = static_cast<float>(1.0 / sum);
  for (size_t i = 0; i < n; ++i) y[i] *= scale;
}

void layerNormRow(const float* x, const float* gamma, const float* beta, size_t n, float epsilon, float* y) {
  if (n == 0) return;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += x[i];
  const double mean = sum / static_cast<double>(n);
  double squares = 0;
  for (size_t i = 0; i < n; ++i) squares += (x[i] - mean) * (x[i] - mean);
  const double inv = 1.0 / std::sqrt(squares / static_cast<double>(n) + epsilon);
  for (size_t i = 0; i < n; ++i) {
    float v = static_cast<float>((x[i] - mean) * inv) * gamma[i];
    y[i] = beta ? v + beta[i] : v;
  }
}

}  // namespace

const VectorKernels& scalarVectorKernels() {
  static const VectorKernels table{IsaLevel::Scalar,
                                   unaryRow<expScalar>,
                                   unaryRow<erfScalar>,
                                   unaryRow<tanhScalar>,
                                   unaryRow<sigmoidScalar>,
                                   unaryRow<geluScalar>,
                                   unaryRow<geluTanhScalar>,
                                   unaryRow<reluScalar>,
                                   unaryRow<relu6Scalar>,
                                   unaryRow<hardSwishScalar>,
                                   addRow,
                                   poolRow,
                                   depthwiseRow,
                                   softmaxRow,
                                   layerNormRow};
  return table;
}

}  // namespace onnxforge::vmath
