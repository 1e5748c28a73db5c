// Sparse matrix multiplication for pruned weights: y = x * W with W (k x n) stored as
// its nonzeros only, per column, so the work and the bytes read scale with the nonzeros.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "cpu_features.h"
#include "int8_buffer.h"
#include "int8_rows.h"

namespace onnxforge::sparse {

enum class WeightType { Float32, Int8 };
// As packed: 'unstructured', or '2:4' (checked at pack time: at most 2 nonzeros in
// every group of 4 consecutive rows of a column).
enum class SparsePattern { Unstructured, TwoFour };

// Compressed sparse columns. Float32: one entry per nonzero weight (its row and value).
// Int8: one entry per group of 4 consecutive rows (k = 4g .. 4g + 3) of a column that
// holds a nonzero: the group index and its 4 int8 values (zeros included), the unit
// the VNNI instruction multiplies. Rows past k in the last group are zero.
//
// Float32 2:4 weights have a layout of their own instead (`twoFour`), the one their
// kernels read without gathers: per panel of 16 columns, per group g of 4 rows, 16
// first values, 16 second values (zeros where a group holds fewer than 2 nonzeros)
// and 16 index bytes, bits 0-1 the row of the first value within the group, bits 2-3
// the row of the second. Columns past n are zero.
struct PackedSparse {
  static constexpr size_t kPanel = 16;
  static constexpr size_t kTwoFourGroupBytes = kPanel * (2 * sizeof(float) + 1);

  WeightType type = WeightType::Float32;
  SparsePattern pattern = SparsePattern::Unstructured;
  size_t k = 0, n = 0;
  size_t nonzeros = 0;                // nonzero weights
  bool wideIndex = false;             // uint32 indices (k needs them), else uint16
  std::vector<size_t> columnStart;    // n + 1 offsets into the entries
  int8::ByteBuffer index;             // uint16 or uint32 per entry: row, or group for int8
  int8::ByteBuffer values;            // float per entry, or 4 int8 per entry
  std::vector<int32_t> columnSum;     // int8: sum over k of the column (for x's zero point)
  std::vector<float> scale;           // int8: per column (a per-tensor scale is repeated)
  bool perColumnScale = false;
  int8::ByteBuffer twoFour;           // float32 2:4 only (then there are no entries)
  // Float32 unstructured, for the multi-row kernels: the same entries again, ordered by chunk of
  // kChunkRows rows, then column, then row, each as its row within the chunk (uint8) and value; chunk
  // c's entries of column j are [chunkStart[c * n + j], chunkStart[c * n + j + 1]). Those kernels run
  // one chunk of x's rows over every column before the next (the chunk of x stays in L1) and so read
  // these entries in order.
  static constexpr size_t kChunkRows = 128;
  std::vector<size_t> chunkStart;  // chunks() * n + 1
  int8::ByteBuffer chunkRow;       // uint8 per entry
  int8::ByteBuffer chunkValue;     // float per entry

  bool hasTwoFourLayout() const { return twoFour.size() > 0; }
  size_t groups() const { return (k + 3) / 4; }
  size_t panels() const { return (n + kPanel - 1) / kPanel; }
  size_t entries() const { return columnStart.empty() ? 0 : columnStart.back(); }
  size_t chunks() const { return std::max<size_t>(1, (k + kChunkRows - 1) / kChunkRows); }
  double sparsity() const;
  size_t bytes() const;
};

// 1 - nonzeros / (k * n); 0 for an empty W.
double sparsityOf(size_t k, size_t n, size_t nonzeros);

// The first group of 4 rows, in column-major order, with more than 2 nonzeros;
// false when W is 2:4 sparse.
bool findTwoFourViolation(const void* w, WeightType type, size_t k, size_t n, size_t* row, size_t* column);

std::unique_ptr<PackedSparse> packFloat(const float* w, size_t k, size_t n, SparsePattern pattern);
// scales: nullptr, or scaleCount = 1 (per tensor) or n (per column) values.
std::unique_ptr<PackedSparse> packInt8(const int8_t* w, size_t k, size_t n, SparsePattern pattern,
                                       const float* scales, size_t scaleCount);

// y (m x n) = x (m x k) * W + bias (n values, or nullptr).
void matmulFloat(const float* x, size_t m, const PackedSparse& w, const float* bias, float* y);

// Rows of x held as pieces where they lie, not copied together: row i is the concatenation of
// `pieces` runs of `length` floats, run s at piece[i * pieces + s] (nullptr: zeros). A convolution's
// window rows, one piece per tap, read straight from the input (pieces * length == k).
struct RowPieces {
  const float* const* piece = nullptr;
  size_t pieces = 0, length = 0;
};
// matmulFloat on rows given by pieces (float32 unstructured weights).
void matmulFloatPieces(const RowPieces& x, size_t m, const PackedSparse& w, const float* bias, float* y);
// Dynamic-quantized Linear, as int8::gemmFloat computes it for dense weights: x quantized
// per row to uint8, the exact int32 product with W, dequantized with w.scale, plus bias.
// w must have scales.
void linearInt8(const float* x, size_t m, const PackedSparse& w, const float* bias, float* y);
// The same product on rows already quantized (q.k == w.k), e.g. with one scale and zero
// point for the whole tensor, as ONNX DynamicQuantizeLinear does.
void linearInt8Rows(const int8::QuantizedRows& q, const PackedSparse& w, const float* bias, float* y);

// The ISA level the sparse kernels run at (the active level; AMX uses the AVX-512 kernels).
IsaLevel sparseIsa();

}  // namespace onnxforge::sparse
