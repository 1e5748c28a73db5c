// AVX512-VNNI int8 kernels (vpdpbusd: u8 x s8, four products summed into int32).
// B panels are 64 columns wide; within a panel each k-group of 4 is one 256-byte
// row holding, per column, its 4 consecutive k values, so one zmm load covers 16
// columns. A rows are broadcast 4 bytes at a time. The AMX path packs the same way.
// GCC 12's AVX-512 headers initialize "undefined" vectors from themselves, which
// -Wuninitialized reports at every use of an intrinsic that has one.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "int8_avx512vnni.h"
#include "int8_isa.h"

namespace onnxforge::int8 {
namespace {

constexpr size_t kPanel = 64;
constexpr size_t kMaxRows = 6;      // rows of the register block
constexpr size_t kGroupsPerBlock = 512;  // k-groups per pass (2048 k): one pass up to k = 2048

int32_t load4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// acc[r][v] (+)= A rows [0, MR) x B columns [16v, 16v + 16) over `groups` k-groups.
template <int MR, int NV>
void registerBlock(const uint8_t* a, size_t lda, const int8_t* b, size_t bStride, size_t groups,
                   int32_t* c, bool accumulate) {
  __m512i acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      acc[r][v] = accumulate ? _mm512_loadu_si512(c + r * kPanel + v * 16) : _mm512_setzero_si512();
    }
  }
  for (size_t g = 0; g < groups; ++g) {
    __m512i bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_si512(b + v * 64);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      __m512i av = _mm512_set1_epi32(load4(a + r * lda + 4 * g));
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], av, bv[v]);
    }
    b += bStride;
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_storeu_si512(c + r * kPanel + v * 16, acc[r][v]);
  }
}

// One row: two accumulator sets over alternate k-groups hide vpdpbusd latency,
// so a single row streams B as fast as memory delivers it.
template <int NV>
void registerRow(const uint8_t* a, const int8_t* b, size_t bStride, size_t groups, int32_t* c,
                 bool accumulate) {
  __m512i acc0[NV], acc1[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    acc0[v] = accumulate ? _mm512_loadu_si512(c + v * 16) : _mm512_setzero_si512();
    acc1[v] = _mm512_setzero_si512();
  }
  size_t g = 0;
  for (; g + 2 <= groups; g += 2) {
    __m512i a0 = _mm512_set1_epi32(load4(a + 4 * g));
    __m512i a1 = _mm512_set1_epi32(load4(a + 4 * g + 4));
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      acc0[v] = _mm512_dpbusd_epi32(acc0[v], a0, _mm512_loadu_si512(b + v * 64));
      acc1[v] = _mm512_dpbusd_epi32(acc1[v], a1, _mm512_loadu_si512(b + bStride + v * 64));
    }
    b += 2 * bStride;
  }
  if (g < groups) {
    __m512i a0 = _mm512_set1_epi32(load4(a + 4 * g));
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc0[v] = _mm512_dpbusd_epi32(acc0[v], a0, _mm512_loadu_si512(b + v * 64));
  }
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) _mm512_storeu_si512(c + v * 16, _mm512_add_epi32(acc0[v], acc1[v]));
}

using BlockFn = void (*)(const uint8_t*, size_t, const int8_t*, size_t, size_t, int32_t*, bool);

template <int NV>
void rowBlock(const uint8_t* a, size_t, const int8_t* b, size_t bStride, size_t groups, int32_t* c,
              bool accumulate) {
  registerRow<NV>(a, b, bStride, groups, c, accumulate);
}

template <int NV>
constexpr BlockFn blocksFor[kMaxRows] = {rowBlock<NV>,          registerBlock<2, NV>, registerBlock<3, NV>,
                                         registerBlock<4, NV>, registerBlock<5, NV>, registerBlock<6, NV>};

BlockFn blockFor(size_t rows, size_t vectors) {
  switch (vectors) {
    case 1: return blocksFor<1>[rows - 1];
    case 2: return blocksFor<2>[rows - 1];
    case 3: return blocksFor<3>[rows - 1];
    default: return blocksFor<4>[rows - 1];
  }
}

std::vector<int32_t>& scratchFor(size_t values) {
  thread_local std::vector<int32_t> scratch;
  if (scratch.size() < values) scratch.resize(values);
  return scratch;
}

}  // namespace

