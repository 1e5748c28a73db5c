// Vectorized float32 math over rows: the elementwise functions, softmax and layer
// normalization that the graph engine and the float GEMM's epilogue run. Every
// function runs at the active ISA (see vector_math_isa.h); y may alias x.
//
// Accuracy on the SIMD paths (polynomials in vector_math_simd.h; the scalar path calls libm),
// as native/test/selftest/float_kernels_test.cc asserts it against double precision (measured maximum
// on AVX-512 and AVX2 in brackets):
//   exp      <= 2 ulp (0.84); 0 below -103.98, +inf above 88.73, subnormal results to 1 ulp
//   erf      <= 2 ulp (1.04) and <= 1.2e-7 absolute (6.2e-8)
//   tanh     <= 3 ulp (1.29)
//   sigmoid  <= 3 ulp (2.29)
//   gelu     0.5 x (1 + erf(x / sqrt 2)), computed as x Phi(x) with Phi from erfc on the
//            negative side, so it keeps its relative accuracy where it is tiny:
//            <= 2 (1 + x^2) ulp (1.76) and <= 2e-7 max(1, |y|) (1.14e-7); 0 below x = -5.66
//            (|gelu| < 4.4e-8 there)
//   geluTanh 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) as x sigmoid(2u):
//            <= 3 (1 + |2u|) ulp (2.51) and <= 2e-7 max(1, |y|) (1.41e-7)
// The (1 + x^2) and (1 + |2u|) factors are how much the rounding of the inner argument
// (x / sqrt 2, u) is magnified where the functions are tiny.
// NaN gives NaN; gelu and geluTanh give 0 at -inf (the limit) and x at +inf.
#pragma once
#include <cstddef>

#include "cpu_features.h"

namespace onnxforge::vmath {

void exp(const float* x, float* y, size_t n);
void erf(const float* x, float* y, size_t n);
void tanh(const float* x, float* y, size_t n);
void sigmoid(const float* x, float* y, size_t n);
void gelu(const float* x, float* y, size_t n);
void geluTanh(const float* x, float* y, size_t n);
// max(x, 0); NaN stays NaN.
void relu(const float* x, float* y, size_t n);
// min(max(x, 0), 6); NaN stays NaN.
void relu6(const float* x, float* y, size_t n);
// ONNX HardSwish: x * min(max(x / 6 + 0.5, 0), 1), rounded the same on every ISA; NaN stays NaN.
void hardSwish(const float* x, float* y, size_t n);
// y = a + b; y may alias a or b.
void add(const float* a, const float* b, float* y, size_t n);
// One output row of max or average pooling, channels last: for p < pixels and j < n, y[p * n + j] =
// the maximum (a NaN among the taps gives NaN) or scale times the sum of x[p * pixelStride + offsets[t] + j]
// over t < taps. offsets are in floats and may be negative; y must not alias x.
void poolRow(const float* x, size_t pixels, size_t pixelStride, const ptrdiff_t* offsets, size_t taps, bool average,
             float scale, float* y, size_t n);
// One output row of a depthwise convolution, channels last: for p < pixels and j < n,
// y[p * n + j] = bias[j] + sum over t < taps of x[p * pixelStride + offsets[t] + j] * weights[t][j].
// offsets are in floats and may be negative; bias may be nullptr; y must not alias x.
void depthwiseRow(const float* x, size_t pixels, size_t pixelStride, const ptrdiff_t* offsets,
                  const float* const* weights, size_t taps, const float* bias, float* y, size_t n);

// y = exp(x - max x) / sum: stable for any finite row; relative error <= (8 + n / 8 +
// |x - max|) 2^-24 (the last term is the rounding of x - max). -inf entries give 0; a row
// holding +inf or NaN gives NaN, and so does a row of -inf (0 / 0).
void softmaxRow(const float* x, float* y, size_t n);

// ONNX LayerNormalization over one row: (x - mean) / sqrt(var + epsilon) * gamma + beta,
// with the biased variance of the row computed in two passes (sums taken about x[0], so a
// large common offset costs no accuracy). beta may be nullptr. Error <= 2e-6 (measured
// 1.8e-7) of |gamma| (1 + |normalized|) + |beta|.
void layerNormRow(const float* x, const float* gamma, const float* beta, size_t n, float epsilon, float* y);

// The ISA the functions run at (AMX machines run the AVX-512 functions).
IsaLevel vectorMathIsa();

}  // namespace onnxforge::vmath
