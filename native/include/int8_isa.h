// The per-ISA int8 kernels behind int8_gemm.h. Each ISA file fills one table;
// int8_gemm.cc picks the table of the active level once.
#pragma once
#include <cstddef>
#include <cmath>
#include <cstdint>

#include "int8_gemm.h"

namespace onnxforge::int8 {

// One call's operands as the tile kernels see them.
struct GemmTask {
  const uint8_t* a = nullptr;     // packed activations
  size_t aStride = 0;             // bytes per packed row
  const int32_t* rowSum = nullptr;
  const int32_t* rowZeroPoint = nullptr;
  const float* rowScale = nullptr;  // float output only
  const PackedWeights* w = nullptr;
  size_t m = 0, n = 0;
  int32_t* c = nullptr;           // int32 output, or
  float* y = nullptr;             // float output (with w->scale and optional bias)
  const float* bias = nullptr;
};

struct IsaKernels {
  IsaLevel isa;
  size_t panelWidth;    // columns per B panel (the last one may be narrower)
  size_t columnAlign;   // panel widths are multiples of this
  size_t kAlign;        // k is padded to a multiple of this
  size_t rowAlign;      // packed A rows are padded to a multiple of this
  size_t elementBytes;  // bytes per packed element of A and of B
  // B (k x n row-major) into panels; writes every byte of kPadded x nPadded.
  void (*packB)(const int8_t* b, size_t k, size_t n, size_t kPadded, size_t nPadded, uint8_t* out);
  // Rows of A (k bytes each) xor `flip`, padded with zeros to `strideBytes`; row sums.
  void (*packA)(const uint8_t* a, size_t rows, size_t k, uint8_t flip, size_t strideBytes,
                uint8_t* out, int32_t* rowSum);
  // Per-row uint8 quantization of float rows into packed rows; row sums, zero points, scales.
  void (*quantizeRows)(const float* x, size_t rows, size_t k, size_t strideBytes, uint8_t* out,
                       int32_t* rowSum, int32_t* zeroPoint, float* scale);
  // Rows [rowBegin, rowEnd) x columns of B panel `panel`: full product and epilogue.
  void (*tile)(const GemmTask& task, size_t rowBegin, size_t rowEnd, size_t panel);
  // Multiply-adds per second of the inner instruction on this thread.
  double (*peakMacsPerSecond)(double seconds);
};

const IsaKernels& scalarKernels();
#if defined(ONNXFORGE_X86)
const IsaKernels& avx2Kernels();
const IsaKernels& avx512VnniKernels();
const IsaKernels& amxKernels();
#endif

// Shared by the ISA files: per-row uint8 parameters as ONNX DynamicQuantizeLinear
// computes them from the row's min and max. A row of zeros (or with non-finite
// values) gets scale 1 and zero point 0 instead of dividing by zero.
inline void dynamicRowParams(float rowMin, float rowMax, float* scale, int32_t* zeroPoint) {
  float lo = std::fmin(rowMin, 0.0f), hi = std::fmax(rowMax, 0.0f);
  float s = (hi - lo) / 255.0f;
  if (!(s > 0.0f) || !std::isfinite(s)) {
    *scale = 1.0f;
    *zeroPoint = 0;
    return;
  }
  float zp = std::nearbyint(std::fmin(std::fmax(0.0f - lo / s, 0.0f), 255.0f));
  *scale = s;
  *zeroPoint = static_cast<int32_t>(zp);
}

// x / scale rounded half to even and saturated to [0, 255] after adding zeroPoint;
// NaN gives zeroPoint. ONNX QuantizeLinear's rule, shared by every path.
inline uint8_t quantizeToU8(float x, float scale, int32_t zeroPoint) {
  float v = x / scale;
  if (v != v) return static_cast<uint8_t>(zeroPoint);
  float lo = static_cast<float>(-zeroPoint), hi = static_cast<float>(255 - zeroPoint);
  v = std::fmin(std::fmax(v, lo), hi);
  return static_cast<uint8_t>(static_cast<int32_t>(std::nearbyint(v)) + zeroPoint);
}
// Panel geometry.
inline size_t panelOffsetElements(const IsaKernels& isa, const PackedWeights& w, size_t panel) {
  return panel * isa.panelWidth * w.kPadded;
}
inline size_t panelColumns(const IsaKernels& isa, const PackedWeights& w, size_t panel) {
  size_t begin = panel * isa.panelWidth;
  size_t rest = w.nPadded - begin;
  return rest < isa.panelWidth ? rest : isa.panelWidth;
}

}  // namespace onnxforge::int8
