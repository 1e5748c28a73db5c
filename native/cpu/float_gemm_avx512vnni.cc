// AVX-512F float micro-kernels (the _avx512vnni suffix only picks the compile flags).
// Panels are 32 columns (two zmm); the register block is up to 14 rows x 32 columns:
// 28 accumulators, two B vectors, and A broadcast from memory into each FMA. Blocks
// of 1-3 rows keep 2-4 accumulator sets over alternate k, so FMA latency never
// limits them (they stream B, as a batch-1 MLP does).
// GCC 12's AVX-512 headers initialize "undefined" vectors from themselves, which
// -Wuninitialized reports at every use of an intrinsic that has one.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <chrono>

#include "float_gemm_isa.h"

namespace onnxforge::fgemm {
namespace {

constexpr size_t kPrefetchRows = 16;
constexpr size_t kPanel = 32;
constexpr int kMaxRows = 14;

__mmask16 columnMask(size_t columns, int vector) {
  long rest = static_cast<long>(columns) - 16L * vector;
  if (rest >= 16) return 0xffff;
  return rest <= 0 ? 0 : static_cast<__mmask16>((1u << rest) - 1);
}

template <int MR, int NV>
void storeTile(__m512 (&acc)[MR][NV], const TileOutput& out) {
  __mmask16 mask[NV];
  __m512 bias[NV];
#pragma GCC unroll 2
  for (int v = 0; v < NV; ++v) {
    mask[v] = columnMask(out.columns, v);
    bias[v] = out.bias ? _mm512_maskz_loadu_ps(mask[v], out.bias + 16 * v) : _mm512_setzero_ps();
  }
  const __m512 alpha = _mm512_set1_ps(out.alpha), beta = _mm512_set1_ps(out.beta);
#pragma GCC unroll 14
  for (int r = 0; r < MR; ++r) {
    float* c = out.c + r * out.ldc;
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      __m512 x = out.alpha == 1.0f ? acc[r][v] : _mm512_mul_ps(acc[r][v], alpha);
      if (out.beta != 0.0f) x = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(mask[v], c + 16 * v), x);
      _mm512_mask_storeu_ps(c + 16 * v, mask[v], _mm512_add_ps(x, bias[v]));
    }
  }
}

// KU accumulator sets take alternate k; they are summed at the end.
template <int MR, int NV, int KU>
void block(size_t kc, const float* a, size_t lda, const float* b, size_t bStride, const TileOutput& out) {
  __m512 acc[KU][MR][NV];
#pragma GCC unroll 4
  for (int u = 0; u < KU; ++u) {
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[u][r][v] = _mm512_setzero_ps();
    }
  }
  size_t p = 0;
  for (; p + KU <= kc; p += KU) {
    // B streams from L2 or memory (a batch-1 layer reads each row once): ask for it
    // kPrefetchRows rows ahead. Prefetches never fault, so reading past B is harmless.
    const char* ahead = reinterpret_cast<const char*>(b + (p + kPrefetchRows) * bStride);
#pragma GCC unroll 4
    for (int u = 0; u < KU; ++u) {
      _mm_prefetch(ahead + u * bStride * sizeof(float), _MM_HINT_T0);
      _mm_prefetch(ahead + u * bStride * sizeof(float) + 64, _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (int u = 0; u < KU; ++u) {
      __m512 bv[NV];
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + (p + u) * bStride + 16 * v);
#pragma GCC unroll 14
      for (int r = 0; r < MR; ++r) {
        __m512 av = _mm512_set1_ps(a[r * lda + p + u]);
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) acc[u][r][v] = _mm512_fmadd_ps(av, bv[v], acc[u][r][v]);
      }
    }
  }
  for (; p < kc; ++p) {
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) {
      __m512 av = _mm512_set1_ps(a[r * lda + p]);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[0][r][v] = _mm512_fmadd_ps(av, _mm512_loadu_ps(b + p * bStride + 16 * v), acc[0][r][v]);
    }
  }
#pragma GCC unroll 4
  for (int u = 1; u < KU; ++u) {
#pragma GCC unroll 14
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[0][r][v] = _mm512_add_ps(acc[0][r][v], acc[u][r][v]);
    }
  }
  storeTile<MR, NV>(acc[0], out);
}

using BlockFn = void (*)(size_t, const float*, size_t, const float*, size_t, const TileOutput&);

// Accumulator sets per row count: well over 8 FMAs in flight for the 4-cycle latency.
template <int NV>
constexpr BlockFn kBlocks[kMaxRows] = {
    block<1, NV, 8 / NV>, block<2, NV, 4 / NV>, block<3, NV, 2>,  block<4, NV, 2>,  block<5, NV, 2>,
    block<6, NV, 2>,      block<7, NV, 2>,      block<8, NV, 1>,  block<9, NV, 1>,  block<10, NV, 1>,
    block<11, NV, 1>,     block<12, NV, 1>,     block<13, NV, 1>, block<14, NV, 1>};

void tileAvx512(size_t rows, size_t kc, const float* a, size_t lda, const float* b, size_t bStride,
                 const TileOutput& out) {
  (out.columns > 16 ? kBlocks<2> : kBlocks<1>)[rows - 1](kc, a, lda, b, bStride, out);
}

double peakFlopsPerSecond(double seconds) {
  // 24 independent FMA chains, operands in registers; asm, so the loop is exactly this.
  constexpr int kReps = 4096;
  double best = 0, spent = 0;
  // The best of short slices: on a shared machine other load only ever slows a slice down.
  while (spent < seconds) {
    auto start = std::chrono::steady_clock::now();
    __asm__ volatile(
        "vxorps %%xmm30, %%xmm30, %%xmm30\n"
        "vxorps %%xmm31, %%xmm31, %%xmm31\n"
        "mov %[reps], %%ecx\n"
        "1:\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm0\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm1\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm2\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm3\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm4\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm5\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm6\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm7\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm8\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm9\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm10\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm11\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm12\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm13\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm14\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm15\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm16\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm17\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm18\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm19\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm20\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm21\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm22\n"
        "vfmadd231ps %%zmm31, %%zmm30, %%zmm23\n"
        "dec %%ecx\n"
        "jnz 1b\n"
        :
        : [reps] "i"(kReps)
        : "ecx", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
          "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21",
          "xmm22", "xmm23", "xmm30", "xmm31");
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    spent += elapsed;
    if (elapsed > 0) best = std::max(best, 24.0 * 16 * 2 * kReps / elapsed);
  }
  return best;
}

}  // namespace

const FloatKernels& avx512FloatKernels() {
  static const FloatKernels table{IsaLevel::Avx512Vnni, kPanel, kMaxRows, tileAvx512, transposeAvx2, peakFlopsPerSecond};
  return table;
}

}  // namespace onnxforge::fgemm
