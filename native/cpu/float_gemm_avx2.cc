// AVX2 + FMA float micro-kernels. Panels are 16 columns (two ymm); the register block
// is up to 6 rows x 16 columns: 12 accumulators, two B vectors and one A broadcast
// fill the 16 ymm registers. Blocks of 1-3 rows keep 2-4 accumulator sets over
// alternate k, so FMA latency never limits them.
#include <immintrin.h>

#include <algorithm>
#include <chrono>

#include "float_gemm_isa.h"

namespace onnxforge::fgemm {
namespace {

constexpr size_t kPrefetchRows = 16;
constexpr size_t kPanel = 16;
constexpr int kMaxRows = 6;

__m256i columnMask(size_t columns, int vector) {
  long rest = static_cast<long>(columns) - 8L * vector;
  int count = static_cast<int>(std::clamp(rest, 0L, 8L));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

template <int MR, int NV>
void storeTile(__m256 (&acc)[MR][NV], const TileOutput& out) {
  __m256i mask[NV];
  __m256 bias[NV];
  const bool full = out.columns >= 8 * NV;
#pragma GCC unroll 2
  for (int v = 0; v < NV; ++v) {
    mask[v] = columnMask(out.columns, v);
    bias[v] = out.bias ? _mm256_maskload_ps(out.bias + 8 * v, mask[v]) : _mm256_setzero_ps();
  }
  const __m256 alpha = _mm256_set1_ps(out.alpha), beta = _mm256_set1_ps(out.beta);
#pragma GCC unroll 6
  for (int r = 0; r < MR; ++r) {
    float* c = out.c + r * out.ldc;
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      __m256 x = out.alpha == 1.0f ? acc[r][v] : _mm256_mul_ps(acc[r][v], alpha);
      if (out.beta != 0.0f) {
        __m256 old = full ? _mm256_loadu_ps(c + 8 * v) : _mm256_maskload_ps(c + 8 * v, mask[v]);
        x = _mm256_fmadd_ps(beta, old, x);
      }
      x = _mm256_add_ps(x, bias[v]);
      if (full) {
        _mm256_storeu_ps(c + 8 * v, x);
      } else {
        _mm256_maskstore_ps(c + 8 * v, mask[v], x);
      }
    }
  }
}

// KU accumulator sets take alternate k; they are summed at the end.
template <int MR, int NV, int KU>
void block(size_t kc, const float* a, size_t lda, const float* b, size_t bStride, const TileOutput& out) {
  __m256 acc[KU][MR][NV];
#pragma GCC unroll 4
  for (int u = 0; u < KU; ++u) {
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[u][r][v] = _mm256_setzero_ps();
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
    }
#pragma GCC unroll 4
    for (int u = 0; u < KU; ++u) {
      __m256 bv[NV];
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) bv[v] = _mm256_loadu_ps(b + (p + u) * bStride + 8 * v);
#pragma GCC unroll 6
      for (int r = 0; r < MR; ++r) {
        __m256 av = _mm256_broadcast_ss(a + r * lda + p + u);
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) acc[u][r][v] = _mm256_fmadd_ps(av, bv[v], acc[u][r][v]);
      }
    }
  }
  for (; p < kc; ++p) {
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
      __m256 av = _mm256_broadcast_ss(a + r * lda + p);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[0][r][v] = _mm256_fmadd_ps(av, _mm256_loadu_ps(b + p * bStride + 8 * v), acc[0][r][v]);
    }
  }
#pragma GCC unroll 4
  for (int u = 1; u < KU; ++u) {
#pragma GCC unroll 6
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[0][r][v] = _mm256_add_ps(acc[0][r][v], acc[u][r][v]);
    }
  }
  storeTile<MR, NV>(acc[0], out);
}

using BlockFn = void (*)(size_t, const float*, size_t, const float*, size_t, const TileOutput&);

