// AVX-512 quantize kernels, 16 floats at a time; tails use masks.
// GCC 12's AVX-512 headers initialize "undefined" vectors from themselves, which
// -Wuninitialized reports at every use of an intrinsic that has one.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "quantize.h"

namespace onnxforge::quant {
namespace {

__mmask16 maskFor(size_t remaining) {
  return remaining >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << remaining) - 1);
}

void quantizeAvx512(const float* x, size_t count, const float* scale, const int32_t* zeroPoint,
                    bool perElement, int32_t qmin, int32_t qmax, uint8_t* y) {
  const __m512i qminv = _mm512_set1_epi32(qmin), qmaxv = _mm512_set1_epi32(qmax);
  __m512 scalev = _mm512_set1_ps(scale[0]);
  __m512i zpv = _mm512_set1_epi32(zeroPoint[0]);
  for (size_t i = 0; i < count; i += 16) {
    __mmask16 mask = maskFor(count - i);
    if (perElement) {
      scalev = _mm512_mask_loadu_ps(_mm512_set1_ps(1.0f), mask, scale + i);
      zpv = _mm512_maskz_loadu_epi32(mask, zeroPoint + i);
    }
    __m512 v = _mm512_div_ps(_mm512_maskz_loadu_ps(mask, x + i), scalev);
    __mmask16 ordered = _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q);
    // Clamp in float first (as the scalar rule does), so the conversion never overflows.
    __m512 lo = _mm512_cvtepi32_ps(_mm512_sub_epi32(qminv, zpv));
    __m512 hi = _mm512_cvtepi32_ps(_mm512_sub_epi32(qmaxv, zpv));
    v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
    __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(v), zpv);
    q = _mm512_mask_mov_epi32(zpv, ordered, q);
    _mm_mask_storeu_epi8(y + i, mask, _mm512_cvtepi32_epi8(q));
  }
}

__m512i loadQuantized(const void* q, QuantType type, size_t i, __mmask16 mask) {
  switch (type) {
    case QuantType::Uint8:
      return _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, static_cast<const uint8_t*>(q) + i));
    case QuantType::Int8:
      return _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, static_cast<const int8_t*>(q) + i));
    case QuantType::Int32: break;
  }
  return _mm512_maskz_loadu_epi32(mask, static_cast<const int32_t*>(q) + i);
}

void dequantizeAvx512(const void* q, QuantType type, size_t count, const float* scale,
                      const int32_t* zeroPoint, bool perElement, float* y) {
  __m512 scalev = _mm512_set1_ps(scale[0]);
  __m512i zpv = _mm512_set1_epi32(zeroPoint[0]);
  for (size_t i = 0; i < count; i += 16) {
    __mmask16 mask = maskFor(count - i);
    if (perElement) {
      scalev = _mm512_maskz_loadu_ps(mask, scale + i);
      zpv = _mm512_maskz_loadu_epi32(mask, zeroPoint + i);
    }
    __m512i v = _mm512_sub_epi32(loadQuantized(q, type, i, mask), zpv);
    _mm512_mask_storeu_ps(y + i, mask, _mm512_mul_ps(_mm512_cvtepi32_ps(v), scalev));
  }
}

void minMaxAvx512(const float* x, size_t count, float* lo, float* hi) {
  __m512 l = _mm512_set1_ps(*lo), h = _mm512_set1_ps(*hi);
  for (size_t i = 0; i < count; i += 16) {
    __mmask16 mask = maskFor(count - i);
    __m512 v = _mm512_maskz_loadu_ps(mask, x + i);
    // min/max return the second operand for NaN, so NaNs are skipped.
    l = _mm512_mask_min_ps(l, mask, v, l);
    h = _mm512_mask_max_ps(h, mask, v, h);
  }
  *lo = _mm512_reduce_min_ps(l);
  *hi = _mm512_reduce_max_ps(h);
}

void minMaxElementwiseAvx512(const float* x, size_t count, float* lo, float* hi) {
  for (size_t i = 0; i < count; i += 16) {
    __mmask16 mask = maskFor(count - i);
    __m512 v = _mm512_maskz_loadu_ps(mask, x + i);
    _mm512_mask_storeu_ps(lo + i, mask, _mm512_min_ps(v, _mm512_maskz_loadu_ps(mask, lo + i)));
    _mm512_mask_storeu_ps(hi + i, mask, _mm512_max_ps(v, _mm512_maskz_loadu_ps(mask, hi + i)));
  }
}

}  // namespace

const QuantizeKernels& quantizeKernelsAvx512() {
  static const QuantizeKernels table = {quantizeAvx512, dequantizeAvx512, minMaxAvx512, minMaxElementwiseAvx512};
  return table;
}

}  // namespace onnxforge::quant
