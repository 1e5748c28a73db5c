// Portable quantize kernels: the rule every vector path must match.
#include "quantize.h"

namespace onnxforge::quant {
namespace {

void quantizeScalar(const float* x, size_t count, const float* scale, const int32_t* zeroPoint,
                    bool perElement, int32_t qmin, int32_t qmax, uint8_t* y) {
  for (size_t i = 0; i < count; ++i) {
    size_t p = perElement ? i : 0;
    y[i] = static_cast<uint8_t>(quantizeOne(x[i], scale[p], zeroPoint[p], qmin, qmax));
  }
}

int32_t loadQuantized(const void* q, QuantType type, size_t i) {
  switch (type) {
    case QuantType::Uint8: return static_cast<const uint8_t*>(q)[i];
    case QuantType::Int8: return static_cast<const int8_t*>(q)[i];
    case QuantType::Int32: break;
  }
  return static_cast<const int32_t*>(q)[i];
}

void dequantizeScalar(const void* q, QuantType type, size_t count, const float* scale,
                      const int32_t* zeroPoint, bool perElement, float* y) {
  for (size_t i = 0; i < count; ++i) {
    size_t p = perElement ? i : 0;
    y[i] = static_cast<float>(loadQuantized(q, type, i) - zeroPoint[p]) * scale[p];
  }
}

void minMaxScalar(const float* x, size_t count, float* lo, float* hi) {
  float l = *lo, h = *hi;
  for (size_t i = 0; i < count; ++i) {
    l = std::fmin(l, x[i]);
    h = std::fmax(h, x[i]);
  }
  *lo = l;
  *hi = h;
}

void minMaxElementwiseScalar(const float* x, size_t count, float* lo, float* hi) {
  for (size_t i = 0; i < count; ++i) {
    lo[i] = std::fmin(lo[i], x[i]);
    hi[i] = std::fmax(hi[i], x[i]);
  }
}

}  // namespace

const QuantizeKernels& quantizeKernelsScalar() {
  static const QuantizeKernels table = {quantizeScalar, dequantizeScalar, minMaxScalar, minMaxElementwiseScalar};
  return table;
}

}  // namespace onnxforge::quant
