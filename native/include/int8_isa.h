// The per-ISA int8 kernels behind int8_gemm.h. Each ISA file fills one table;
// int8_gemm.cc lists them as one family for isa_dispatch.h.
#pragma once
#include <cstddef>
#include <cmath>
#include <cstdint>

#include "int8_gemm.h"
#include "quant_rules.h"

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

// The family's best table for `level` (weights packed at that level use it).
const IsaKernels& kernelsFor(IsaLevel level);
// The table this process runs, chosen once.
const IsaKernels& activeKernels();

// Shared by the ISA files: per-row uint8 parameters from the row's min and max, by
// quant_rules.h's rule 4 (ONNX DynamicQuantizeLinear).
inline void dynamicRowParams(float rowMin, float rowMax, float* scale, int32_t* zeroPoint) {
  quant::paramsForRange(std::fmin(rowMin, 0.0f), std::fmax(rowMax, 0.0f), 0, 255, false, scale, zeroPoint);
}

// Rule 1 for uint8, shared by every path.
inline uint8_t quantizeToU8(float x, float scale, int32_t zeroPoint) {
  return static_cast<uint8_t>(quant::quantizeOne(x, scale, zeroPoint, 0, 255));
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
