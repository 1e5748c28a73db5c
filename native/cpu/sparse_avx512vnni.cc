// AVX-512 sparse kernels (also used at the AMX level). Float: FMA on 8, 16 or 32
// rows of x per weight (ymm/zmm), gathers for a single row. Int8: vpdpbusd on one
// 4-row weight group per instruction and lane, exact in int32.
// GCC 12's AVX-512 headers initialize "undefined" vectors from themselves, which
// -Wuninitialized reports at every use of an intrinsic that has one.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "sparse_tile.h"

namespace onnxforge::sparse {
namespace {

struct Float16Ops {
  using Vec = __m512;
  static constexpr size_t kWidth = 16;
  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static Vec broadcast(float v) { return _mm512_set1_ps(v); }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
};

struct Float8Ops {
  using Vec = __m256;
  static constexpr size_t kWidth = 8;
  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static Vec broadcast(float v) { return _mm256_set1_ps(v); }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
};

int32_t load4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

struct Int8x16Ops {
  using Vec = __m512i;
  using Group = __m512i;
  static constexpr size_t kWidth = 16;
  static Vec zero() { return _mm512_setzero_si512(); }
  static Vec load(const uint8_t* p) { return _mm512_loadu_si512(p); }
  static Group group(const int8_t* p) { return _mm512_set1_epi32(load4(p)); }
  static Vec dot(Vec acc, Vec x, Group w) { return _mm512_dpbusd_epi32(acc, x, w); }
  static Vec add(Vec a, Vec b) { return _mm512_add_epi32(a, b); }
  static void store(int32_t* p, Vec v) { _mm512_storeu_si512(p, v); }
};

struct Int8x8Ops {
  using Vec = __m256i;
  using Group = __m256i;
  static constexpr size_t kWidth = 8;
  static Vec zero() { return _mm256_setzero_si256(); }
  static Vec load(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static Group group(const int8_t* p) { return _mm256_set1_epi32(load4(p)); }
  static Vec dot(Vec acc, Vec x, Group w) { return _mm256_dpbusd_epi32(acc, x, w); }
  static Vec add(Vec a, Vec b) { return _mm256_add_epi32(a, b); }
  static void store(int32_t* p, Vec v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
};

__mmask16 tailMask(size_t count) { return count >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << count) - 1); }

// r[i] (16 rows of 16) becomes its transpose: afterwards r[j] holds element j of every row.
// Inlined, so that r stays in registers.
__attribute__((always_inline)) inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int h = 0; h < 2; ++h) {
    for (int i = 0; i < 4; ++i) {
      t[8 * h + i] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + 4 + i], 0x88);
      t[8 * h + 4 + i] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + 4 + i], 0xDD);
    }
  }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
    r[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xDD);
  }
}

// tile::transposeRows by 16 x 16 blocks in registers (lanes a multiple of 16).
void transposeRows(const float* x, size_t rows, size_t k, size_t lanes, float* xT) {
  if (lanes % 16 != 0) return tile::transposeRows(x, rows, k, lanes, xT);
  for (size_t i0 = 0; i0 < lanes; i0 += 16) {
    const size_t count = rows > i0 ? std::min<size_t>(16, rows - i0) : 0;
    for (size_t k0 = 0; k0 < k; k0 += 16) {
      const size_t width = std::min<size_t>(16, k - k0);
      const __mmask16 mask = tailMask(width);
      __m512 r[16];
#pragma GCC unroll 16
      for (size_t i = 0; i < 16; ++i) {
        r[i] = i < count ? _mm512_maskz_loadu_ps(mask, x + (i0 + i) * k + k0) : _mm512_setzero_ps();
      }
      transpose16(r);
      for (size_t j = 0; j < width; ++j) _mm512_storeu_ps(xT + (k0 + j) * lanes + i0, r[j]);
    }
  }
}

