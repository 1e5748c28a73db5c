// Per-tensor and per-axis loops over the ISA's quantize kernels.
#include "quantize.h"

#include <vector>

#include "isa_dispatch.h"

namespace onnxforge::quant {
namespace {

// The quantize family, best first.
const IsaEntry<QuantizeKernels> kFamily[] = {
#if defined(ONNXFORGE_X86)
    {IsaLevel::Avx512Vnni, quantizeKernelsAvx512},
    {IsaLevel::Avx2, quantizeKernelsAvx2},
#endif
    {IsaLevel::Scalar, quantizeKernelsScalar},
};

const QuantizeKernels& kernels() {
  static const QuantizeKernels& table = selectIsa(kFamily, dispatchLevel());
  return table;
}

void range(QuantType type, bool symmetric, int32_t* qmin, int32_t* qmax) {
  if (type == QuantType::Uint8) {
    *qmin = 0;
    *qmax = 255;
  } else {
    *qmin = symmetric ? -127 : -128;
    *qmax = 127;
  }
}

size_t elementBytes(QuantType type) { return type == QuantType::Int32 ? 4 : 1; }

}  // namespace

void widenRange(const float* x, size_t count, float* lo, float* hi) { kernels().minMax(x, count, lo, hi); }

void quantize(const float* x, const AxisLayout& layout, const float* scales, const int32_t* zeroPoints,
              QuantType type, uint8_t* y) {
  const QuantizeKernels& k = kernels();
  int32_t qmin, qmax;
  range(type, false, &qmin, &qmax);
  size_t channels = layout.channels, inner = layout.inner;
  for (size_t o = 0; o < layout.outer; ++o) {
    size_t base = o * channels * inner;
    if (inner == 1) {
      // Parameters change every element: the kernel walks them alongside x.
      k.quantize(x + base, channels, scales, zeroPoints, true, qmin, qmax, y + base);
      continue;
    }
    for (size_t c = 0; c < channels; ++c) {
      size_t at = base + c * inner;
      k.quantize(x + at, inner, scales + c, zeroPoints + c, false, qmin, qmax, y + at);
    }
  }
}

void dequantize(const void* q, QuantType type, const AxisLayout& layout, const float* scales,
                const int32_t* zeroPoints, float* y) {
  const QuantizeKernels& k = kernels();
  size_t channels = layout.channels, inner = layout.inner, bytes = elementBytes(type);
  const auto* qb = static_cast<const uint8_t*>(q);
  for (size_t o = 0; o < layout.outer; ++o) {
    size_t base = o * channels * inner;
    if (inner == 1) {
      k.dequantize(qb + base * bytes, type, channels, scales, zeroPoints, true, y + base);
      continue;
    }
    for (size_t c = 0; c < channels; ++c) {
      size_t at = base + c * inner;
      k.dequantize(qb + at * bytes, type, inner, scales + c, zeroPoints + c, false, y + at);
    }
  }
}

size_t quantParams(const float* x, const AxisLayout& layout, bool symmetric, QuantType type,
                   float* scales, int32_t* zeroPoints) {
  const QuantizeKernels& k = kernels();
  size_t channels = layout.channels, inner = layout.inner;
  // The range starts at [0, 0]: it always includes 0.
  std::vector<float> lo(channels, 0.0f), hi(channels, 0.0f);
  for (size_t o = 0; o < layout.outer; ++o) {
    size_t base = o * channels * inner;
    if (inner == 1) {
      k.minMaxElementwise(x + base, channels, lo.data(), hi.data());
      continue;
    }
    for (size_t c = 0; c < channels; ++c) k.minMax(x + base + c * inner, inner, &lo[c], &hi[c]);
  }
  int32_t qmin, qmax;
  range(type, symmetric, &qmin, &qmax);
  size_t firstNonFinite = channels;
  for (size_t c = 0; c < channels; ++c) {
    bool finite = paramsForRange(lo[c], hi[c], qmin, qmax, symmetric, &scales[c], &zeroPoints[c]);
    if (!finite && firstNonFinite == channels) firstNonFinite = c;
  }
  return firstNonFinite;
}

}  // namespace onnxforge::quant
