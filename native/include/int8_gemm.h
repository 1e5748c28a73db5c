// Int8 matrix multiplication: ONNX MatMulInteger and the dynamic-quantized
// Linear layer, on weights prepacked once for the ISA in use.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "cpu_features.h"
#include "int8_buffer.h"

namespace onnxforge::int8 {

// B (k x n, int8) in the layout of one ISA's kernels, plus what the epilogue needs
// per column. Columns are padded to nPadded; padding columns are zero.
struct PackedWeights {
  IsaLevel isa = IsaLevel::Scalar;
  size_t k = 0, n = 0;
  size_t kPadded = 0, nPadded = 0;
  ByteBuffer data;
  std::vector<int32_t> zeroPoint;    // per padded column (a per-tensor value is repeated)
  std::vector<int32_t> columnSum;    // sum over k of (B[k][j] - zeroPoint[j])
  std::vector<float> scale;          // per padded column; empty when packed without scales
  bool hasZeroPoint = false;         // any zeroPoint != 0
  bool perColumnZeroPoint = false;   // as given by the caller
  bool perColumnScale = false;

  size_t bytes() const;
};

struct WeightOptions {
  const float* scales = nullptr;        // 1 (per tensor) or n (per column) values
  size_t scaleCount = 0;
  const int8_t* zeroPoints = nullptr;   // 1 or n values
  size_t zeroPointCount = 0;
};

// Packs B for the active ISA. Counts must be 0, 1 or n (checked by the caller).
std::unique_ptr<PackedWeights> packWeights(const int8_t* b, size_t k, size_t n,
                                           const WeightOptions& options);

// A (m x k) in the kernels' layout: values shifted to uint8 (int8 A gets +128, which
// the zero point absorbs), k padded, with per-row sums and zero points.
struct PackedActivations {
  size_t m = 0, k = 0;
  size_t rowsPadded = 0, stride = 0;  // stride: bytes per packed row
  ByteBuffer data;
  std::vector<int32_t> rowSum;   // sum over k of the shifted values
  std::vector<int32_t> zeroPoint;  // per row, shifted like the values
  std::vector<float> scale;        // per row; only from quantizeActivations
};

// aZeroPoints: nullptr (0), or zeroPointCount = 1 or m values of A's type.
PackedActivations packActivations(const void* a, bool isSigned, size_t m, size_t k,
                                  const void* aZeroPoints, size_t zeroPointCount,
                                  const PackedWeights& w);

// Per-row asymmetric uint8 quantization of float x (m x k), as ONNX
// DynamicQuantizeLinear does for a whole tensor.
PackedActivations quantizeActivations(const float* x, size_t m, size_t k, const PackedWeights& w);

// c (m x n) = (A - a_zero_point)(B - b_zero_point), exact int32.
void gemmInt32(const PackedActivations& a, const PackedWeights& w, int32_t* c);
// y (m x n) = dequantized product * scales + bias (bias: n values or nullptr).
// w must have scales.
void gemmFloat(const PackedActivations& a, const PackedWeights& w, const float* bias, float* y);

// Which ISA the int8 kernels run at (the active level).
IsaLevel int8Isa();

// Sustained multiply-adds per second of the active ISA's inner instruction on one
// thread, measured for about `seconds` (for the benchmark's fraction of peak).
double measurePeakOpsPerSecond(double seconds);

}  // namespace onnxforge::int8