// Accumulator sets per row count: at least 8 FMAs in flight for the 4-cycle latency.
template <int NV>
constexpr BlockFn kBlocks[kMaxRows] = {block<1, NV, 8 / NV>,           block<2, NV, 4 / NV>,
                                       block<3, NV, NV == 1 ? 3 : 2>,  block<4, NV, NV == 1 ? 2 : 1>,
                                       block<5, NV, 1>,                block<6, NV, 1>};

void tileAvx2(size_t rows, size_t kc, const float* a, size_t lda, const float* b, size_t bStride,
               const TileOutput& out) {
  (out.columns > 8 ? kBlocks<2> : kBlocks<1>)[rows - 1](kc, a, lda, b, bStride, out);
}

// out rows j0..j0+7, columns i0..i0+7 from in rows i0..i0+7, columns j0..j0+7.
void transpose8x8(const float* in, size_t ldi, float* out, size_t ldo) {
  __m256 r[8], t[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(in + i * ldi);
#pragma GCC unroll 4
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 2
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    _mm256_storeu_ps(out + i * ldo, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    _mm256_storeu_ps(out + (i + 4) * ldo, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
}

double peakFlopsPerSecond(double seconds) {
  // 12 independent FMA chains, as in the 6 x 16 block, operands in registers.
  constexpr int kReps = 4096;
  double best = 0, spent = 0;
  while (spent < seconds) {
    auto start = std::chrono::steady_clock::now();
    __asm__ volatile(
        "vxorps %%ymm14, %%ymm14, %%ymm14\n"
        "vxorps %%ymm15, %%ymm15, %%ymm15\n"
        "mov %[reps], %%ecx\n"
        "1:\n"
        "vfmadd231ps %%ymm15, %%ymm14, %%ymm0\n"
        "vfmadd231ps %%ymm15, %%ymm14, %%ymm1\n"
        "vfmadd231ps %%ymm15, %%ymm14, %%ymm2\n"
        "vfmadd231ps %%ymm15, %%ymm14, %%ymm3\n"
        "vfmadd231ps %%ymm15, %%ymm14, %%ymm4\n"
        "vfmadd231ps %%ymm15, %%ymm14, %%ymm5\n"
        "vfmadd231ps %%ymm15, %%ymm14, %%ymm6\n"
        "vfmadd231ps %%ymm15, %%ymm14, %%ymm7\n"
        "vfmadd231ps %%ymm15, %%ymm14, %%ymm8\n"
        "vfmadd231ps %%ymm15, %%ymm14, %%ymm9\n"
        "vfmadd231ps %%ymm15, %%ymm14, %%ymm10\n"
        "vfmadd231ps %%ymm15, %%ymm14, %%ymm11\n"
        "dec %%ecx\n"
        "jnz 1b\n"
        :
        : [reps] "i"(kReps)
        : "ecx", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
          "xmm11", "xmm14", "xmm15");
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    spent += elapsed;
    if (elapsed > 0) best = std::max(best, 12.0 * 8 * 2 * kReps / elapsed);
  }
  return best;
}

}  // namespace

void transposeAvx2(const float* in, size_t ldi, size_t rows, size_t cols, float* out, size_t ldo) {
  size_t i = 0;
  for (; i + 8 <= rows; i += 8) {
    size_t j = 0;
    for (; j + 8 <= cols; j += 8) transpose8x8(in + i * ldi + j, ldi, out + j * ldo + i, ldo);
    for (; j < cols; ++j) {
      for (size_t r = 0; r < 8; ++r) out[j * ldo + i + r] = in[(i + r) * ldi + j];
    }
  }
  for (; i < rows; ++i) {
    for (size_t j = 0; j < cols; ++j) out[j * ldo + i] = in[i * ldi + j];
  }
}

const FloatKernels& avx2FloatKernels() {
  static const FloatKernels table{IsaLevel::Avx2, kPanel, kMaxRows, tileAvx2, transposeAvx2, peakFlopsPerSecond};
  return table;
}

}  // namespace onnxforge::fgemm
