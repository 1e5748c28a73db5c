// The quantization arithmetic, written once. The native kernels (quantize*.cc, the int8
// kernels' per-row quantization, native/cuda/ operation for operation) and the model passes
// (lib/quantize/quant-math.ts) follow these rules; test/quantize/quant-arithmetic.test.ts
// runs both sides on edge values and requires equal results.
//
// 1. Quantize (ONNX QuantizeLinear): v = x / scale as one float32 division;
//    q = round_half_to_even(v) + zeroPoint, saturated to the type's bounds: uint8 [0, 255],
//    int8 [-128, 127] (symmetric int8 too: only its parameters use [-127, 127]).
//    NaN gives zeroPoint; ±inf and values beyond the bounds saturate; -0 is 0.
// 2. Dequantize (ONNX DequantizeLinear): (q - zeroPoint) * scale, one float32 product.
// 3. Parameters from data (per tensor, or per channel of an axis), after onnxruntime's
//    quantization tool:
//    - range: lo = min(0, min x), hi = max(0, max x), NaN skipped (so zero is exact; all-NaN
//      or empty data has the range [0, 0]); symmetric: hi = max(|lo|, |hi|), lo = -hi;
//    - integers: uint8 [0, 255]; int8 [-128, 127], symmetric [-127, 127] (the quantize pass
//      may narrow them with reduceRange: uint8 [0, 127], int8 [-64, 64]);
//    - scale = (hi - lo) / (qmax - qmin), each step in float32;
//    - a scale that is not finite (an end is ±inf, or hi - lo overflows float32) has no
//      parameters: choosing them is an error (quantParams, the quantize pass);
//    - a scale below FLT_MIN (a zero range: zeros, NaN only; or denormal data): scale 1 and
//      zero point 0;
//    - zero point: symmetric round_half_to_even((qmin + qmax) / 2), i.e. int8 0, uint8 128;
//      asymmetric round_half_to_even(clamp(qmin - lo / scale, qmin, qmax)), in float32.
// 4. Per-row parameters at run time (ONNX DynamicQuantizeLinear, linearInt8's activations):
//    rule 3 for asymmetric uint8, except that a run cannot fail: a row without finite
//    parameters gets scale 1 and zero point 0.
#pragma once
#include <cmath>
#include <cstdint>

namespace onnxforge::quant {

constexpr float kMinScale = 1.17549435e-38f;  // FLT_MIN

// Rule 1 (also the vector kernels' tails).
inline int32_t quantizeOne(float x, float scale, int32_t zeroPoint, int32_t qmin, int32_t qmax) {
  float v = x / scale;
  if (v != v) return zeroPoint;
  v = std::fmin(std::fmax(v, static_cast<float>(qmin - zeroPoint)), static_cast<float>(qmax - zeroPoint));
  return static_cast<int32_t>(std::nearbyint(v)) + zeroPoint;
}

// Rule 3 for the range [lo, hi] (lo <= 0 <= hi, NaN skipped). Returns false when the scale
// is not finite; the parameters are then scale 1 and zero point 0.
inline bool paramsForRange(float lo, float hi, int32_t qmin, int32_t qmax, bool symmetric, float* scale,
                           int32_t* zeroPoint) {
  if (symmetric) {
    hi = std::fmax(std::fabs(lo), std::fabs(hi));
    lo = -hi;
  }
  float s = (hi - lo) / static_cast<float>(qmax - qmin);
  *scale = 1.0f;
  *zeroPoint = 0;
  if (!std::isfinite(s)) return false;
  if (s < kMinScale) return true;
  float zp = symmetric ? static_cast<float>(qmin + qmax) / 2.0f : static_cast<float>(qmin) - lo / s;
  zp = std::fmin(std::fmax(zp, static_cast<float>(qmin)), static_cast<float>(qmax));
  *scale = s;
  *zeroPoint = static_cast<int32_t>(std::nearbyint(zp));
  return true;
}

}  // namespace onnxforge::quant
