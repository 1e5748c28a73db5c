// AVX2 sparse kernels. Float: FMA on 8, 16 or 32 rows of x per weight, gathers for
// a single row. Int8: without VNNI both operands are widened to int16 and multiplied
// with vpmaddwd, whose pair sums fit int32, so the result is exact (as int8_avx2.cc).
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "sparse_tile.h"

namespace onnxforge::sparse {
namespace {

struct FloatOps {
  using Vec = __m256;
  static constexpr size_t kWidth = 8;
  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static Vec broadcast(float v) { return _mm256_set1_ps(v); }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
};

// 8 lanes: `lo` holds lanes 0-3 and `hi` lanes 4-7, each lane as two int32 pair sums
// (rows 4g, 4g + 1 and 4g + 2, 4g + 3), added together at the store.
struct Int8Ops {
  struct Vec {
    __m256i lo, hi;
  };
  using Group = __m256i;  // the group's 4 values as int16, in every 64-bit lane
  static constexpr size_t kWidth = 8;
  static Vec zero() { return {_mm256_setzero_si256(), _mm256_setzero_si256()}; }
  static Vec load(const uint8_t* p) {
    __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return {_mm256_cvtepu8_epi16(_mm256_castsi256_si128(bytes)), _mm256_cvtepu8_epi16(_mm256_extracti128_si256(bytes, 1))};
  }
  static Group group(const int8_t* p) {
    int32_t packed;
    std::memcpy(&packed, p, sizeof(packed));
    return _mm256_broadcastq_epi64(_mm_cvtepi8_epi16(_mm_cvtsi32_si128(packed)));
  }
  static Vec dot(Vec acc, Vec x, Group w) {
    return {_mm256_add_epi32(acc.lo, _mm256_madd_epi16(x.lo, w)), _mm256_add_epi32(acc.hi, _mm256_madd_epi16(x.hi, w))};
  }
  static Vec add(Vec a, Vec b) { return {_mm256_add_epi32(a.lo, b.lo), _mm256_add_epi32(a.hi, b.hi)}; }
  static void store(int32_t* p, Vec v) {
    // hadd gives lanes 0 1 4 5 | 2 3 6 7; the permute puts them in order.
    __m256i sums = _mm256_permute4x64_epi64(_mm256_hadd_epi32(v.lo, v.hi), 0xD8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), sums);
  }
};

size_t lanesFor(size_t m) { return m <= 8 ? 8 : m <= 16 ? 16 : 32; }

void floatColumns(const FloatTile& t, size_t c0, size_t c1) {
  switch (t.lanes) {
    case 8: return tile::floatColumns<FloatOps, 1, 8>(t, c0, c1);
    case 16: return tile::floatColumns<FloatOps, 2, 4>(t, c0, c1);
    default: return tile::floatColumns<FloatOps, 4, 2>(t, c0, c1);
  }
}

void int8Columns(const Int8Tile& t, size_t c0, size_t c1) {
  switch (t.lanes) {
    case 8: return tile::int8ColumnsAnyIndex<Int8Ops, 1, 4>(t, c0, c1);
    case 16: return tile::int8ColumnsAnyIndex<Int8Ops, 2, 2>(t, c0, c1);
    default: return tile::int8ColumnsAnyIndex<Int8Ops, 4, 1>(t, c0, c1);
  }
}

__m256i loadIndices(const uint16_t* p) {
  return _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
__m256i loadIndices(const uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

float horizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <typename Index>
void floatRowT(const FloatTile& t, size_t c0, size_t c1) {
  const PackedSparse& w = *t.w;
  const Index* rows = w.index.as<Index>();
  const float* values = w.values.as<float>();
  float* y = t.y + t.rowBegin * w.n;
  for (size_t j = c0; j < c1; ++j) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t p = w.columnStart[j];
    const size_t end = w.columnStart[j + 1];
    for (; p + 16 <= end; p += 16) {
      s0 = _mm256_fmadd_ps(_mm256_loadu_ps(values + p), _mm256_i32gather_ps(t.x, loadIndices(rows + p), 4), s0);
      s1 = _mm256_fmadd_ps(_mm256_loadu_ps(values + p + 8), _mm256_i32gather_ps(t.x, loadIndices(rows + p + 8), 4), s1);
    }
    float sum = horizontalSum(_mm256_add_ps(s0, s1));
    for (; p < end; ++p) sum += values[p] * t.x[rows[p]];
    y[j] = sum + (t.bias ? t.bias[j] : 0.0f);
  }
}

void floatRow(const FloatTile& t, size_t c0, size_t c1) {
  t.w->wideIndex ? floatRowT<uint32_t>(t, c0, c1) : floatRowT<uint16_t>(t, c0, c1);
}

template <typename Index>
void int8RowT(const Int8Tile& t, size_t c0, size_t c1) {
  const PackedSparse& w = *t.w;
  const Index* groups = w.index.as<Index>();
  const int8_t* values = w.values.as<int8_t>();
  const auto* x32 = reinterpret_cast<const int*>(t.x);
  float* y = t.y + t.rowBegin * w.n;
  for (size_t j = c0; j < c1; ++j) {
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    size_t p = w.columnStart[j];
    const size_t end = w.columnStart[j + 1];
    for (; p + 8 <= end; p += 8) {
      // 8 groups of x and of w: 32 bytes each, widened to int16 in two halves.
      __m256i x = _mm256_i32gather_epi32(x32, loadIndices(groups + p), 4);
      __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(values + 4 * p));
      s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(x)),
                                                   _mm256_cvtepi8_epi16(_mm256_castsi256_si128(wv))));
      s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm256_extracti128_si256(x, 1)),
                                                   _mm256_cvtepi8_epi16(_mm256_extracti128_si256(wv, 1))));
    }
    alignas(32) int32_t lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), _mm256_add_epi32(s0, s1));
    uint32_t acc = 0;
    for (int i = 0; i < 8; ++i) acc += static_cast<uint32_t>(lanes[i]);
    for (; p < end; ++p) {
      const uint8_t* xg = t.x + 4 * static_cast<size_t>(groups[p]);
      for (int q = 0; q < 4; ++q) acc += static_cast<uint32_t>(xg[q] * values[4 * p + q]);
    }
    y[j] = tile::dequantize(acc, t.rowZeroPoint[0], w.columnSum[j], t.rowScale[0], w.scale[j],
                            t.bias ? t.bias[j] : 0.0f);
  }
}

