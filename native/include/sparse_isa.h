// The per-ISA sparse kernels behind sparse_gemm.h: one table per ISA file;
// sparse_gemm.cc lists them as one family for isa_dispatch.h.
#pragma once
#include <cstddef>
#include <cstdint>

#include "sparse_gemm.h"

namespace onnxforge::sparse {

// Rows [rowBegin, rowBegin + rows) of x times columns of W.
struct FloatTile {
  const PackedSparse* w = nullptr;
  // Multi-row kernels: the rows transposed, xT[kk * lanes + i], lanes past `rows` zero.
  const float* xT = nullptr;
  size_t lanes = 0;
  // Single-row kernels: the row itself.
  const float* x = nullptr;
  size_t rowBegin = 0, rows = 0;
  float* y = nullptr;  // m x n
  const float* bias = nullptr;
};

struct Int8Tile {
  const PackedSparse* w = nullptr;
  // Multi-row kernels: quantized rows transposed by groups of 4, xT[(g * lanes + i) * 4 + q]
  // = xq[i][4g + q]; lanes past `rows` zero.
  const uint8_t* xT = nullptr;
  size_t lanes = 0;
  // Single-row kernels: the quantized row, zero-padded to whole groups.
  const uint8_t* x = nullptr;
  size_t rowBegin = 0, rows = 0;
  const int32_t* rowZeroPoint = nullptr;  // per row of the tile
  const float* rowScale = nullptr;
  float* y = nullptr;
  const float* bias = nullptr;
};

// Float32 2:4 weights (their own layout) times rows of x.
struct TwoFourTile {
  const PackedSparse* w = nullptr;
  const float* x = nullptr;  // m rows of xStride floats, zero past k (whole groups of 4)
  size_t xStride = 0;
  float* y = nullptr;  // m x n
  const float* bias = nullptr;
};

struct SparseKernels {
  IsaLevel isa;
  // Lanes of the multi-row tile for m rows (at least 2); the last tile may be partial.
  size_t (*floatLanes)(size_t m);
  // xT[kk * lanes + i] = x[i * k + kk] for the tile's rows i < rows, zero for rows <= i < lanes.
  void (*transposeFloat)(const float* x, size_t rows, size_t k, size_t lanes, float* xT);
  // The same for rows [row0, row0 + rows) given by pieces.
  void (*transposePieces)(const RowPieces& x, size_t row0, size_t rows, size_t lanes, float* xT);
  // Columns [c0, c1), any number of them.
  void (*floatColumns)(const FloatTile& tile, size_t c0, size_t c1);
  void (*floatRow)(const FloatTile& tile, size_t c0, size_t c1);
  size_t (*int8Lanes)(size_t m);
  void (*int8Columns)(const Int8Tile& tile, size_t c0, size_t c1);
  void (*int8Row)(const Int8Tile& tile, size_t c0, size_t c1);
  // Rows [r0, r1) of x times the 16-column panels [p0, p1) of 2:4 weights.
  void (*twoFour)(const TwoFourTile& tile, size_t r0, size_t r1, size_t p0, size_t p1);
};

constexpr size_t kColumnsPerCall = 16;
constexpr size_t kMaxLanes = 64;

const SparseKernels& scalarSparseKernels();
#if defined(ONNXFORGE_X86)
const SparseKernels& avx2SparseKernels();
const SparseKernels& avx512SparseKernels();
#endif

}  // namespace onnxforge::sparse
