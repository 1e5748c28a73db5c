// AVX2 int8 kernels. vpmaddubsw would saturate its int16 pair sums, so both
// operands are widened to int16 at pack time and multiplied with vpmaddwd, whose
// pair sums (at most 2 * 255 * 128) fit int32: the result is exact.
// B panels are 16 columns wide; each k-pair is one 64-byte row holding, per
// column, its two k values as int16. A rows are uint16, broadcast a pair at a time.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "int8_isa.h"

namespace onnxforge::int8 {
namespace {

constexpr size_t kPanel = 16;
constexpr size_t kMaxRows = 6;
constexpr size_t kPairsPerBlock = 256;  // 256 x 64 B of B stay in L1

int32_t load4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

__m256i tailMask(size_t count) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(std::min<size_t>(count, 8))), lanes);
}

template <int MR>
void registerBlock(const uint8_t* a, size_t lda, const uint8_t* b, size_t pairs, int32_t* c,
                   bool accumulate) {
  __m256i acc[MR][2];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    for (int v = 0; v < 2; ++v) {
      acc[r][v] = accumulate ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + r * kPanel + v * 8))
                             : _mm256_setzero_si256();
    }
  }
  for (size_t p = 0; p < pairs; ++p) {
    __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 32));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      __m256i av = _mm256_set1_epi32(load4(a + r * lda + 4 * p));
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(av, b0));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(av, b1));
    }
    b += 64;
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    for (int v = 0; v < 2; ++v) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * kPanel + v * 8), acc[r][v]);
    }
  }
}

using BlockFn = void (*)(const uint8_t*, size_t, const uint8_t*, size_t, int32_t*, bool);
constexpr BlockFn kBlocks[kMaxRows] = {registerBlock<1>, registerBlock<2>, registerBlock<3>,
                                       registerBlock<4>, registerBlock<5>, registerBlock<6>};

std::vector<int32_t>& scratchFor(size_t values) {
  thread_local std::vector<int32_t> scratch;
  if (scratch.size() < values) scratch.resize(values);
  return scratch;
}

void packB(const int8_t* b, size_t k, size_t n, size_t kPadded, size_t nPadded, uint8_t* out) {
  auto* dst = reinterpret_cast<int16_t*>(out);
  for (size_t col0 = 0; col0 < nPadded; col0 += kPanel) {
    for (size_t k0 = 0; k0 < kPadded; k0 += 2) {
      for (size_t c = 0; c < kPanel; ++c) {
        size_t col = col0 + c;
        for (size_t q = 0; q < 2; ++q) {
          size_t kk = k0 + q;
          *dst++ = (kk < k && col < n) ? b[kk * n + col] : 0;
        }
      }
    }
  }
}

void packA(const uint8_t* a, size_t rows, size_t k, uint8_t flip, size_t strideBytes, uint8_t* out,
           int32_t* rowSum) {
  const __m128i flipv = _mm_set1_epi8(static_cast<char>(flip));
  for (size_t r = 0; r < rows; ++r) {
    const uint8_t* src = a + r * k;
    auto* dst = reinterpret_cast<uint16_t*>(out + r * strideBytes);
    __m256i sums = _mm256_setzero_si256();
    size_t kk = 0;
    for (; kk + 16 <= k; kk += 16) {
      __m128i v = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + kk)), flipv);
      __m256i wide = _mm256_cvtepu8_epi16(v);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + kk), wide);
      sums = _mm256_add_epi32(sums, _mm256_madd_epi16(wide, _mm256_set1_epi16(1)));
    }
    alignas(32) int32_t lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sums);
    int32_t sum = 0;
    for (int i = 0; i < 8; ++i) sum += lanes[i];
    for (; kk < k; ++kk) {
      dst[kk] = static_cast<uint8_t>(src[kk] ^ flip);
      sum += dst[kk];
    }
    std::memset(dst + k, 0, strideBytes - 2 * k);
    rowSum[r] = sum;
  }
}

float horizontal(__m256 v, bool max) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, v);
  float out = lanes[0];
  for (int i = 1; i < 8; ++i) out = max ? std::max(out, lanes[i]) : std::min(out, lanes[i]);
  return out;
}