void int8Row(const Int8Tile& t, size_t c0, size_t c1) {
  t.w->wideIndex ? int8RowT<uint32_t>(t, c0, c1) : int8RowT<uint16_t>(t, c0, c1);
}

// 2:4 as in sparse_avx512vnni.cc: vpermilps picks each column's kept rows out of the
// group's 4 x values; a 16-column panel is two ymm halves.
constexpr size_t kPanel = PackedSparse::kPanel;
constexpr size_t kTwoFourRows = 2;

template <int MR>
void twoFourBlock(const TwoFourTile& t, size_t r0, size_t panel) {
  const PackedSparse& w = *t.w;
  const size_t groups = w.groups();
  const uint8_t* base = w.twoFour.data() + panel * groups * PackedSparse::kTwoFourGroupBytes;
  const float* x = t.x + r0 * t.xStride;
  __m256 acc[MR][2];
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (size_t g = 0; g < groups; ++g) {
    const uint8_t* block = base + g * PackedSparse::kTwoFourGroupBytes;
    const auto* values = reinterpret_cast<const float*>(block);
    __m256 first[2], second[2];
    __m256i firstRow[2], secondRow[2];
    for (int h = 0; h < 2; ++h) {
      first[h] = _mm256_loadu_ps(values + 8 * h);
      second[h] = _mm256_loadu_ps(values + kPanel + 8 * h);
      int64_t rows;
      std::memcpy(&rows, block + 2 * kPanel * sizeof(float) + 8 * h, sizeof(rows));
      firstRow[h] = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(rows));
      secondRow[h] = _mm256_srli_epi32(firstRow[h], 2);  // vpermilps reads bits 0-1 of each lane
    }
    for (int i = 0; i < MR; ++i) {
      const __m256 xg = _mm256_broadcast_ps(reinterpret_cast<const __m128*>(x + i * t.xStride + 4 * g));
      for (int h = 0; h < 2; ++h) {
        acc[i][h] = _mm256_fmadd_ps(first[h], _mm256_permutevar_ps(xg, firstRow[h]), acc[i][h]);
        acc[i][h] = _mm256_fmadd_ps(second[h], _mm256_permutevar_ps(xg, secondRow[h]), acc[i][h]);
      }
    }
  }
  const size_t col = panel * kPanel;
  const size_t width = std::min(kPanel, w.n - col);
  for (int i = 0; i < MR; ++i) {
    alignas(32) float out[kPanel];
    _mm256_store_ps(out, acc[i][0]);
    _mm256_store_ps(out + 8, acc[i][1]);
    float* y = t.y + (r0 + i) * w.n + col;
    for (size_t c = 0; c < width; ++c) y[c] = out[c] + (t.bias ? t.bias[col + c] : 0.0f);
  }
}

void twoFour(const TwoFourTile& t, size_t r0, size_t r1, size_t p0, size_t p1) {
  for (size_t r = r0; r < r1; r += kTwoFourRows) {
    for (size_t p = p0; p < p1; ++p) {
      if (r1 - r >= 2) {
        twoFourBlock<2>(t, r, p);
      } else {
        twoFourBlock<1>(t, r, p);
      }
    }
  }
}

}  // namespace

const SparseKernels& avx2SparseKernels() {
  static const SparseKernels table = {IsaLevel::Avx2, lanesFor, tile::transposeRows, tile::transposePieces, floatColumns, floatRow,
                                      lanesFor, int8Columns, int8Row, twoFour};
  return table;
}

}  // namespace onnxforge::sparse
