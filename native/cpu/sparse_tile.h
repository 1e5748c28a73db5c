// The sparse column kernels, written once over a small vector interface (Ops) that
// each ISA file implements and instantiates, so every path runs the same loop.
// Included only by the native/cpu/sparse_*.cc files.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "sparse_isa.h"

namespace onnxforge::sparse::tile {

// y[rowBegin + i][j] = acc[(j - c0) * lanes + i] + bias[j].
inline void storeFloat(const FloatTile& t, const float* acc, size_t lanes, size_t c0, size_t c1) {
  const size_t n = t.w->n;
  for (size_t i = 0; i < t.rows; ++i) {
    float* y = t.y + (t.rowBegin + i) * n;
    for (size_t j = c0; j < c1; ++j) y[j] = acc[(j - c0) * lanes + i] + (t.bias ? t.bias[j] : 0.0f);
  }
}

// The epilogue the float kernels use unless their ISA has a faster one.
struct ScalarStore {
  static void columns(const FloatTile& t, const float* acc, size_t lanes, size_t c0, size_t c1) {
    storeFloat(t, acc, lanes, c0, c1);
  }
};

// xT[kk * lanes + i] = x[i * k + kk] for i < rows, zero for rows <= i < lanes; blocks of 64 kk keep
// the destination block in L1.
inline void transposeRows(const float* x, size_t rows, size_t k, size_t lanes, float* xT) {
  constexpr size_t kBlock = 64;
  for (size_t k0 = 0; k0 < k; k0 += kBlock) {
    const size_t k1 = k0 + kBlock < k ? k0 + kBlock : k;
    for (size_t i = 0; i < lanes; ++i) {
      const float* src = x + i * k;
      for (size_t kk = k0; kk < k1; ++kk) xT[kk * lanes + i] = i < rows ? src[kk] : 0.0f;
    }
  }
}

// transposeRows for rows given by pieces.
inline void transposePieces(const RowPieces& x, size_t row0, size_t rows, size_t lanes, float* xT) {
  for (size_t i = 0; i < lanes; ++i) {
    for (size_t s = 0; s < x.pieces; ++s) {
      const float* src = i < rows ? x.piece[(row0 + i) * x.pieces + s] : nullptr;
      float* dst = xT + s * x.length * lanes + i;
      for (size_t c = 0; c < x.length; ++c) dst[c * lanes] = src ? src[c] : 0.0f;
    }
  }
}

// The dense int8 kernels' epilogue, so results match linearInt8 bit for bit: the
// int32 product corrected for x's zero point (wrapping), converted, scaled, plus bias.
inline float dequantize(uint32_t acc, int32_t rowZeroPoint, int32_t columnSum, float rowScale, float scale,
                        float bias) {
  uint32_t v = acc - static_cast<uint32_t>(rowZeroPoint) * static_cast<uint32_t>(columnSum);
  return std::fma(static_cast<float>(static_cast<int32_t>(v)), rowScale * scale, bias);
}

inline void storeInt8(const Int8Tile& t, const int32_t* acc, size_t lanes, size_t c0, size_t c1) {
  const PackedSparse& w = *t.w;
  for (size_t i = 0; i < t.rows; ++i) {
    float* y = t.y + (t.rowBegin + i) * w.n;
    for (size_t j = c0; j < c1; ++j) {
      y[j] = dequantize(static_cast<uint32_t>(acc[(j - c0) * lanes + i]), t.rowZeroPoint[i], w.columnSum[j],
                        t.rowScale[i], w.scale[j], t.bias ? t.bias[j] : 0.0f);
    }
  }
}

// Column sums of a tile, lanes per column: reused by the thread across calls.
inline float* columnAccumulators(size_t count) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < count) buffer.resize(count);
  return buffer.data();
}