void packBAvx512(const int8_t* b, size_t k, size_t n, size_t kPadded, size_t nPadded, uint8_t* out) {
  auto* dst = reinterpret_cast<int8_t*>(out);
  for (size_t col0 = 0; col0 < nPadded; col0 += kPanel) {
    size_t width = std::min(kPanel, nPadded - col0);
    for (size_t k0 = 0; k0 < kPadded; k0 += 4) {
      for (size_t c = 0; c < width; ++c) {
        size_t col = col0 + c;
        for (size_t q = 0; q < 4; ++q) {
          size_t kk = k0 + q;
          *dst++ = (kk < k && col < n) ? b[kk * n + col] : 0;
        }
      }
    }
  }
}

void packAAvx512(const uint8_t* a, size_t rows, size_t k, uint8_t flip, size_t strideBytes,
                 uint8_t* out, int32_t* rowSum) {
  const __m512i flipv = _mm512_set1_epi8(static_cast<char>(flip));
  for (size_t r = 0; r < rows; ++r) {
    const uint8_t* src = a + r * k;
    uint8_t* dst = out + r * strideBytes;
    __m512i sums = _mm512_setzero_si512();
    for (size_t kk = 0; kk < k; kk += 64) {
      __mmask64 mask = k - kk >= 64 ? ~__mmask64(0) : (__mmask64(1) << (k - kk)) - 1;
      __m512i v = _mm512_maskz_mov_epi8(mask, _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, src + kk), flipv));
      _mm512_mask_storeu_epi8(dst + kk, mask, v);
      sums = _mm512_add_epi64(sums, _mm512_sad_epu8(v, _mm512_setzero_si512()));
    }
    std::memset(dst + k, 0, strideBytes - k);
    rowSum[r] = static_cast<int32_t>(_mm512_reduce_add_epi64(sums));
  }
}

void quantizeRowsAvx512(const float* x, size_t rows, size_t k, size_t strideBytes, uint8_t* out,
                        int32_t* rowSum, int32_t* zeroPoint, float* scale) {
  for (size_t r = 0; r < rows; ++r) {
    const float* src = x + r * k;
    __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
    for (size_t kk = 0; kk < k; kk += 16) {
      __mmask16 mask = k - kk >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (k - kk)) - 1);
      __m512 v = _mm512_maskz_loadu_ps(mask, src + kk);
      // min/max return their second operand for NaN, so NaNs are skipped like fmin/fmax do.
      lo = _mm512_min_ps(v, lo);
      hi = _mm512_max_ps(v, hi);
    }
    dynamicRowParams(_mm512_reduce_min_ps(lo), _mm512_reduce_max_ps(hi), &scale[r], &zeroPoint[r]);
    const __m512 scalev = _mm512_set1_ps(scale[r]);
    const __m512i zpv = _mm512_set1_epi32(zeroPoint[r]);
    const __m512 lov = _mm512_set1_ps(static_cast<float>(-zeroPoint[r]));
    const __m512 hiv = _mm512_set1_ps(static_cast<float>(255 - zeroPoint[r]));
    uint8_t* dst = out + r * strideBytes;
    __m512i sums = _mm512_setzero_si512();
    for (size_t kk = 0; kk < k; kk += 16) {
      __mmask16 mask = k - kk >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (k - kk)) - 1);
      __m512 v = _mm512_div_ps(_mm512_maskz_loadu_ps(mask, src + kk), scalev);
      __mmask16 ordered = _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q);
      v = _mm512_min_ps(_mm512_max_ps(v, lov), hiv);
      __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(v), zpv);
      q = _mm512_mask_mov_epi32(zpv, ordered, q);  // NaN quantizes to the zero point
      q = _mm512_maskz_mov_epi32(mask, q);         // lanes past k add nothing to the sum
      sums = _mm512_add_epi32(sums, q);
      _mm_mask_storeu_epi8(dst + kk, mask, _mm512_cvtepi32_epi8(q));
    }
    std::memset(dst + k, 0, strideBytes - k);
    rowSum[r] = _mm512_reduce_add_epi32(sums);
  }
}

