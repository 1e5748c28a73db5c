#include "int8_rows.h"

#include "int8_isa.h"

namespace onnxforge::int8 {

QuantizedRows quantizeRowsDynamic(const float* x, size_t m, size_t k) {
  const IsaKernels& isa = activeKernels();
  QuantizedRows rows;
  rows.m = m;
  rows.k = k;
  rows.zeroPoint.assign(m, 0);
  rows.scale.assign(m, 0.0f);
  std::vector<int32_t> rowSum(m, 0);
  // The ISA's packed rows hold elementBytes per value (AVX2 widens to uint16).
  size_t stride = (k + isa.kAlign) * isa.elementBytes;
  std::vector<uint8_t> packed(m * stride);
  isa.quantizeRows(x, m, k, stride, packed.data(), rowSum.data(), rows.zeroPoint.data(), rows.scale.data());
  rows.values.resize(m * k);
  for (size_t r = 0; r < m; ++r) {
    const uint8_t* src = packed.data() + r * stride;
    uint8_t* dst = rows.values.data() + r * k;
    if (isa.elementBytes == 1) {
      for (size_t kk = 0; kk < k; ++kk) dst[kk] = src[kk];
    } else {
      const auto* wide = reinterpret_cast<const uint16_t*>(src);
      for (size_t kk = 0; kk < k; ++kk) dst[kk] = static_cast<uint8_t>(wide[kk]);
    }
  }
  return rows;
}

}  // namespace onnxforge::int8
