// ONNX QuantizeLinear / DequantizeLinear and the choice of scale and zero point,
// per tensor or per axis, vectorized per ISA. The arithmetic is quant_rules.h's.
#pragma once
#include <cstddef>
#include <cstdint>

#include "quant_rules.h"

namespace onnxforge::quant {

enum class QuantType { Uint8, Int8, Int32 };

// A tensor seen as [outer, channels, inner]: per-axis parameters index the middle
// dimension; per tensor is outer = channels = 1.
struct AxisLayout {
  size_t outer = 1, channels = 1, inner = 0;
  size_t count() const { return outer * channels * inner; }
};

// y = saturate(round_half_even(x / scale) + zeroPoint) for Uint8 or Int8 (one byte each).
void quantize(const float* x, const AxisLayout& layout, const float* scales, const int32_t* zeroPoints,
              QuantType type, uint8_t* y);
// y = (q - zeroPoint) * scale; q holds Uint8, Int8 or Int32 values.
void dequantize(const void* q, QuantType type, const AxisLayout& layout, const float* scales,
                const int32_t* zeroPoints, float* y);
// Scale and zero point per channel from the data's range (quant_rules.h, rule 3). Returns
// the first channel whose range has no finite scale (its parameters are scale 1 and zero
// point 0), or layout.channels when every channel has parameters.
size_t quantParams(const float* x, const AxisLayout& layout, bool symmetric, QuantType type,
                   float* scales, int32_t* zeroPoints);

// *lo = min(*lo, x[..]), *hi = max(*hi, x[..]), NaN skipped: the range a dynamic quantization starts from.
void widenRange(const float* x, size_t count, float* lo, float* hi);

// The per-ISA vector kernels behind the functions above.
struct QuantizeKernels {
  // perElement: scale[i] and zeroPoint[i] per element, else scale[0] and zeroPoint[0].
  void (*quantize)(const float* x, size_t count, const float* scale, const int32_t* zeroPoint,
                   bool perElement, int32_t qmin, int32_t qmax, uint8_t* y);
  void (*dequantize)(const void* q, QuantType type, size_t count, const float* scale,
                     const int32_t* zeroPoint, bool perElement, float* y);
  // *lo = min(*lo, x[..]), *hi = max(*hi, x[..]); NaN is skipped.
  void (*minMax)(const float* x, size_t count, float* lo, float* hi);
  // lo[i] = min(lo[i], x[i]), hi[i] = max(hi[i], x[i]); NaN is skipped.
  void (*minMaxElementwise)(const float* x, size_t count, float* lo, float* hi);
};

const QuantizeKernels& quantizeKernelsScalar();
#if defined(ONNXFORGE_X86)
const QuantizeKernels& quantizeKernelsAvx2();
const QuantizeKernels& quantizeKernelsAvx512();
#endif

}  // namespace onnxforge::quant
