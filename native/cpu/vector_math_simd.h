// The SIMD vector math, written once over a vector-operations type V that each ISA
// file supplies (vector_math_avx2.cc, vector_math_avx512vnni.cc). Everything here is
// a template on V, and each V lives in its ISA file's anonymous namespace, so each
// file gets its own copy compiled with its own flags (no ODR clash between ISAs).
//
// V provides: F (float vector), M (lane mask), kWidth; load, store, loadPartial(p, count,
// fill), storePartial(p, v, count), set1, add, sub, mul, div, fma(a, b, c) = a * b + c,
// min, max, abs, sqrt, roundNearest, copySign(magnitude, sign), lt, gt, eq, isNan,
// select(mask, ifTrue, ifFalse), pow2(n) = 2^n for integral n in [-126, 127] held in a
// float vector, shiftRightOne(n) = floor(n / 2) for such n, reduceAdd, reduceMax.
//
// Polynomial coefficients are Chebyshev fits (mpmath.chebyfit) rounded to float;
// native/test/float_kernels_test.cc measures the resulting errors against double.
#pragma once
#include <cmath>
#include <cstddef>
#include <limits>

#include "vector_math_isa.h"

namespace onnxforge::vmath::simd {

// Horner's rule with FMA: c[0] x^(N-1) + ... + c[N-1].
template <typename V, size_t N>
typename V::F polynomial(typename V::F x, const float (&c)[N]) {
  typename V::F r = V::set1(c[0]);
  for (size_t i = 1; i < N; ++i) r = V::fma(r, x, V::set1(c[i]));
  return r;
}

// e^x: x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in two for an exact r), e^r =
// 1 + r + r^2 p(r), then scaled by 2^n in two halves so that results down to the
// smallest subnormal are right.
template <typename V>
typename V::F expV(typename V::F x) {
  using F = typename V::F;
  static constexpr float kP[] = {1.989098091e-04f, 1.393364160e-03f, 8.333310485e-03f,
                                 4.166646674e-02f, 1.666666716e-01f, 5.000000000e-01f};
  // exp(88.8) overflows and exp(-104) rounds to 0: clamping there changes no result.
  F xc = V::min(V::max(x, V::set1(-104.0f)), V::set1(88.8f));
  F n = V::roundNearest(V::mul(xc, V::set1(1.44269504088896341f)));
  F r = V::fma(n, V::set1(-0.693147182464599609375f), xc);
  r = V::fma(n, V::set1(1.904654299957768e-09f), r);
  F p = polynomial<V>(r, kP);
  F y = V::fma(V::fma(p, r, V::set1(1.0f)), r, V::set1(1.0f));
  F half = V::shiftRightOne(n);
  y = V::mul(V::mul(y, V::pow2(half)), V::pow2(V::sub(n, half)));
  return V::select(V::isNan(x), x, y);
}

// log(erfc(t)) + t^2 on [kErfSplit, 4]; erfc(t) = exp(that - t^2).
template <typename V>
typename V::F erfcLarge(typename V::F t) {
  using F = typename V::F;
  static constexpr float kR[] = {1.643570954e-06f, -4.617827653e-05f, 5.977498367e-04f,
                                 -4.763623234e-03f, 2.643121220e-02f, -1.100949422e-01f,
                                 3.681861162e-01f, -1.130238056e+00f, 3.205816320e-04f};
  F tc = V::min(t, V::set1(4.0f));
  F r = polynomial<V>(tc, kR);
  return expV<V>(V::fma(V::sub(V::set1(0.0f), tc), tc, r));
}

constexpr float kErfSplit = 0.921875f;

// erf(z) = z + z q(z^2) for |z| < kErfSplit.
template <typename V>
typename V::F erfSmall(typename V::F z) {
  static constexpr float kQ[] = {-6.004081224e-04f, 4.996020347e-03f, -2.676875703e-02f,
                                 1.128188223e-01f, -3.761250079e-01f, 1.283791512e-01f};
  return V::fma(polynomial<V>(V::mul(z, z), kQ), z, z);
}

template <typename V>
typename V::F erfV(typename V::F z) {
  using F = typename V::F;
  F t = V::abs(z);
  // Beyond |z| = 4, 1 - erfc rounds to 1.
  F large = V::copySign(V::sub(V::set1(1.0f), erfcLarge<V>(t)), z);
  F y = V::select(V::lt(t, V::set1(kErfSplit)), erfSmall<V>(z), large);
  return V::select(V::isNan(z), z, y);
}

// x Phi(x) with 2 Phi(x) = 1 + erf(z), z = x / sqrt 2; on the negative side
// 2 Phi = erfc(|z|), which keeps its relative accuracy where 1 + erf would cancel.
template <typename V>
typename V::F geluV(typename V::F x) {
  using F = typename V::F;
  F z = V::mul(x, V::set1(0.707106781186547524f));
  F t = V::abs(z);
  F erfc = V::select(V::gt(t, V::set1(4.0f)), V::set1(0.0f), erfcLarge<V>(t));
  F large = V::select(V::gt(z, V::set1(0.0f)), V::sub(V::set1(2.0f), erfc), erfc);
  F twicePhi = V::select(V::lt(t, V::set1(kErfSplit)), V::add(V::set1(1.0f), erfSmall<V>(z)), large);
  F y = V::mul(V::mul(x, V::set1(0.5f)), twicePhi);
  // -inf * 0 would be NaN; the limit is 0.
  y = V::select(V::eq(twicePhi, V::set1(0.0f)), V::set1(0.0f), y);
  return V::select(V::isNan(x), x, y);
}

// 1 / (1 + e^-x).
template <typename V>
typename V::F sigmoidV(typename V::F x) {
  using F = typename V::F;
  F one = V::set1(1.0f);
  return V::div(one, V::add(one, expV<V>(V::sub(V::set1(0.0f), x))));
}

// x (1 + tanh u) / 2 = x sigmoid(2u): no cancellation for negative x.
template <typename V>
typename V::F geluTanhV(typename V::F x) {
  using F = typename V::F;
  F x2 = V::mul(x, x);
  F u2 = V::mul(V::mul(x, V::set1(2.0f * 0.797884560802865356f)), V::fma(x2, V::set1(0.044715f), V::set1(1.0f)));
  F s = sigmoidV<V>(u2);
  F y = V::mul(x, s);
  y = V::select(V::eq(s, V::set1(0.0f)), V::set1(0.0f), y);
  return V::select(V::isNan(x), x, y);
}

// tanh x = x + x s p(s), s = x^2, for |x| < 0.625; else 1 - 2 / (e^2|x| + 1).
template <typename V>
typename V::F tanhV(typename V::F x) {
  using F = typename V::F;
  static constexpr float kP[] = {-6.096714176e-03f, 2.099717967e-02f, -5.385090783e-02f,
                                 1.333276927e-01f, -3.333332837e-01f};
  F t = V::abs(x);
  F s = V::mul(x, x);
  F small = V::fma(V::mul(x, s), polynomial<V>(s, kP), x);
  F one = V::set1(1.0f);
  F e = expV<V>(V::add(t, t));
  F large = V::copySign(V::sub(one, V::div(V::set1(2.0f), V::add(e, one))), x);
  F y = V::select(V::lt(t, V::set1(0.625f)), small, large);
  return V::select(V::isNan(x), x, y);
}

template <typename V>
typename V::F reluV(typename V::F x) {
  // max returns its second operand when either is NaN.
  return V::max(V::set1(0.0f), x);
}

// min(max(x, 0), 6); NaN stays NaN.
template <typename V>
typename V::F relu6V(typename V::F x) {
  return V::min(V::set1(6.0f), V::max(V::set1(0.0f), x));
}

// x * min(max(x / 6 + 0.5, 0), 1) (ONNX HardSwish), rounded as the scalar path rounds it; NaN stays NaN.
template <typename V>
typename V::F hardSwishV(typename V::F x) {
  // min returns its second operand when either is NaN: the gate of a NaN is 1 and the product NaN.
  typename V::F gate = V::min(V::add(V::div(x, V::set1(6.0f)), V::set1(0.5f)), V::set1(1.0f));
  return V::mul(x, V::max(gate, V::set1(0.0f)));
}

// Applies f to a row, the tail through a partial vector.
template <typename V, typename V::F (*f)(typename V::F)>
void unaryRow(const float* x, float* y, size_t n) {
  size_t i = 0;
  for (; i + V::kWidth <= n; i += V::kWidth) V::store(y + i, f(V::load(x + i)));
  if (i < n) V::storePartial(y + i, f(V::loadPartial(x + i, n - i, 0.0f)), n - i);
}

template <typename V>
void addRow(const float* a, const float* b, float* y, size_t n) {
  size_t i = 0;
  for (; i + V::kWidth <= n; i += V::kWidth) V::store(y + i, V::add(V::load(a + i), V::load(b + i)));
  if (i < n) {
    size_t rest = n - i;
    V::storePartial(y + i, V::add(V::loadPartial(a + i, rest, 0.0f), V::loadPartial(b + i, rest, 0.0f)), rest);
  }
}

// Loads and stores of the first `lanes` floats of a vector (Full: all kWidth of them).
template <typename V, bool Full>
struct Lanes {
  size_t lanes;
  typename V::F load(const float* p) const { return Full ? V::load(p) : V::loadPartial(p, lanes, 0.0f); }
  void store(float* p, typename V::F v) const {
    if (Full) {
      V::store(p, v);
    } else {
      V::storePartial(p, v, lanes);
    }
  }
};

// Channel block [i, i + lanes) (Full: lanes == kWidth) of a depthwise output row: each tap's weights
// are loaded once for four output pixels, whose sums stay in registers.
template <typename V, bool Full>
void depthwiseBlock(const float* x, size_t pixels, size_t pixelStride, const ptrdiff_t* offsets,
                    const float* const* weights, size_t taps, const float* bias, float* y, size_t n, size_t i,
                    size_t lanes) {
  using F = typename V::F;
  const Lanes<V, Full> io{lanes};
  auto load = [&io](const float* p) { return io.load(p); };
  auto store = [&io](float* p, F v) { io.store(p, v); };
  const F b = bias ? load(bias + i) : V::set1(0.0f);
  size_t p = 0;
  for (; p + 4 <= pixels; p += 4) {
    F a0 = b, a1 = b, a2 = b, a3 = b;
    const float* x0 = x + p * pixelStride + i;
    for (size_t t = 0; t < taps; ++t) {
      const F w = load(weights[t] + i);
      const float* xt = x0 + offsets[t];
      a0 = V::fma(load(xt), w, a0);
      a1 = V::fma(load(xt + pixelStride), w, a1);
      a2 = V::fma(load(xt + 2 * pixelStride), w, a2);
      a3 = V::fma(load(xt + 3 * pixelStride), w, a3);
    }
    float* yp = y + p * n + i;
    store(yp, a0);
    store(yp + n, a1);
    store(yp + 2 * n, a2);
    store(yp + 3 * n, a3);
  }
  for (; p < pixels; ++p) {
    F a = b;
    const float* x0 = x + p * pixelStride + i;
    for (size_t t = 0; t < taps; ++t) a = V::fma(load(x0 + offsets[t]), load(weights[t] + i), a);
    store(y + p * n + i, a);
  }
}

// y[p][j] = bias[j] + sum over t of x[p * pixelStride + offsets[t] + j] * weights[t][j]. Channel
// blocks outside, pixels inside: a block's taps stay in L1 along the row whatever the channel count.
template <typename V>
void depthwiseRow(const float* x, size_t pixels, size_t pixelStride, const ptrdiff_t* offsets,
                  const float* const* weights, size_t taps, const float* bias, float* y, size_t n) {
  constexpr size_t W = V::kWidth;
  size_t i = 0;
  for (; i + W <= n; i += W) depthwiseBlock<V, true>(x, pixels, pixelStride, offsets, weights, taps, bias, y, n, i, W);
  if (i < n) depthwiseBlock<V, false>(x, pixels, pixelStride, offsets, weights, taps, bias, y, n, i, n - i);
}

// Channel block [i, i + lanes) of a pooling output row, four output pixels at a time: the maximum of
// the taps (a NaN anywhere gives NaN), or their sum times scale.
template <typename V, bool Full, bool Average>
void poolBlock(const float* x, size_t pixels, size_t pixelStride, const ptrdiff_t* offsets, size_t taps, float scale,
               float* y, size_t n, size_t i, size_t lanes) {
  using F = typename V::F;
  const Lanes<V, Full> io{lanes};
  auto load = [&io](const float* p) { return io.load(p); };
  auto store = [&io](float* p, F v) { io.store(p, v); };
  // max returns its second operand when either is NaN: a NaN tap wins, and a NaN sum stays.
  auto combine = [](F acc, F v) { return Average ? V::add(acc, v) : V::select(V::isNan(acc), acc, V::max(acc, v)); };
  const F start = V::set1(Average ? 0.0f : -std::numeric_limits<float>::infinity());
  const F s = V::set1(scale);
  auto finish = [&](F acc) { return Average ? V::mul(acc, s) : acc; };
  size_t p = 0;
  for (; p + 4 <= pixels; p += 4) {
    F a0 = start, a1 = start, a2 = start, a3 = start;
    const float* x0 = x + p * pixelStride + i;
    for (size_t t = 0; t < taps; ++t) {
      const float* xt = x0 + offsets[t];
      a0 = combine(a0, load(xt));
      a1 = combine(a1, load(xt + pixelStride));
      a2 = combine(a2, load(xt + 2 * pixelStride));
      a3 = combine(a3, load(xt + 3 * pixelStride));
    }
    float* yp = y + p * n + i;
    store(yp, finish(a0));
    store(yp + n, finish(a1));
    store(yp + 2 * n, finish(a2));
    store(yp + 3 * n, finish(a3));
  }
  for (; p < pixels; ++p) {
    F a = start;
    const float* x0 = x + p * pixelStride + i;
    for (size_t t = 0; t < taps; ++t) a = combine(a, load(x0 + offsets[t]));
    store(y + p * n + i, finish(a));
  }
}

template <typename V>
void poolRow(const float* x, size_t pixels, size_t pixelStride, const ptrdiff_t* offsets, size_t taps, bool average,
             float scale, float* y, size_t n) {
  constexpr size_t W = V::kWidth;
  size_t i = 0;
  for (; i + W <= n; i += W) {
    if (average) {
      poolBlock<V, true, true>(x, pixels, pixelStride, offsets, taps, scale, y, n, i, W);
    } else {
      poolBlock<V, true, false>(x, pixels, pixelStride, offsets, taps, scale, y, n, i, W);
    }
  }
  if (i == n) return;
  if (average) {
    poolBlock<V, false, true>(x, pixels, pixelStride, offsets, taps, scale, y, n, i, n - i);
  } else {
    poolBlock<V, false, false>(x, pixels, pixelStride, offsets, taps, scale, y, n, i, n - i);
  }
}

template <typename V>
void softmaxRow(const float* x, float* y, size_t n) {
  using F = typename V::F;
  if (n == 0) return;
  const float lowest = -std::numeric_limits<float>::infinity();
  F maxv = V::set1(lowest);
  size_t i = 0;
  for (; i + V::kWidth <= n; i += V::kWidth) maxv = V::max(maxv, V::load(x + i));
  if (i < n) maxv = V::max(maxv, V::loadPartial(x + i, n - i, lowest));
  F shift = V::set1(V::reduceMax(maxv));
  F sum = V::set1(0.0f);
  for (i = 0; i + V::kWidth <= n; i += V::kWidth) {
    F e = expV<V>(V::sub(V::load(x + i), shift));
    V::store(y + i, e);
    sum = V::add(sum, e);
  }
  if (i < n) {
    // Lanes past the row hold -inf, whose exp adds 0.
    F e = expV<V>(V::sub(V::loadPartial(x + i, n - i, lowest), shift));
    V::storePartial(y + i, e, n - i);
    sum = V::add(sum, e);
  }
  F scale = V::set1(1.0f / V::reduceAdd(sum));
  for (i = 0; i + V::kWidth <= n; i += V::kWidth) V::store(y + i, V::mul(V::load(y + i), scale));
  if (i < n) V::storePartial(y + i, V::mul(V::loadPartial(y + i, n - i, 0.0f), scale), n - i);
}

template <typename V>
void layerNormRow(const float* x, const float* gamma, const float* beta, size_t n, float epsilon, float* y) {
  using F = typename V::F;
  if (n == 0) return;
  // Sums of x - x[0] (exact for values within a factor 2 of x[0]), so that an offset
  // common to the row, large next to the spread, costs no accuracy in the mean.
  // Two accumulators per pass: shorter dependency chains and a smaller rounding error.
  const float pivot = x[0];
  F pivotv = V::set1(pivot);
  F s0 = V::set1(0.0f), s1 = V::set1(0.0f);
  size_t i = 0;
  for (; i + 2 * V::kWidth <= n; i += 2 * V::kWidth) {
    s0 = V::add(s0, V::sub(V::load(x + i), pivotv));
    s1 = V::add(s1, V::sub(V::load(x + i + V::kWidth), pivotv));
  }
  for (; i + V::kWidth <= n; i += V::kWidth) s0 = V::add(s0, V::sub(V::load(x + i), pivotv));
  if (i < n) s1 = V::add(s1, V::sub(V::loadPartial(x + i, n - i, pivot), pivotv));
  const float mean = pivot + V::reduceAdd(V::add(s0, s1)) / static_cast<float>(n);
  F meanv = V::set1(mean);
  s0 = V::set1(0.0f);
  s1 = V::set1(0.0f);
  for (i = 0; i + 2 * V::kWidth <= n; i += 2 * V::kWidth) {
    F d0 = V::sub(V::load(x + i), meanv);
    F d1 = V::sub(V::load(x + i + V::kWidth), meanv);
    s0 = V::fma(d0, d0, s0);
    s1 = V::fma(d1, d1, s1);
  }
  for (; i + V::kWidth <= n; i += V::kWidth) {
    F d = V::sub(V::load(x + i), meanv);
    s0 = V::fma(d, d, s0);
  }
  if (i < n) {
    // Lanes past the row load the mean, so their difference is 0.
    F d = V::sub(V::loadPartial(x + i, n - i, mean), meanv);
    s1 = V::fma(d, d, s1);
  }
  const float variance = V::reduceAdd(V::add(s0, s1)) / static_cast<float>(n);
  F inv = V::set1(1.0f / std::sqrt(variance + epsilon));
  for (i = 0; i + V::kWidth <= n; i += V::kWidth) {
    F v = V::mul(V::mul(V::sub(V::load(x + i), meanv), inv), V::load(gamma + i));
    V::store(y + i, beta ? V::add(v, V::load(beta + i)) : v);
  }
  if (i < n) {
    size_t rest = n - i;
    F v = V::mul(V::mul(V::sub(V::loadPartial(x + i, rest, 0.0f), meanv), inv), V::loadPartial(gamma + i, rest, 0.0f));
    V::storePartial(y + i, beta ? V::add(v, V::loadPartial(beta + i, rest, 0.0f)) : v, rest);
  }
}

template <typename V>
VectorKernels makeVectorKernels(IsaLevel isa) {
  return VectorKernels{isa,
                       unaryRow<V, expV<V>>,
                       unaryRow<V, erfV<V>>,
                       unaryRow<V, tanhV<V>>,
                       unaryRow<V, sigmoidV<V>>,
                       unaryRow<V, geluV<V>>,
                       unaryRow<V, geluTanhV<V>>,
                       unaryRow<V, reluV<V>>,
                       unaryRow<V, relu6V<V>>,
                       unaryRow<V, hardSwishV<V>>,
                       addRow<V>,
                       poolRow<V>,
                       depthwiseRow<V>,
                       softmaxRow<V>,
                       layerNormRow<V>};
}

}  // namespace onnxforge::vmath::simd
