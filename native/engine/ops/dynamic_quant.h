// ONNX DynamicQuantizeLinear over a whole tensor: uint8, one scale and zero point from the
// tensor's range (which always includes 0), values rounded half to even and saturated.
#pragma once
#include <cstddef>
#include <cstdint>

namespace onnxforge::engine {

struct TensorQuantization {
  float scale = 1.0f;
  uint8_t zeroPoint = 0;
};

TensorQuantization dynamicQuantize(const float* x, size_t count, uint8_t* y);

}  // namespace onnxforge::engine
