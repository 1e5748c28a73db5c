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
  // rows (1..maxRows) of A (row stride lda) times kc rows of B, each row panelWidth floats
  // (all readable, even past out.columns), bStride floats apart: a packed panel's slice
  // (bStride = panelWidth, 64-byte aligned), or B itself. Written to `out`.
  void (*tile)(size_t rows, size_t kc, const float* a, size_t lda, const float* b, size_t bStride,
               const TileOutput& out);
  // out[j * ldo + i] = in[i * ldi + j] for i < rows, j < cols: packing for transposed operands.
  void (*transpose)(const float* in, size_t ldi, size_t rows, size_t cols, float* out, size_t ldo);
  // Float operations per second (2 per FMA) of the ISA's multiply-add on this thread.
  double (*peakFlopsPerSecond)(double seconds);
};

const FloatKernels& scalarFloatKernels();
#if defined(ONNXFORGE_X86)
const FloatKernels& avx2FloatKernels();
const FloatKernels& avx512FloatKernels();
// In 8 x 8 blocks with AVX2 shuffles; the AVX-512 table uses it too.
void transposeAvx2(const float* in, size_t ldi, size_t rows, size_t cols, float* out, size_t ldo);
#endif

}  // namespace onnxforge::fgemm