// tile::transposePieces by 16 x 16 blocks: 16 rows' values of one piece, 16 at a time.
void transposePieces(const RowPieces& x, size_t row0, size_t rows, size_t lanes, float* xT) {
  if (lanes % 16 != 0) return tile::transposePieces(x, row0, rows, lanes, xT);
  for (size_t i0 = 0; i0 < lanes; i0 += 16) {
    const size_t count = rows > i0 ? std::min<size_t>(16, rows - i0) : 0;
    const float* const* piece = x.piece + (row0 + i0) * x.pieces;
    for (size_t s = 0; s < x.pieces; ++s) {
      for (size_t c0 = 0; c0 < x.length; c0 += 16) {
        const size_t width = std::min<size_t>(16, x.length - c0);
        const __mmask16 mask = tailMask(width);
        __m512 r[16];
#pragma GCC unroll 16
        for (size_t i = 0; i < 16; ++i) {
          const float* src = i < count ? piece[i * x.pieces + s] : nullptr;
          r[i] = src ? _mm512_maskz_loadu_ps(mask, src + c0) : _mm512_setzero_ps();
        }
        transpose16(r);
        float* dst = xT + (s * x.length + c0) * lanes + i0;
        for (size_t j = 0; j < width; ++j) _mm512_storeu_ps(dst + j * lanes, r[j]);
      }
    }
  }
}

// tile::storeFloat by 16 x 16 blocks: 16 columns of 16 lanes become 16 rows of y, plus the bias.
struct TransposingStore {
  static void columns(const FloatTile& t, const float* acc, size_t lanes, size_t c0, size_t c1) {
    const size_t n = t.w->n, width = c1 - c0;
    const __mmask16 mask = tailMask(width);
    const __m512 bias = t.bias ? _mm512_maskz_loadu_ps(mask, t.bias + c0) : _mm512_setzero_ps();
    for (size_t i0 = 0; i0 < t.rows; i0 += 16) {
      __m512 r[16];
#pragma GCC unroll 16
      for (size_t j = 0; j < 16; ++j) r[j] = j < width ? _mm512_loadu_ps(acc + j * lanes + i0) : _mm512_setzero_ps();
      transpose16(r);
      const size_t count = std::min<size_t>(16, t.rows - i0);
      float* y = t.y + (t.rowBegin + i0) * n + c0;
      // Masked stores are slow on some cores (AMD): whole rows of 16 store plainly.
      if (width == 16) {
        for (size_t i = 0; i < count; ++i) _mm512_storeu_ps(y + i * n, _mm512_add_ps(r[i], bias));
      } else {
        for (size_t i = 0; i < count; ++i) _mm512_mask_storeu_ps(y + i * n, mask, _mm512_add_ps(r[i], bias));
      }
    }
  }
};

// Float tiles up to 64 lanes (4 zmm), with U * V >= 8 partial sums in flight (the FMA's latency
// times its two ports); int8 tiles up to 32.
size_t floatLanesFor(size_t m) { return m <= 8 ? 8 : m <= 16 ? 16 : m <= 32 ? 32 : m <= 48 ? 48 : 64; }
size_t int8LanesFor(size_t m) { return m <= 8 ? 8 : m <= 16 ? 16 : 32; }

void floatColumns(const FloatTile& t, size_t c0, size_t c1) {
  switch (t.lanes) {
    case 8: return tile::floatColumns<Float8Ops, 1, 8>(t, c0, c1);
    case 16: return tile::floatColumns<Float16Ops, 1, 8, TransposingStore>(t, c0, c1);
    case 32: return tile::floatColumns<Float16Ops, 2, 4, TransposingStore>(t, c0, c1);
    case 48: return tile::floatColumns<Float16Ops, 3, 3, TransposingStore>(t, c0, c1);
    default: return tile::floatColumns<Float16Ops, 4, 2, TransposingStore>(t, c0, c1);
  }
}

void int8Columns(const Int8Tile& t, size_t c0, size_t c1) {
  switch (t.lanes) {
    case 8: return tile::int8ColumnsAnyIndex<Int8x8Ops, 1, 4>(t, c0, c1);
    case 16: return tile::int8ColumnsAnyIndex<Int8x16Ops, 1, 4>(t, c0, c1);
    default: return tile::int8ColumnsAnyIndex<Int8x16Ops, 2, 2>(t, c0, c1);
  }
}

