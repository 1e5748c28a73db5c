// The per-ISA vector math tables behind vector_math.h. Each ISA file fills one;
// vector_math.cc picks the active one once. The float GEMM's epilogue calls the
// table of its weights' ISA, so an activation has one implementation per ISA.
#pragma once
#include <cstddef>

#include "cpu_features.h"

namespace onnxforge::vmath {

struct VectorKernels {
  using Unary = void (*)(const float* x, float* y, size_t n);
  IsaLevel isa;
  Unary exp, erf, tanh, sigmoid, gelu, geluTanh, relu, relu6, hardSwish;
  void (*add)(const float* a, const float* b, float* y, size_t n);
  void (*poolRow)(const float* x, size_t pixels, size_t pixelStride, const ptrdiff_t* offsets, size_t taps,
                  bool average, float scale, float* y, size_t n);
  void (*depthwiseRow)(const float* x, size_t pixels, size_t pixelStride, const ptrdiff_t* offsets,
                       const float* const* weights, size_t taps, const float* bias, float* y, size_t n);
  void (*softmaxRow)(const float* x, float* y, size_t n);
  void (*layerNormRow)(const float* x, const float* gamma, const float* beta, size_t n, float epsilon, float* y);
};

const VectorKernels& scalarVectorKernels();
#if defined(ONNXFORGE_X86)
const VectorKernels& avx2VectorKernels();
const VectorKernels& avx512VectorKernels();
#endif

// The table for `level` (AMX: the AVX-512 table).
const VectorKernels& vectorKernelsFor(IsaLevel level);

}  // namespace onnxforge::vmath
