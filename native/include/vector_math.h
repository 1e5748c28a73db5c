// Vectorized float32 math over rows: the elementwise functions, softmax and layer
// normalization that the graph engine and the float GEMM's epilogue run. Every
// function runs at the active ISA (see vector_math_isa.h); y may alias x.
//
// Accuracy on the SIMD paths (polynomials in vector_math_simd.h, measured by
// native/test/float_kernels_test.cc against double precision; the scalar path calls libm):
//   exp      relative error <= 2 ulp; 0 below -103.98, +inf above 88.73
//   erf      absolute error <= 2 ulp of 1 (1.2e-7), relative <= 2 ulp where |erf| < 0.8
//   tanh     relative error <= 3 ulp
//   sigmoid  relative error <= 3 ulp
//   gelu     0.5 x (1 + erf(x / sqrt 2)), computed as x * Phi(x) with Phi from erfc on the
//            negative side, so relative error stays small where gelu is tiny:
//            |error| <= 2e-7 * max(1, |y|); 0 below x = -5.66 (true value < 5e-8)
//   geluTanh 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), relative error <= 4 ulp
// NaN gives NaN; gelu and geluTanh give 0 at -inf (the limit), x at +inf.
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
// y = a + b; y may alias a or b.
void add(const float* a, const float* b, float* y, size_t n);

// y = exp(x - max x) / sum: stable for any finite row. A row holding +inf or NaN gives NaN;
// a row of -inf gives NaN (0 / 0), as onnxruntime's Softmax does.
void softmaxRow(const float* x, float* y, size_t n);

// ONNX LayerNormalization over one row: (x - mean) / sqrt(var + epsilon) * gamma + beta,
// with the biased variance of the row computed in two passes. beta may be nullptr.
void layerNormRow(const float* x, const float* gamma, const float* beta, size_t n, float epsilon, float* y);

// The ISA the functions run at (AMX machines run the AVX-512 functions).
IsaLevel vectorMathIsa();

}  // namespace onnxforge::vmath
