// Portable sparse kernels: the reference the vector paths are tested against
// (float within rounding, int8 exactly).
#include <algorithm>

#include "sparse_tile.h"

namespace onnxforge::sparse {
namespace {

struct FloatOps {
  using Vec = float;
  static constexpr size_t kWidth = 1;
  static float zero() { return 0.0f; }
  static float load(const float* p) { return *p; }
  static float broadcast(float v) { return v; }
  static float fma(float a, float b, float c) { return a * b + c; }
  static float add(float a, float b) { return a + b; }
  static void store(float* p, float v) { *p = v; }
};

// uint32: the sums wrap like the vector kernels' int32 lanes, they never trap.
struct Int8Ops {
  using Vec = uint32_t;
  using Group = const int8_t*;
  static constexpr size_t kWidth = 1;
  static uint32_t zero() { return 0; }
  static const uint8_t* load(const uint8_t* p) { return p; }
  static const int8_t* group(const int8_t* p) { return p; }
  static uint32_t dot(uint32_t acc, const uint8_t* x, const int8_t* w) {
    for (int q = 0; q < 4; ++q) acc += static_cast<uint32_t>(x[q] * w[q]);
    return acc;
  }
  static uint32_t add(uint32_t a, uint32_t b) { return a + b; }
  static void store(int32_t* p, uint32_t v) { *p = static_cast<int32_t>(v); }
};

constexpr size_t kLanes = 8;

size_t lanesFor(size_t) { return kLanes; }

template <typename Index>
void floatRowT(const FloatTile& t, size_t c0, size_t c1) {
  const PackedSparse& w = *t.w;
  const Index* rows = w.index.as<Index>();
  const float* values = w.values.as<float>();
  float* y = t.y + t.rowBegin * w.n;
  for (size_t j = c0; j < c1; ++j) {
    float sum = 0.0f;
    for (size_t p = w.columnStart[j]; p < w.columnStart[j + 1]; ++p) sum += values[p] * t.x[rows[p]];
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
  float* y = t.y + t.rowBegin * w.n;
  for (size_t j = c0; j < c1; ++j) {
    uint32_t acc = 0;
    for (size_t p = w.columnStart[j]; p < w.columnStart[j + 1]; ++p) {
      acc = Int8Ops::dot(acc, t.x + 4 * static_cast<size_t>(groups[p]), values + 4 * p);
    }
    y[j] = tile::dequantize(acc, t.rowZeroPoint[0], w.columnSum[j], t.rowScale[0], w.scale[j],
                            t.bias ? t.bias[j] : 0.0f);
  }
}

void int8Row(const Int8Tile& t, size_t c0, size_t c1) {
  t.w->wideIndex ? int8RowT<uint32_t>(t, c0, c1) : int8RowT<uint16_t>(t, c0, c1);
}

void twoFour(const TwoFourTile& t, size_t r0, size_t r1, size_t p0, size_t p1) {
  constexpr size_t kPanel = PackedSparse::kPanel;
  const PackedSparse& w = *t.w;
  const size_t groups = w.groups();
  for (size_t panel = p0; panel < p1; ++panel) {
    const uint8_t* base = w.twoFour.data() + panel * groups * PackedSparse::kTwoFourGroupBytes;
    const size_t width = std::min(kPanel, w.n - panel * kPanel);
    for (size_t i = r0; i < r1; ++i) {
      const float* x = t.x + i * t.xStride;
      float acc[kPanel] = {};
      for (size_t g = 0; g < groups; ++g) {
        const uint8_t* block = base + g * PackedSparse::kTwoFourGroupBytes;
        const auto* first = reinterpret_cast<const float*>(block);
        const float* second = first + kPanel;
        const uint8_t* rows = block + 2 * kPanel * sizeof(float);
        const float* xg = x + 4 * g;
        for (size_t c = 0; c < kPanel; ++c) acc[c] += first[c] * xg[rows[c] & 3] + second[c] * xg[(rows[c] >> 2) & 3];
      }
      float* y = t.y + i * w.n + panel * kPanel;
      for (size_t c = 0; c < width; ++c) y[c] = acc[c] + (t.bias ? t.bias[panel * kPanel + c] : 0.0f);
    }
  }
}

}  // namespace

const SparseKernels& scalarSparseKernels() {
  static const SparseKernels table = {IsaLevel::Scalar,
                                      lanesFor,
                                      tile::transposeRows,
                                      tile::transposePieces,
                                      tile::floatColumns<FloatOps, kLanes, 1>,
                                      floatRow,
                                      lanesFor,
                                      tile::int8ColumnsAnyIndex<Int8Ops, kLanes, 1>,
                                      int8Row,
                                      twoFour};
  return table;
}

}  // namespace onnxforge::sparse
