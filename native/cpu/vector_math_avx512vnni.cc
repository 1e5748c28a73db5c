// The vector math on AVX-512F (16 floats per vector, masked tails). The _avx512vnni
// suffix only picks the AVX-512 compile flags.
// GCC 12's AVX-512 headers initialize "undefined" vectors from themselves, which
// -Wuninitialized reports at every use of an intrinsic that has one.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "vector_math_simd.h"

namespace onnxforge::vmath {
namespace {

struct Avx512 {
  using F = __m512;
  using M = __mmask16;
  static constexpr size_t kWidth = 16;

  static M tailMask(size_t count) { return static_cast<M>((1u << count) - 1); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F loadPartial(const float* p, size_t count, float fill) {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), tailMask(count), p);
  }
  static void storePartial(float* p, F v, size_t count) { _mm512_mask_storeu_ps(p, tailMask(count), v); }
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F abs(F a) { return _mm512_abs_ps(a); }
  static F sqrt(F a) { return _mm512_sqrt_ps(a); }
  static F roundNearest(F a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F copySign(F magnitude, F sign) {
    // Bits of `magnitude` except the sign bit, which comes from `sign` (ternary-logic select).
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(magnitude), _mm512_castps_si512(sign),
                                                         _mm512_set1_epi32(0x7fffffff), 0xe4));
  }
  static M lt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M gt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static M eq(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
  static M isNan(F a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
  static F select(M m, F ifTrue, F ifFalse) { return _mm512_mask_blend_ps(m, ifFalse, ifTrue); }
  static F pow2(F n) {
    __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  static F shiftRightOne(F n) { return _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_cvtps_epi32(n), 1)); }
  static float reduceAdd(F v) { return _mm512_reduce_add_ps(v); }
  static float reduceMax(F v) { return _mm512_reduce_max_ps(v); }
};

}  // namespace

const VectorKernels& avx512VectorKernels() {
  static const VectorKernels table = simd::makeVectorKernels<Avx512>(IsaLevel::Avx512Vnni);
  return table;
}

}  // namespace onnxforge::vmath