void quantizeRows(const float* x, size_t rows, size_t k, size_t strideBytes, uint8_t* out,
                  int32_t* rowSum, int32_t* zeroPoint, float* scale) {
  for (size_t r = 0; r < rows; ++r) {
    const float* src = x + r * k;
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    size_t kk = 0;
    for (; kk + 8 <= k; kk += 8) {
      __m256 v = _mm256_loadu_ps(src + kk);
      // min/max return their second operand for NaN, so NaNs are skipped like fmin/fmax do.
      lo = _mm256_min_ps(v, lo);
      hi = _mm256_max_ps(v, hi);
    }
    float rowLo = horizontal(lo, false), rowHi = horizontal(hi, true);
    for (; kk < k; ++kk) {
      rowLo = std::fmin(rowLo, src[kk]);
      rowHi = std::fmax(rowHi, src[kk]);
    }
    dynamicRowParams(rowLo, rowHi, &scale[r], &zeroPoint[r]);
    const __m256 scalev = _mm256_set1_ps(scale[r]);
    const __m256i zpv = _mm256_set1_epi32(zeroPoint[r]);
    const __m256 lov = _mm256_set1_ps(static_cast<float>(-zeroPoint[r]));
    const __m256 hiv = _mm256_set1_ps(static_cast<float>(255 - zeroPoint[r]));
    auto* dst = reinterpret_cast<uint16_t*>(out + r * strideBytes);
    __m256i sums = _mm256_setzero_si256();
    for (kk = 0; kk + 8 <= k; kk += 8) {
      __m256 v = _mm256_div_ps(_mm256_loadu_ps(src + kk), scalev);
      __m256i ordered = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_ORD_Q));
      v = _mm256_min_ps(_mm256_max_ps(v, lov), hiv);
      __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), zpv);
      q = _mm256_blendv_epi8(zpv, q, ordered);  // NaN quantizes to the zero point
      sums = _mm256_add_epi32(sums, q);
      __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + kk), packed);
    }
    alignas(32) int32_t lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sums);
    int32_t sum = 0;
    for (int i = 0; i < 8; ++i) sum += lanes[i];
    for (; kk < k; ++kk) {
      dst[kk] = quantizeToU8(src[kk], scale[r], zeroPoint[r]);
      sum += dst[kk];
    }
    std::memset(dst + k, 0, strideBytes - 2 * k);
    rowSum[r] = sum;
  }
}

void epilogue(const GemmTask& task, const int32_t* acc, size_t rowBegin, size_t rowEnd, size_t col0) {
  const PackedWeights& w = *task.w;
  for (size_t r = rowBegin; r < rowEnd; ++r) {
    const int32_t* src = acc + (r - rowBegin) * kPanel;
    const __m256i rowSum = _mm256_set1_epi32(task.rowSum[r]);
    const __m256i rowZero = _mm256_set1_epi32(task.rowZeroPoint[r]);
    for (size_t c = 0; c < kPanel && col0 + c < task.n; c += 8) {
      size_t col = col0 + c;
      __m256i mask = tailMask(task.n - col);
      __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + c));
      if (w.hasZeroPoint) {
        __m256i zp = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.zeroPoint.data() + col));
        v = _mm256_sub_epi32(v, _mm256_mullo_epi32(zp, rowSum));
      }
      __m256i colSum = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.columnSum.data() + col));
      v = _mm256_sub_epi32(v, _mm256_mullo_epi32(colSum, rowZero));
      if (task.c) {
        _mm256_maskstore_epi32(task.c + r * task.n + col, mask, v);
      } else {
        __m256 s = _mm256_mul_ps(_mm256_set1_ps(task.rowScale[r]), _mm256_loadu_ps(w.scale.data() + col));
        __m256 bias = task.bias ? _mm256_maskload_ps(task.bias + col, mask) : _mm256_setzero_ps();
        _mm256_maskstore_ps(task.y + r * task.n + col, mask, _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), s, bias));
      }
    }
  }
}

void tile(const GemmTask& task, size_t rowBegin, size_t rowEnd, size_t panel) {
  const PackedWeights& w = *task.w;
  const IsaKernels& isa = avx2Kernels();
  const uint8_t* b = w.data.data() + 2 * panelOffsetElements(isa, w, panel);
  size_t pairs = w.kPadded / 2;
  int32_t* acc = scratchFor((rowEnd - rowBegin) * kPanel).data();
  size_t p0 = 0;
  do {
    size_t blockPairs = std::min(kPairsPerBlock, pairs - p0);
    for (size_t r = rowBegin; r < rowEnd; r += kMaxRows) {
      size_t mr = std::min(kMaxRows, rowEnd - r);
      kBlocks[mr - 1](task.a + r * task.aStride + 4 * p0, task.aStride, b + 64 * p0, blockPairs,
                      acc + (r - rowBegin) * kPanel, p0 > 0);
    }
    p0 += blockPairs;
  } while (p0 < pairs);
  epilogue(task, acc, rowBegin, std::min(rowEnd, task.m), panel * kPanel);
}

double peakMacsPerSecond(double seconds) {
  // 12 independent accumulators, as in the 6 x 2 register block.
  __m256i acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_epi32(i);
  __m256i a = _mm256_set1_epi32(0x00030004), b = _mm256_set1_epi32(0x00050006);
  // The best of short slices: on a shared machine other load only ever slows a slice down.
  double best = 0, spent = 0;
  while (spent < seconds) {
    auto start = std::chrono::steady_clock::now();
    for (int rep = 0; rep < 4096; ++rep) {
#pragma GCC unroll 12
      for (int i = 0; i < 12; ++i) {
        __asm__ volatile("" : "+x"(b));  // keeps the compiler from sharing one product
        acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(a, b));
      }
    }
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, (4096.0 * 12 * 16) / elapsed);
    spent += elapsed;
  }
  __m256i sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm256_add_epi32(sum, acc[i]);
  volatile int sink = _mm256_extract_epi32(sum, 0);
  (void)sink;
  return best;
}

}  // namespace

const IsaKernels& avx2Kernels() {
  static const IsaKernels table = {IsaLevel::Avx2, kPanel, kPanel, 2, 1, 2,
                                   packB, packA, quantizeRows, tile, peakMacsPerSecond};
  return table;
}

}  // namespace onnxforge::int8