void epilogueAvx512(const GemmTask& task, const int32_t* acc, size_t accStride, size_t rowBegin,
                    size_t rowEnd, size_t col0, size_t width) {
  const PackedWeights& w = *task.w;
  for (size_t r = rowBegin; r < rowEnd; ++r) {
    const int32_t* src = acc + (r - rowBegin) * accStride;
    const __m512i rowSum = _mm512_set1_epi32(task.rowSum[r]);
    const __m512i rowZero = _mm512_set1_epi32(task.rowZeroPoint[r]);
    for (size_t c = 0; c < width && col0 + c < task.n; c += 16) {
      size_t col = col0 + c;
      __mmask16 mask = task.n - col >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (task.n - col)) - 1);
      __m512i v = _mm512_loadu_si512(src + c);
      if (w.hasZeroPoint) {
        v = _mm512_sub_epi32(v, _mm512_mullo_epi32(_mm512_loadu_si512(w.zeroPoint.data() + col), rowSum));
      }
      v = _mm512_sub_epi32(v, _mm512_mullo_epi32(_mm512_loadu_si512(w.columnSum.data() + col), rowZero));
      if (task.c) {
        _mm512_mask_storeu_epi32(task.c + r * task.n + col, mask, v);
      } else {
        __m512 s = _mm512_mul_ps(_mm512_set1_ps(task.rowScale[r]), _mm512_loadu_ps(w.scale.data() + col));
        __m512 bias = task.bias ? _mm512_maskz_loadu_ps(mask, task.bias + col) : _mm512_setzero_ps();
        _mm512_mask_storeu_ps(task.y + r * task.n + col, mask, _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), s, bias));
      }
    }
  }
}

void tileAvx512(const GemmTask& task, size_t rowBegin, size_t rowEnd, size_t panel) {
  const PackedWeights& w = *task.w;
  const IsaKernels& isa = avx512VnniKernels();
  size_t width = panelColumns(isa, w, panel);
  size_t vectors = width / 16;
  size_t bStride = width * 4;
  const auto* b = reinterpret_cast<const int8_t*>(w.data.data()) + panelOffsetElements(isa, w, panel);
  size_t groups = w.kPadded / 4;
  size_t rows = rowEnd - rowBegin;
  int32_t* acc = scratchFor(rows * kPanel).data();
  size_t g0 = 0;
  do {
    size_t blockGroups = std::min(kGroupsPerBlock, groups - g0);
    for (size_t r = rowBegin; r < rowEnd; r += kMaxRows) {
      size_t mr = std::min(kMaxRows, rowEnd - r);
      blockFor(mr, vectors)(task.a + r * task.aStride + 4 * g0, task.aStride, b + g0 * bStride, bStride,
                            blockGroups, acc + (r - rowBegin) * kPanel, g0 > 0);
    }
    g0 += blockGroups;
  } while (g0 < groups);
  epilogueAvx512(task, acc, kPanel, rowBegin, std::min(rowEnd, task.m), panel * kPanel, width);
}

namespace {

double peakMacsPerSecond(double seconds) {
  // 24 independent accumulators, as in the 6 x 4 register block, operands in
  // registers. Written in asm: the compiler spills an accumulator array kept
  // live across the clock calls.
  constexpr int kReps = 4096;
  // The best of short slices: on a shared machine other load only ever slows a slice down.
  double best = 0, spent = 0;
  while (spent < seconds) {
    auto start = std::chrono::steady_clock::now();
    __asm__ volatile(
      "vpternlogd $0xff, %%zmm30, %%zmm30, %%zmm30\n"
      "vpabsb %%zmm30, %%zmm31\n"
      "mov %[reps], %%ecx\n"
      "1:\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm0\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm1\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm2\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm3\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm4\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm5\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm6\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm7\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm8\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm9\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm10\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm11\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm12\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm13\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm14\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm15\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm16\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm17\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm18\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm19\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm20\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm21\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm22\n"
      "vpdpbusd %%zmm31, %%zmm30, %%zmm23\n"
      "dec %%ecx\n"
      "jnz 1b\n"
      :
      : [reps] "r"(kReps)
      : "ecx", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm30", "xmm31");
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, (kReps * 24.0 * 64) / elapsed);
    spent += elapsed;
  }
  return best;
}

}  // namespace

const IsaKernels& avx512VnniKernels() {
  static const IsaKernels table = {IsaLevel::Avx512Vnni, kPanel, 16, 4, 1, 1,
                                   packBAvx512, packAAvx512, quantizeRowsAvx512, tileAvx512, peakMacsPerSecond};
  return table;
}

}  // namespace onnxforge::int8
