// The per-ISA float micro-kernels behind float_gemm.h. Each ISA file fills one
// table; float_gemm.cc does the packing, blocking, threading and epilogue around them.
#pragma once
#include <cstddef>

#include "cpu_features.h"

namespace onnxforge::fgemm {

// Where a micro-tile goes: c = alpha * acc + beta * c + bias, for `columns` columns.
struct TileOutput {
  float* c = nullptr;
  size_t ldc = 0;
  size_t columns = 0;           // 1..panelWidth; columns past it are neither read nor written
  float alpha = 1.0f;
  float beta = 0.0f;            // 0: c is not read (it may hold NaN)
  const float* bias = nullptr;  // `columns` values, or nullptr
};

struct FloatKernels {
  IsaLevel isa;
  size_t panelWidth;  // columns per packed B panel
  size_t maxRows;     // rows of the largest register block
  // rows (1..maxRows) of A (row stride lda) times kc rows of a B panel (panelWidth
  // contiguous floats each, 64-byte aligned), written to `out`.
  void (*tile)(size_t rows, size_t kc, const float* a, size_t lda, const float* b, const TileOutput& out);
  // Float operations per second (2 per FMA) of the ISA's multiply-add on this thread.
  double (*peakFlopsPerSecond)(double seconds);
};

const FloatKernels& scalarFloatKernels();
#if defined(ONNXFORGE_X86)
const FloatKernels& avx2FloatKernels();
const FloatKernels& avx512FloatKernels();
#endif

}  // namespace onnxforge::fgemm
