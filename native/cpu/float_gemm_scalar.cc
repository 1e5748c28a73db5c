// Portable float micro-kernel: 4 rows x 8 columns of plain C++ accumulators, which
// the compiler keeps in registers (and vectorizes with the baseline SSE2).
#include <algorithm>
#include <chrono>

#include "float_gemm_isa.h"

namespace onnxforge::fgemm {
namespace {

constexpr size_t kPanel = 8;
constexpr int kMaxRows = 4;

template <int MR>
void block(size_t kc, const float* a, size_t lda, const float* b, size_t bStride, const TileOutput& out) {
  float acc[MR][kPanel] = {};
  for (size_t p = 0; p < kc; ++p) {
    const float* bp = b + p * bStride;
    for (int r = 0; r < MR; ++r) {
      const float av = a[r * lda + p];
      for (size_t j = 0; j < kPanel; ++j) acc[r][j] += av * bp[j];
    }
  }
  for (int r = 0; r < MR; ++r) {
    float* c = out.c + r * out.ldc;
    for (size_t j = 0; j < out.columns; ++j) {
      float x = out.alpha * acc[r][j];
      if (out.beta != 0.0f) x += out.beta * c[j];
      c[j] = out.bias ? x + out.bias[j] : x;
    }
  }
}

using BlockFn = void (*)(size_t, const float*, size_t, const float*, size_t, const TileOutput&);
constexpr BlockFn kBlocks[kMaxRows] = {block<1>, block<2>, block<3>, block<4>};

void tileScalar(size_t rows, size_t kc, const float* a, size_t lda, const float* b, size_t bStride,
                 const TileOutput& out) {
  kBlocks[rows - 1](kc, a, lda, b, bStride, out);
}

void transposeScalar(const float* in, size_t ldi, size_t rows, size_t cols, float* out, size_t ldo) {
  for (size_t i = 0; i < rows; ++i) {
    for (size_t j = 0; j < cols; ++j) out[j * ldo + i] = in[i * ldi + j];
  }
}

double peakFlopsPerSecond(double seconds) {
  // Eight independent multiply-add chains; the empty asm keeps each one a scalar chain.
  constexpr int kReps = 1 << 16;
  double best = 0, spent = 0;
  while (spent < seconds) {
    float acc[8] = {};
    const float m = 0.999f, c = 1e-3f;
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kReps; ++i) {
      for (float& x : acc) {
        x = x * m + c;
        __asm__ volatile("" : "+x"(x));
      }
    }
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    spent += elapsed;
    if (elapsed > 0) best = std::max(best, 8.0 * 2 * kReps / elapsed);
  }
  return best;
}

}  // namespace

const FloatKernels& scalarFloatKernels() {
  static const FloatKernels table{IsaLevel::Scalar, kPanel, kMaxRows, tileScalar, transposeScalar, peakFlopsPerSecond};
  return table;
}

}  // namespace onnxforge::fgemm
