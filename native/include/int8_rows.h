// linearInt8's per-row dynamic quantization, for kernels with their own layout of
// the quantized rows (the sparse kernels).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace onnxforge::int8 {

struct QuantizedRows {
  size_t m = 0, k = 0;
  std::vector<uint8_t> values;      // m x k, row-major
  std::vector<int32_t> zeroPoint;   // per row
  std::vector<float> scale;         // per row
};

// x (m x k) quantized per row to uint8 by the active int8 ISA's quantizeRows, so the
// values, zero points and scales equal those linearInt8 uses.
QuantizedRows quantizeRowsDynamic(const float* x, size_t m, size_t k);

}  // namespace onnxforge::int8