// 16 entries' indices as int32 lanes; `count` < 16 loads only that many.
__m512i loadIndices(const uint16_t* p, __mmask16 mask) {
  return _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, p));
}
__m512i loadIndices(const uint32_t* p, __mmask16 mask) { return _mm512_maskz_loadu_epi32(mask, p); }

template <typename Index>
void floatRowT(const FloatTile& t, size_t c0, size_t c1) {
  const PackedSparse& w = *t.w;
  const Index* rows = w.index.as<Index>();
  const float* values = w.values.as<float>();
  float* y = t.y + t.rowBegin * w.n;
  for (size_t j = c0; j < c1; ++j) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t p = w.columnStart[j];
    const size_t end = w.columnStart[j + 1];
    for (; p + 32 <= end; p += 32) {
      __m512 x0 = _mm512_i32gather_ps(loadIndices(rows + p, 0xFFFF), t.x, 4);
      __m512 x1 = _mm512_i32gather_ps(loadIndices(rows + p + 16, 0xFFFF), t.x, 4);
      s0 = _mm512_fmadd_ps(_mm512_loadu_ps(values + p), x0, s0);
      s1 = _mm512_fmadd_ps(_mm512_loadu_ps(values + p + 16), x1, s1);
    }
    for (; p < end; p += 16) {
      __mmask16 mask = end - p >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (end - p)) - 1);
      __m512 x = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, loadIndices(rows + p, mask), t.x, 4);
      s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, values + p), x, s0);
    }
    y[j] = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)) + (t.bias ? t.bias[j] : 0.0f);
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
  float* y = t.y + t.rowBegin * w.n;
  for (size_t j = c0; j < c1; ++j) {
    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
    size_t p = w.columnStart[j];
    const size_t end = w.columnStart[j + 1];
    for (; p + 32 <= end; p += 32) {
      __m512i x0 = _mm512_i32gather_epi32(loadIndices(groups + p, 0xFFFF), t.x, 4);
      __m512i x1 = _mm512_i32gather_epi32(loadIndices(groups + p + 16, 0xFFFF), t.x, 4);
      s0 = _mm512_dpbusd_epi32(s0, x0, _mm512_loadu_si512(values + 4 * p));
      s1 = _mm512_dpbusd_epi32(s1, x1, _mm512_loadu_si512(values + 4 * p + 64));
    }
    for (; p < end; p += 16) {
      __mmask16 mask = end - p >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (end - p)) - 1);
      __m512i x = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), mask, loadIndices(groups + p, mask), t.x, 4);
      s0 = _mm512_dpbusd_epi32(s0, x, _mm512_maskz_loadu_epi32(mask, values + 4 * p));
    }
    uint32_t acc = static_cast<uint32_t>(_mm512_reduce_add_epi32(_mm512_add_epi32(s0, s1)));
    y[j] = tile::dequantize(acc, t.rowZeroPoint[0], w.columnSum[j], t.rowScale[0], w.scale[j],
                            t.bias ? t.bias[j] : 0.0f);
  }
}

void int8Row(const Int8Tile& t, size_t c0, size_t c1) {
  t.w->wideIndex ? int8RowT<uint32_t>(t, c0, c1) : int8RowT<uint16_t>(t, c0, c1);
}

// 2:4: each group's 4 values of an x row are broadcast to every 128-bit lane, and
// vpermilps picks, per column, the rows the column kept (the index bits), so every
// FMA does useful work and nothing is gathered.
constexpr size_t kPanel = PackedSparse::kPanel;
constexpr size_t kTwoFourRows = 6;