// Ops: Vec, kWidth (lanes per Vec), zero(), load(const float*), broadcast(float),
// fma(a, b, c) = a * b + c, add(a, b), store(float*, Vec).
// V vectors cover the tile's lanes; U partial sums per column hide the FMA latency. Each row of xT
// (one weight's x values) feeds one FMA per vector, so xT must come from L1: the rows go by chunks
// (PackedSparse::kChunkRows, 32 KiB of xT at 64 lanes), each over every column, reading the chunk-major
// entries in order, the column sums kept in between.
template <typename Ops, int V, int U, typename Store = ScalarStore>
void floatColumns(const FloatTile& t, size_t c0, size_t c1) {
  using Vec = typename Ops::Vec;
  constexpr size_t kLanes = V * Ops::kWidth;
  const PackedSparse& w = *t.w;
  const uint8_t* rows = w.chunkRow.data();
  const float* values = w.chunkValue.as<float>();
  const size_t chunks = w.chunks(), n = w.n;
  float* acc = columnAccumulators((c1 - c0) * kLanes);
  for (size_t c = 0; c < chunks; ++c) {
    const float* xT = t.xT + c * PackedSparse::kChunkRows * kLanes;
    const size_t* bounds = w.chunkStart.data() + c * n;
    for (size_t j = c0; j < c1; ++j) {
      size_t p = bounds[j];
      const size_t end = bounds[j + 1];
      float* columnAcc = acc + (j - c0) * kLanes;
      if (p == end && c > 0) continue;
      Vec sum[U][V];
      for (int u = 0; u < U; ++u) {
        for (int v = 0; v < V; ++v) sum[u][v] = u == 0 && c > 0 ? Ops::load(columnAcc + v * Ops::kWidth) : Ops::zero();
      }
      for (; p + U <= end; p += U) {
#pragma GCC unroll 8
        for (int u = 0; u < U; ++u) {
          const Vec wv = Ops::broadcast(values[p + u]);
          const float* x = xT + static_cast<size_t>(rows[p + u]) * kLanes;
#pragma GCC unroll 4
          for (int v = 0; v < V; ++v) sum[u][v] = Ops::fma(wv, Ops::load(x + v * Ops::kWidth), sum[u][v]);
        }
      }
      for (; p < end; ++p) {
        const Vec wv = Ops::broadcast(values[p]);
        const float* x = xT + static_cast<size_t>(rows[p]) * kLanes;
        for (int v = 0; v < V; ++v) sum[0][v] = Ops::fma(wv, Ops::load(x + v * Ops::kWidth), sum[0][v]);
      }
      for (int u = 1; u < U; ++u) {
        for (int v = 0; v < V; ++v) sum[0][v] = Ops::add(sum[0][v], sum[u][v]);
      }
      for (int v = 0; v < V; ++v) Ops::store(columnAcc + v * Ops::kWidth, sum[0][v]);
    }
  }
  for (size_t s0 = c0; s0 < c1; s0 += kColumnsPerCall) {
    Store::columns(t, acc + (s0 - c0) * kLanes, kLanes, s0, std::min(c1, s0 + kColumnsPerCall));
  }
}

// Ops8: Vec (int32 sums of kWidth lanes), Group (one weight group as the dot needs it),
// zero(), load(const uint8_t*) (kWidth lanes x 4 bytes), group(const int8_t*) (4 values),
// dot(acc, x, g) (+= per lane the 4 products u8 x s8), add, store(int32_t*, Vec).
template <typename Ops, int V, int U, typename Index>
void int8Columns(const Int8Tile& t, size_t c0, size_t c1) {
  using Vec = typename Ops::Vec;
  using Group = typename Ops::Group;
  constexpr size_t kLanes = V * Ops::kWidth;
  const PackedSparse& w = *t.w;
  const Index* groups = w.index.as<Index>();
  const int8_t* values = w.values.as<int8_t>();
  alignas(64) int32_t acc[kColumnsPerCall * kLanes];
  for (size_t j = c0; j < c1; ++j) {
    Vec sum[U][V];
    for (int u = 0; u < U; ++u) {
      for (int v = 0; v < V; ++v) sum[u][v] = Ops::zero();
    }
    size_t p = w.columnStart[j];
    const size_t end = w.columnStart[j + 1];
    for (; p + U <= end; p += U) {
#pragma GCC unroll 8
      for (int u = 0; u < U; ++u) {
        const Group g = Ops::group(values + 4 * (p + u));
        const uint8_t* x = t.xT + static_cast<size_t>(groups[p + u]) * kLanes * 4;
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) sum[u][v] = Ops::dot(sum[u][v], Ops::load(x + v * Ops::kWidth * 4), g);
      }
    }
    for (; p < end; ++p) {
      const Group g = Ops::group(values + 4 * p);
      const uint8_t* x = t.xT + static_cast<size_t>(groups[p]) * kLanes * 4;
      for (int v = 0; v < V; ++v) sum[0][v] = Ops::dot(sum[0][v], Ops::load(x + v * Ops::kWidth * 4), g);
    }
    for (int u = 1; u < U; ++u) {
      for (int v = 0; v < V; ++v) sum[0][v] = Ops::add(sum[0][v], sum[u][v]);
    }
    for (int v = 0; v < V; ++v) Ops::store(acc + (j - c0) * kLanes + v * Ops::kWidth, sum[0][v]);
  }
  storeInt8(t, acc, kLanes, c0, c1);
}

// The int8 kernel for the packed index width.
template <typename Ops, int V, int U>
void int8ColumnsAnyIndex(const Int8Tile& t, size_t c0, size_t c1) {
  if (t.w->wideIndex) {
    int8Columns<Ops, V, U, uint32_t>(t, c0, c1);
  } else {
    int8Columns<Ops, V, U, uint16_t>(t, c0, c1);
  }
}

}  // namespace onnxforge::sparse::tile
