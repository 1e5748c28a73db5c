// AVX2 quantize kernels, 8 floats at a time; tails take the scalar rule.
#include <immintrin.h>

#include <algorithm>

#include "quantize.h"

namespace onnxforge::quant {
namespace {

void quantizeAvx2(const float* x, size_t count, const float* scale, const int32_t* zeroPoint,
                  bool perElement, int32_t qmin, int32_t qmax, uint8_t* y) {
  const __m256i qminv = _mm256_set1_epi32(qmin), qmaxv = _mm256_set1_epi32(qmax);
  const __m256i lowBytes = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                            0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  __m256 scalev = _mm256_set1_ps(scale[0]);
  __m256i zpv = _mm256_set1_epi32(zeroPoint[0]);
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    if (perElement) {
      scalev = _mm256_loadu_ps(scale + i);
      zpv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(zeroPoint + i));
    }
    __m256 v = _mm256_div_ps(_mm256_loadu_ps(x + i), scalev);
    __m256i ordered = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_ORD_Q));
    __m256 lo = _mm256_cvtepi32_ps(_mm256_sub_epi32(qminv, zpv));
    __m256 hi = _mm256_cvtepi32_ps(_mm256_sub_epi32(qmaxv, zpv));
    v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
    __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), zpv);
    q = _mm256_blendv_epi8(zpv, q, ordered);
    __m256i bytes = _mm256_shuffle_epi8(q, lowBytes);
    uint32_t low = static_cast<uint32_t>(_mm256_extract_epi32(bytes, 0));
    uint32_t high = static_cast<uint32_t>(_mm256_extract_epi32(bytes, 4));
    uint64_t packed = low | (static_cast<uint64_t>(high) << 32);
    __builtin_memcpy(y + i, &packed, 8);
  }
  for (; i < count; ++i) {
    size_t p = perElement ? i : 0;
    y[i] = static_cast<uint8_t>(quantizeOne(x[i], scale[p], zeroPoint[p], qmin, qmax));
  }
}

__m256i loadQuantized(const void* q, QuantType type, size_t i) {
  switch (type) {
    case QuantType::Uint8:
      return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(static_cast<const uint8_t*>(q) + i)));
    case QuantType::Int8:
      return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(static_cast<const int8_t*>(q) + i)));
    case QuantType::Int32: break;
  }
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const int32_t*>(q) + i));
}

void dequantizeAvx2(const void* q, QuantType type, size_t count, const float* scale,
                    const int32_t* zeroPoint, bool perElement, float* y) {
  __m256 scalev = _mm256_set1_ps(scale[0]);
  __m256i zpv = _mm256_set1_epi32(zeroPoint[0]);
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    if (perElement) {
      scalev = _mm256_loadu_ps(scale + i);
      zpv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(zeroPoint + i));
    }
    __m256i v = _mm256_sub_epi32(loadQuantized(q, type, i), zpv);
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_cvtepi32_ps(v), scalev));
  }
  quantizeKernelsScalar().dequantize(
      type == QuantType::Int32 ? static_cast<const void*>(static_cast<const int32_t*>(q) + i)
                               : static_cast<const void*>(static_cast<const uint8_t*>(q) + i),
      type, count - i, perElement ? scale + i : scale, perElement ? zeroPoint + i : zeroPoint, perElement, y + i);
}

void minMaxAvx2(const float* x, size_t count, float* lo, float* hi) {
  __m256 l = _mm256_set1_ps(*lo), h = _mm256_set1_ps(*hi);
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    l = _mm256_min_ps(v, l);
    h = _mm256_max_ps(v, h);
  }
  alignas(32) float ls[8], hs[8];
  _mm256_store_ps(ls, l);
  _mm256_store_ps(hs, h);
  float lmin = ls[0], hmax = hs[0];
  for (int j = 1; j < 8; ++j) {
    lmin = std::min(lmin, ls[j]);
    hmax = std::max(hmax, hs[j]);
  }
  *lo = lmin;
  *hi = hmax;
  quantizeKernelsScalar().minMax(x + i, count - i, lo, hi);
}

void minMaxElementwiseAvx2(const float* x, size_t count, float* lo, float* hi) {
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    _mm256_storeu_ps(lo + i, _mm256_min_ps(v, _mm256_loadu_ps(lo + i)));
    _mm256_storeu_ps(hi + i, _mm256_max_ps(v, _mm256_loadu_ps(hi + i)));
  }
  quantizeKernelsScalar().minMaxElementwise(x + i, count - i, lo + i, hi + i);
}

}  // namespace

const QuantizeKernels& quantizeKernelsAvx2() {
  static const QuantizeKernels table = {quantizeAvx2, dequantizeAvx2, minMaxAvx2, minMaxElementwiseAvx2};
  return table;
}

}  // namespace onnxforge::quant