// Groups [g0, g1) of rows [r0, r0 + MR) x panels [panel0, panel0 + NV): sums start at
// zero for the first groups, else from y; the last groups add the bias.
template <int MR, int NV>
void twoFourBlock(const TwoFourTile& t, size_t r0, size_t panel0, size_t g0, size_t g1) {
  const PackedSparse& w = *t.w;
  const size_t groups = w.groups();
  const uint8_t* panel[NV];
  for (int v = 0; v < NV; ++v) panel[v] = w.twoFour.data() + (panel0 + v) * groups * PackedSparse::kTwoFourGroupBytes;
  const float* x = t.x + r0 * t.xStride;
  __mmask16 mask[NV];
  size_t col[NV];
  for (int v = 0; v < NV; ++v) {
    col[v] = (panel0 + v) * kPanel;
    mask[v] = tailMask(w.n - col[v]);
  }
  __m512 acc[MR][NV];
  for (int i = 0; i < MR; ++i) {
    for (int v = 0; v < NV; ++v) {
      acc[i][v] = g0 == 0 ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mask[v], t.y + (r0 + i) * w.n + col[v]);
    }
  }
  for (size_t g = g0; g < g1; ++g) {
    __m512 first[NV], second[NV];
    __m512i firstRow[NV], secondRow[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const uint8_t* block = panel[v] + g * PackedSparse::kTwoFourGroupBytes;
      first[v] = _mm512_loadu_ps(block);
      second[v] = _mm512_loadu_ps(block + 64);
      firstRow[v] = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 128)));
      secondRow[v] = _mm512_srli_epi32(firstRow[v], 2);  // vpermilps reads bits 0-1 of each lane
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512 xg = _mm512_broadcast_f32x4(_mm_loadu_ps(x + i * t.xStride + 4 * g));
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        acc[i][v] = _mm512_fmadd_ps(first[v], _mm512_permutevar_ps(xg, firstRow[v]), acc[i][v]);
        acc[i][v] = _mm512_fmadd_ps(second[v], _mm512_permutevar_ps(xg, secondRow[v]), acc[i][v]);
      }
    }
  }
  for (int v = 0; v < NV; ++v) {
    const __m512 bias = t.bias && g1 == groups ? _mm512_maskz_loadu_ps(mask[v], t.bias + col[v]) : _mm512_setzero_ps();
    for (int i = 0; i < MR; ++i) {
      _mm512_mask_storeu_ps(t.y + (r0 + i) * w.n + col[v], mask[v], _mm512_add_ps(acc[i][v], bias));
    }
  }
}

using TwoFourFn = void (*)(const TwoFourTile&, size_t, size_t, size_t, size_t);
template <int NV>
constexpr TwoFourFn twoFourBlocks[kTwoFourRows] = {twoFourBlock<1, NV>, twoFourBlock<2, NV>, twoFourBlock<3, NV>,
                                                   twoFourBlock<4, NV>, twoFourBlock<5, NV>, twoFourBlock<6, NV>};

// Groups per pass: one pass's weights for two panels (64 x 288 bytes) stay in L1
// while every row block of the tile reads them.
constexpr size_t kTwoFourGroupsPerPass = 64;

void twoFour(const TwoFourTile& t, size_t r0, size_t r1, size_t p0, size_t p1) {
  const size_t groups = t.w->groups();
  if (r1 - r0 == 1) {
    // One row streams the weights: more columns at once keep more FMAs in flight.
    size_t p = p0;
    for (; p + 4 <= p1; p += 4) twoFourBlock<1, 4>(t, r0, p, 0, groups);
    for (; p < p1; ++p) twoFourBlock<1, 1>(t, r0, p, 0, groups);
    return;
  }
  for (size_t p = p0; p < p1; p += 2) {
    const bool pair = p + 2 <= p1;
    for (size_t g0 = 0; g0 < groups; g0 += kTwoFourGroupsPerPass) {
      const size_t g1 = std::min(groups, g0 + kTwoFourGroupsPerPass);
      for (size_t r = r0; r < r1; r += kTwoFourRows) {
        const size_t rows = std::min(kTwoFourRows, r1 - r);
        (pair ? twoFourBlocks<2> : twoFourBlocks<1>)[rows - 1](t, r, p, g0, g1);
      }
    }
  }
}

}  // namespace

const SparseKernels& avx512SparseKernels() {
  static const SparseKernels table = {IsaLevel::Avx512Vnni, floatLanesFor, transposeRows, transposePieces, floatColumns, floatRow,
                                      int8LanesFor, int8Columns, int8Row, twoFour};
  return table;
}

}  // namespace onnxforge::sparse
