#include "dynamic_quant.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "../op_kernel.h"
#include "quantize.h"

namespace onnxforge::engine {

TensorQuantization dynamicQuantize(const float* x, size_t count, uint8_t* y) {
  float lo = 0.0f, hi = 0.0f;
  std::mutex merge;
  constexpr size_t kBlock = 16384;
  parallelRange((count + kBlock - 1) / kBlock, kBlock, [&](size_t b0, size_t b1) {
    float l = 0.0f, h = 0.0f;
    const size_t begin = b0 * kBlock, end = std::min(count, b1 * kBlock);
    quant::widenRange(x + begin, end - begin, &l, &h);
    std::lock_guard<std::mutex> lock(merge);
    lo = std::fmin(lo, l);
    hi = std::fmax(hi, h);
  });
  TensorQuantization q;
  const float scale = (hi - lo) / 255.0f;
  if (scale > 0.0f && std::isfinite(scale)) {
    q.scale = scale;
    q.zeroPoint = static_cast<uint8_t>(std::nearbyint(std::fmin(std::fmax(-lo / scale, 0.0f), 255.0f)));
  }
  const int32_t zeroPoint = q.zeroPoint;
  quant::AxisLayout layout;
  parallelRange((count + kBlock - 1) / kBlock, kBlock, [&](size_t b0, size_t b1) {
    const size_t begin = b0 * kBlock, end = std::min(count, b1 * kBlock);
    quant::AxisLayout part = layout;
    part.inner = end - begin;
    quant::quantize(x + begin, part, &q.scale, &zeroPoint, quant::QuantType::Uint8, y + begin);
  });
  return q;
}

}  // namespace onnxforge::engine
