// Self-test of the float kernels the addon does not export: gemm/gemmSerial (every
// transpose, alpha/beta, strides, awkward shapes), gemmPacked with epilogues and
// strides, and the vector math against double precision, at the ISA that
// ONNXFORGE_ISA selects. Prints one line per check with the error reached; exits 1
// if any check fails. Run by test/kernels/float-kernels.test.ts on every ISA.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "float_gemm.h"
#include "thread_pool.h"
#include "vector_math.h"

namespace {

using onnxforge::fgemm::Activation;
constexpr double kUnit = 1.0 / (1 << 24);  // float's unit roundoff
const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

int failures = 0;

void report(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

std::vector<float> randomFloats(size_t count, std::mt19937& rng, float scale = 1.0f) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> out(count);
  for (float& v : out) v = dist(rng);
  return out;
}

// Activations in double, the reference for the epilogue.
double activationRef(Activation activation, double x) {
  switch (activation) {
    case Activation::None: return x;
    case Activation::Relu: return x < 0 ? 0 : x;
    case Activation::Gelu: return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
    // x (1 + tanh u) / 2 as x / (1 + e^-2u): no cancellation in the reference either.
    case Activation::GeluTanh: return x / (1 + std::exp(-2 * std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    case Activation::Tanh: return std::tanh(x);
    case Activation::Sigmoid: return 1 / (1 + std::exp(-x));
  }
  return x;
}

const char* activationName(Activation activation) {
  static const char* names[] = {"none", "relu", "gelu", "gelu_tanh", "tanh", "sigmoid"};
  return names[static_cast<int>(activation)];
}

// The bound on |float result - exact| for a product summed over k terms in any order:
// (k + 2) u sum |a b| (Higham's gamma_k, plus the bias add), times 1.2 for the
// activation's slope (at most 1.13, GELU's), plus the activation's own error
// (4 ulp, and 2.5e-7 absolute for the erf-based functions) and the residual's rounding.
double tolerance(size_t k, double absSum, double ref) {
  return 1.2 * (k + 2) * kUnit * absSum + 8 * kUnit * std::fabs(ref) + 2.5e-7;
}

// --- gemm / gemmSerial -------------------------------------------------------

struct GemmCase {
  size_t m, n, k;
  bool transA, transB;
  float alpha, beta;
  size_t pad;  // extra elements per row of a, b and c
};

void checkGemm(const GemmCase& g, std::mt19937& rng, bool threaded) {
  const size_t aRows = g.transA ? g.k : g.m, aCols = g.transA ? g.m : g.k;
  const size_t bRows = g.transB ? g.n : g.k, bCols = g.transB ? g.k : g.n;
  const size_t lda = aCols + g.pad, ldb = bCols + g.pad, ldc = g.n + g.pad;
  std::vector<float> a = randomFloats(aRows * lda, rng), b = randomFloats(bRows * ldb, rng);
  std::vector<float> c = randomFloats(g.m * ldc, rng);
  if (g.beta == 0.0f) {
    // beta = 0 must not read c: NaN there would show.
    for (size_t i = 0; i < g.m; ++i) std::fill(c.begin() + i * ldc, c.begin() + i * ldc + g.n, kNaN);
  }
  std::vector<float> original = c;
  (threaded ? onnxforge::fgemm::gemm : onnxforge::fgemm::gemmSerial)(
      g.m, g.n, g.k, g.alpha, a.data(), lda, g.transA, b.data(), ldb, g.transB, g.beta, c.data(), ldc);
  double worst = 0;
  bool ok = true;
  for (size_t i = 0; i < g.m && ok; ++i) {
    for (size_t j = 0; j < ldc; ++j) {
      float got = c[i * ldc + j];
      if (j >= g.n) {
        // Padding stays untouched.
        if (std::memcmp(&got, &original[i * ldc + j], sizeof(float)) != 0) ok = false;
        continue;
      }
      double sum = 0, absSum = 0;
      for (size_t p = 0; p < g.k; ++p) {
        double av = g.transA ? a[p * lda + i] : a[i * lda + p];
        double bv = g.transB ? b[j * ldb + p] : b[p * ldb + j];
        sum += av * bv;
        absSum += std::fabs(av * bv);
      }
      double old = g.beta == 0.0f ? 0.0 : original[i * ldc + j];
      double ref = g.alpha * sum + g.beta * old;
      double bound = (g.k + 4) * kUnit * (std::fabs(g.alpha) * absSum + std::fabs(g.beta * old)) + 1e-30;
      double err = std::fabs(got - ref);
      worst = std::max(worst, err / bound);
      if (!(err <= bound)) ok = false;
    }
  }
  char line[200];
  std::snprintf(line, sizeof(line), "%s m=%zu n=%zu k=%zu transA=%d transB=%d alpha=%g beta=%g pad=%zu: error %.3f of bound",
                threaded ? "gemm" : "gemmSerial", g.m, g.n, g.k, g.transA, g.transB, g.alpha, g.beta, g.pad, worst);
  report(ok, line);
}

void gemmTests(std::mt19937& rng) {
  const size_t sizes[][3] = {{1, 1, 1},    {3, 17, 15},  {15, 16, 17},  {16, 33, 31}, {17, 65, 63},
                             {31, 15, 65}, {33, 31, 257}, {64, 64, 64},  {65, 127, 255}, {1, 257, 513},
                             {128, 128, 64}, {7, 100, 0}, {200, 48, 300}};
  size_t index = 0;
  for (auto& s : sizes) {
    for (int t = 0; t < 4; ++t) {
      bool transA = t & 1, transB = t & 2;
      float alpha = index % 3 == 0 ? 1.0f : 0.75f;
      float beta = index % 2 == 0 ? 0.0f : (index % 4 == 1 ? 1.0f : -0.5f);
      GemmCase g{s[0], s[1], s[2], transA, transB, alpha, beta, index % 3 == 2 ? size_t(5) : size_t(0)};
      checkGemm(g, rng, index % 2 == 0);
      ++index;
    }
  }
  // The threaded and serial forms split the same blocks, so they agree bit for bit.
  const size_t m = 150, n = 200, k = 300;
  std::vector<float> a = randomFloats(m * k, rng), b = randomFloats(n * k, rng);
  std::vector<float> serial(m * n), threaded(m * n);
  onnxforge::fgemm::gemmSerial(m, n, k, 1.0f, a.data(), k, false, b.data(), k, true, 0.0f, serial.data(), n);
  onnxforge::fgemm::gemm(m, n, k, 1.0f, a.data(), k, false, b.data(), k, true, 0.0f, threaded.data(), n);
  report(serial == threaded, "gemm equals gemmSerial bit for bit (150 x 200 x 300, transB)");
}

// --- gemmPacked with epilogues -----------------------------------------------

void checkPacked(size_t m, size_t n, size_t k, bool transposed, Activation activation, bool bias, bool residual,
                 size_t pad, std::mt19937& rng) {
  const size_t lda = k + pad, ldy = n + pad, lds = n + 2 * pad;
  std::vector<float> a = randomFloats(m * lda, rng), b = randomFloats(k * n, rng);
  std::vector<float> biasValues = randomFloats(n, rng), residualValues = randomFloats(m * lds, rng);
  std::vector<float> y(m * ldy, kNaN);
  auto w = onnxforge::fgemm::packWeights(b.data(), k, n, transposed);
  onnxforge::fgemm::Epilogue epilogue;
  epilogue.bias = bias ? biasValues.data() : nullptr;
  epilogue.activation = activation;
  epilogue.residual = residual ? residualValues.data() : nullptr;
  epilogue.residualStride = lds;
  onnxforge::fgemm::gemmPacked(a.data(), m, lda, *w, y.data(), ldy, epilogue);
  double worst = 0;
  bool ok = true;
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < ldy; ++j) {
      float got = y[i * ldy + j];
      if (j >= n) {
        if (!std::isnan(got)) ok = false;
        continue;
      }
      double sum = bias ? biasValues[j] : 0.0, absSum = std::fabs(sum);
      for (size_t p = 0; p < k; ++p) {
        double bv = transposed ? b[j * k + p] : b[p * n + j];
        sum += a[i * lda + p] * bv;
        absSum += std::fabs(a[i * lda + p] * bv);
      }
      double ref = activationRef(activation, sum) + (residual ? residualValues[i * lds + j] : 0.0);
      double bound = tolerance(k, absSum, ref);
      double err = std::fabs(got - ref);
      worst = std::max(worst, err / bound);
      if (!(err <= bound)) ok = false;
    }
  }
  char line[200];
  std::snprintf(line, sizeof(line), "gemmPacked m=%zu n=%zu k=%zu transposed=%d %s bias=%d residual=%d pad=%zu: error %.3f of bound",
                m, n, k, transposed, activationName(activation), bias, residual, pad, worst);
  report(ok, line);
}

void packedTests(std::mt19937& rng) {
  const size_t shapes[][3] = {{1, 1, 1}, {1, 1000, 768}, {3, 31, 17}, {16, 65, 255}, {33, 129, 600}, {100, 40, 3}, {2, 5, 0}};
  const Activation activations[] = {Activation::None, Activation::Relu, Activation::Gelu,
                                    Activation::GeluTanh, Activation::Tanh, Activation::Sigmoid};
  size_t index = 0;
  for (auto& s : shapes) {
    for (Activation activation : activations) {
      checkPacked(s[0], s[1], s[2], index % 2 == 1, activation, index % 3 != 0, index % 4 < 2, index % 5 == 0 ? 3 : 0, rng);
      ++index;
    }
  }
}

// --- vector math ------------------------------------------------------------------

// |got - ref| in units of float spacing at ref (subnormal spacing below FLT_MIN).
double ulpError(float got, double ref) {
  if (std::isnan(ref)) return std::isnan(got) ? 0 : INFINITY;
  if (std::isinf(ref)) return got == ref ? 0 : INFINITY;
  double magnitude = std::max(std::fabs(ref), static_cast<double>(std::numeric_limits<float>::min()));
  int exponent;
  std::frexp(magnitude, &exponent);
  return std::fabs(got - ref) / std::ldexp(1.0, exponent - 24);
}

std::vector<float> sweep(float lo, float hi, size_t count) {
  std::vector<float> xs(count);
  for (size_t i = 0; i < count; ++i) xs[i] = lo + (hi - lo) * static_cast<float>(i) / static_cast<float>(count - 1);
  return xs;
}

struct UnaryCheck {
  const char* name;
  void (*f)(const float*, float*, size_t);
  std::function<double(double)> ref;
  float lo, hi;
  // Bounds: |error| <= maxUlp * growth(x) ulp where |ref| > 1e-30, and |error| <= maxScaled * max(1, |ref|).
  // growth is 1, or for the GELUs how much a rounding of their inner argument is magnified.
  double maxUlp;
  double maxScaled;
  std::function<double(double)> growth = [](double) { return 1.0; };
};

void checkUnary(const UnaryCheck& c, std::mt19937& rng) {
  std::vector<float> xs = sweep(c.lo, c.hi, 200001);
  std::uniform_real_distribution<float> dist(c.lo, c.hi);
  for (int i = 0; i < 20000; ++i) xs.push_back(dist(rng));
  std::vector<float> ys(xs.size());
  c.f(xs.data(), ys.data(), xs.size());
  double worstUlp = 0, worstScaled = 0, worstX = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    double ref = c.ref(xs[i]);
    worstScaled = std::max(worstScaled, std::fabs(ys[i] - ref) / std::max(1.0, std::fabs(ref)));
    double ulps = ulpError(ys[i], ref) / c.growth(xs[i]);
    if (std::fabs(ref) > 1e-30 && ulps > worstUlp) {
      worstUlp = ulps;
      worstX = xs[i];
    }
  }
  char line[240];
  std::snprintf(line, sizeof(line), "%s on [%g, %g]: max %.2f ulp%s (at x = %.7g), max |error| / max(1, |y|) %.3g (bounds %.1f, %.1g)",
                c.name, c.lo, c.hi, worstUlp, c.maxUlp == INFINITY || c.growth(2.0) == 1.0 ? "" : " / growth", worstX,
                worstScaled, c.maxUlp, c.maxScaled);
  report(worstUlp <= c.maxUlp && worstScaled <= c.maxScaled, line);
}

// Special values, tails of every length and in-place use.
// HardSwish rounds like the scalar formula on every ISA (onnxruntime's own is that formula too).
void hardSwishExactTest(std::mt19937& rng) {
  std::vector<float> x = randomFloats(4096, rng, 8.0f), y(x.size());
  onnxforge::vmath::hardSwish(x.data(), y.data(), x.size());
  bool ok = true;
  for (size_t i = 0; i < x.size(); ++i) ok = ok && y[i] == x[i] * std::max(0.0f, std::min(1.0f, x[i] / 6.0f + 0.5f));
  report(ok, "hardSwish: 4096 values in [-8, 8] equal the scalar formula exactly");
}

void checkSpecials(const char* name, void (*f)(const float*, float*, size_t), const std::function<double(double)>& ref,
                   std::mt19937& rng) {
  const float specials[] = {kInf, -kInf, kNaN, 0.0f, -0.0f, 1e-30f, -1e-30f, 1e-45f, 100.0f, -100.0f, 1e30f, -1e30f};
  bool ok = true;
  std::string bad;
  for (float x : specials) {
    float y = 0;
    f(&x, &y, 1);
    double want = static_cast<float>(ref(x));
    bool same = std::isnan(want) ? std::isnan(y) : (std::isinf(want) ? y == want : ulpError(y, want) <= 4 || std::fabs(y - want) < 1e-37);
    if (!same) {
      ok = false;
      bad += " f(" + std::to_string(x) + ") = " + std::to_string(y) + " not " + std::to_string(want) + ";";
    }
  }
  for (size_t n = 0; n <= 40 && ok; ++n) {
    // Every lane of a partial vector equals the same input's lane in full vectors.
    std::vector<float> x = randomFloats(n + 1, rng, 4.0f), y(n + 1, 12345.0f);
    std::vector<float> padded = x, full(64);
    padded.resize(64, 0.5f);
    f(padded.data(), full.data(), 64);
    f(x.data(), y.data(), n);
    std::vector<float> inPlace = x;
    f(inPlace.data(), inPlace.data(), n);
    for (size_t i = 0; i < n; ++i) ok = ok && y[i] == full[i] && inPlace[i] == full[i];
    ok = ok && y[n] == 12345.0f && inPlace[n] == x[n];
    if (!ok) bad += " tail length " + std::to_string(n);
  }
  report(ok, std::string(name) + ": inf, NaN, zeros, huge and tiny values; tails 0..40, in place" + bad);
}

void vectorMathTests(std::mt19937& rng) {
  using namespace onnxforge;
  auto geluRef = [](double x) { return activationRef(Activation::Gelu, x); };
  auto geluTanhRef = [](double x) { return activationRef(Activation::GeluTanh, x); };
  auto sigmoidRef = [](double x) { return 1 / (1 + std::exp(-x)); };
  // The GELUs' relative error grows where they are tiny: gelu's erfc(-x / sqrt 2) moves by
  // x^2 times a rounding of x / sqrt 2, geluTanh's sigmoid(2u) by |2u| times a rounding of u.
  auto geluGrowth = [](double x) { return 1 + x * x; };
  auto geluTanhGrowth = [](double x) { return 1 + 2 * std::sqrt(2 / M_PI) * std::fabs(x + 0.044715 * x * x * x); };
  const UnaryCheck checks[] = {
      {"exp", vmath::exp, [](double x) { return std::exp(x); }, -87.3f, 88.7f, 2.0, INFINITY},
      {"exp (subnormal results)", vmath::exp, [](double x) { return std::exp(x); }, -103.9f, -87.4f, INFINITY, 1.5e-45},
      {"erf", vmath::erf, [](double x) { return std::erf(x); }, -5.0f, 5.0f, 2.0, 1.2e-7},
      {"tanh", vmath::tanh, [](double x) { return std::tanh(x); }, -10.0f, 10.0f, 3.0, 1.2e-7},
      {"sigmoid", vmath::sigmoid, sigmoidRef, -30.0f, 30.0f, 3.0, 1.2e-7},
      {"gelu", vmath::gelu, geluRef, -5.65f, 10.0f, 2.0, 2e-7, geluGrowth},
      // The SIMD paths flush gelu to 0 below x = -5.66, where |gelu| < 4.4e-8.
      {"gelu (x < -5.65)", vmath::gelu, geluRef, -10.0f, -5.65f, INFINITY, 4.5e-8},
      {"geluTanh", vmath::geluTanh, geluTanhRef, -10.0f, 10.0f, 3.0, 2e-7, geluTanhGrowth},
  };
  for (const UnaryCheck& c : checks) checkUnary(c, rng);
  auto reluRef = [](double x) { return std::isnan(x) ? x : (x < 0 ? 0.0 : x); };
  auto geluLimit = [&](double x) { return std::isinf(x) ? (x > 0 ? x : 0.0) : geluRef(x); };
  auto geluTanhLimit = [&](double x) { return std::isinf(x) ? (x > 0 ? x : 0.0) : geluTanhRef(x); };
  checkSpecials("exp", vmath::exp, [](double x) { return std::exp(x); }, rng);
  checkSpecials("erf", vmath::erf, [](double x) { return std::erf(x); }, rng);
  checkSpecials("tanh", vmath::tanh, [](double x) { return std::tanh(x); }, rng);
  checkSpecials("sigmoid", vmath::sigmoid, sigmoidRef, rng);
  checkSpecials("gelu", vmath::gelu, geluLimit, rng);
  checkSpecials("geluTanh", vmath::geluTanh, geluTanhLimit, rng);
  checkSpecials("relu", vmath::relu, reluRef, rng);
  checkSpecials("relu6", vmath::relu6, [](double x) { return std::isnan(x) ? x : std::min(std::max(x, 0.0), 6.0); }, rng);
  checkSpecials("hardSwish", vmath::hardSwish, [](double x) { return x * std::max(0.0, std::min(1.0, x / 6 + 0.5)); }, rng);
  hardSwishExactTest(rng);
}

void softmaxTests(std::mt19937& rng) {
  double worst = 0;
  bool ok = true;
  for (size_t n : {1, 3, 15, 16, 17, 33, 128, 768, 1000}) {
    for (float offset : {0.0f, 1000.0f, -1000.0f}) {
      std::vector<float> x = randomFloats(n, rng, 20.0f), y(n + 1, 7.0f);
      for (float& v : x) v += offset;
      if (n > 4) x[2] = -kInf;  // a masked position
      onnxforge::vmath::softmaxRow(x.data(), y.data(), n);
      double maxValue = -INFINITY, sum = 0;
      for (float v : x) maxValue = std::max(maxValue, static_cast<double>(v));
      for (float v : x) sum += std::exp(static_cast<double>(v) - maxValue);
      for (size_t i = 0; i < n; ++i) {
        double ref = std::exp(static_cast<double>(x[i]) - maxValue) / sum;
        double err = std::fabs(y[i] - ref) / std::max(ref, 1e-30);
        if (ref > 1e-30) worst = std::max(worst, err / ((8 + n / 8.0 + std::fabs(x[i] - maxValue)) * kUnit));
        // The rounding of x - max (relative error |x - max| u in exp), exp's and the
        // scaling's roundings, and float sums of n / 8 terms per lane.
        double bound = (8 + n / 8.0 + std::fabs(x[i] - maxValue)) * kUnit;
        ok = ok && (ref < 1e-30 ? std::fabs(y[i]) < 1e-29 : err <= bound);
      }
      ok = ok && y[n] == 7.0f;
    }
  }
  char line[160];
  std::snprintf(line, sizeof(line), "softmaxRow: lengths 1..1000, offsets +-1000, a -inf entry: max relative error %.3f of (8 + n / 8 + |x - max|) u", worst);
  report(ok, line);
  std::vector<float> withNan = {1.0f, kNaN, 2.0f}, out(3);
  onnxforge::vmath::softmaxRow(withNan.data(), out.data(), 3);
  report(std::isnan(out[0]) && std::isnan(out[1]) && std::isnan(out[2]), "softmaxRow: a NaN makes the row NaN");
}

void layerNormTests(std::mt19937& rng) {
  double worst = 0;
  bool ok = true;
  for (size_t n : {1, 3, 17, 64, 767, 768, 1024, 4096}) {
    for (float shift : {0.0f, 5.0f}) {
      for (bool withBeta : {true, false}) {
        std::vector<float> x = randomFloats(n, rng, 2.0f), gamma = randomFloats(n, rng), beta = randomFloats(n, rng);
        for (float& v : x) v += shift;
        std::vector<float> y(n + 1, 7.0f);
        const float epsilon = 1e-5f;
        onnxforge::vmath::layerNormRow(x.data(), gamma.data(), withBeta ? beta.data() : nullptr, n, epsilon, y.data());
        double mean = 0, var = 0;
        for (float v : x) mean += v;
        mean /= static_cast<double>(n);
        for (float v : x) var += (v - mean) * (v - mean);
        var /= static_cast<double>(n);
        double inv = 1 / std::sqrt(var + epsilon);
        for (size_t i = 0; i < n; ++i) {
          double normalized = (x[i] - mean) * inv;
          double ref = normalized * gamma[i] + (withBeta ? beta[i] : 0.0);
          // Relative to the output's scale: gamma for a value near the mean, plus beta.
          double scale = std::fabs(gamma[i]) * (1 + std::fabs(normalized)) + (withBeta ? std::fabs(beta[i]) : 0.0);
          double err = std::fabs(y[i] - ref) / scale;
          worst = std::max(worst, err);
          ok = ok && err <= 2e-6;
        }
        ok = ok && y[n] == 7.0f;
      }
    }
  }
  char line[180];
  std::snprintf(line, sizeof(line), "layerNormRow: n 1..4096, mean 0 and 5, with and without beta: max error %.3g of |gamma| (1 + |normalized|) + |beta| (bound 2e-6)", worst);
  report(ok, line);
}

void poolRowTests(std::mt19937& rng) {
  double worst = 0;
  bool ok = true;
  for (size_t n : {1, 7, 16, 17, 64, 65, 576}) {
    for (size_t taps : {0, 1, 4, 9, 49}) {
      for (size_t pixels : {1, 3, 4, 9}) {
        for (bool average : {false, true}) {
          const size_t stride = 2 * n, span = 60 * n + pixels * stride;
          std::vector<float> plane = randomFloats(span, rng, 3.0f);
          std::vector<ptrdiff_t> offsets(taps);
          for (size_t t = 0; t < taps; ++t) offsets[t] = (static_cast<ptrdiff_t>(t) - 24) * static_cast<ptrdiff_t>(n);
          const float* x = plane.data() + 25 * n;
          const float scale = taps ? 1.0f / static_cast<float>(taps) : 0.0f;
          std::vector<float> y(pixels * n + 1, 7.0f);
          onnxforge::vmath::poolRow(x, pixels, stride, offsets.data(), taps, average, scale, y.data(), n);
          for (size_t p = 0; p < pixels; ++p) {
            for (size_t i = 0; i < n; ++i) {
              double sum = 0, magnitude = 0, max = -INFINITY;
              for (size_t t = 0; t < taps; ++t) {
                const double v = x[static_cast<ptrdiff_t>(p * stride + i) + offsets[t]];
                sum += v;
                magnitude += std::fabs(v);
                max = std::max(max, v);
              }
              if (!average) {
                ok = ok && y[p * n + i] == static_cast<float>(max);
                continue;
              }
              const double err = std::fabs(y[p * n + i] - sum * scale) / ((taps + 1) * kUnit * std::max(magnitude * scale, 1e-30));
              worst = std::max(worst, err);
              ok = ok && err <= 1.0;
            }
          }
          ok = ok && y[pixels * n] == 7.0f;
        }
      }
    }
  }
  // A NaN in any tap (first, middle or last) makes the maximum NaN, as onnxruntime's MaxPool does.
  for (size_t at = 0; at < 3; ++at) {
    std::vector<float> x = randomFloats(3 * 20, rng);
    x[at * 20 + 5] = kNaN;
    const ptrdiff_t offsets[] = {0, 20, 40};
    std::vector<float> y(20);
    onnxforge::vmath::poolRow(x.data(), 1, 0, offsets, 3, false, 1.0f, y.data(), 20);
    ok = ok && std::isnan(y[5]) && !std::isnan(y[4]);
  }
  char line[180];
  std::snprintf(line, sizeof(line), "poolRow: max exact, average max error %.3f of (taps + 1) u sum |terms|; NaN wins a maximum", worst);
  report(ok, line);
}

void depthwiseRowTests(std::mt19937& rng) {
  double worst = 0;
  bool ok = true;
  for (size_t n : {1, 7, 16, 17, 63, 64, 65, 96, 576}) {
    for (size_t taps : {0, 1, 4, 9, 25}) {
      for (size_t pixels : {1, 3, 4, 9}) {
        for (bool withBias : {true, false}) {
          // A plane of rows n apart; taps at distinct offsets on both sides of the row's start (as
          // padding-free windows are), pixels 2 n apart (stride 2).
          const size_t stride = 2 * n, span = 30 * n + pixels * stride;
          std::vector<float> plane = randomFloats(span, rng, 3.0f), weightStore = randomFloats(std::max<size_t>(taps, 1) * n, rng);
          std::vector<ptrdiff_t> offsets(taps);
          std::vector<const float*> weights(taps);
          for (size_t t = 0; t < taps; ++t) {
            offsets[t] = (static_cast<ptrdiff_t>(t) - 12) * static_cast<ptrdiff_t>(n);
            weights[t] = weightStore.data() + t * n;
          }
          const float* x = plane.data() + 13 * n;
          std::vector<float> bias = randomFloats(n, rng), y(pixels * n + 1, 7.0f);
          onnxforge::vmath::depthwiseRow(x, pixels, stride, offsets.data(), weights.data(), taps,
                                         withBias ? bias.data() : nullptr, y.data(), n);
          for (size_t p = 0; p < pixels; ++p) {
            for (size_t i = 0; i < n; ++i) {
              double ref = withBias ? bias[i] : 0.0, magnitude = std::fabs(ref);
              for (size_t t = 0; t < taps; ++t) {
                const double term = static_cast<double>(x[static_cast<ptrdiff_t>(p * stride + i) + offsets[t]]) * weights[t][i];
                ref += term;
                magnitude += std::fabs(term);
              }
              // A sum of taps + 1 terms: (taps + 1) u of the sum of magnitudes.
              double err = std::fabs(y[p * n + i] - ref) / (((taps + 1) * kUnit) * std::max(magnitude, 1e-30));
              worst = std::max(worst, err);
              ok = ok && err <= 1.0;
            }
          }
          ok = ok && y[pixels * n] == 7.0f;
        }
      }
    }
  }
  char line[180];
  std::snprintf(line, sizeof(line), "depthwiseRow: n 1..576, 0..25 taps, 1..9 pixels, with and without bias: max error %.3f of (taps + 1) u sum |terms|", worst);
  report(ok, line);
}

}  // namespace

int main() {
  std::printf("float kernels at ISA %s (vector math %s), %d threads\n", onnxforge::isaName(onnxforge::fgemm::floatGemmIsa()),
              onnxforge::isaName(onnxforge::vmath::vectorMathIsa()), onnxforge::getNumThreads());
  std::mt19937 rng(12345);
  onnxforge::setNumThreads(3);
  gemmTests(rng);
  packedTests(rng);
  vectorMathTests(rng);
  softmaxTests(rng);
  layerNormTests(rng);
  depthwiseRowTests(rng);
  poolRowTests(rng);
  std::printf("%d failure(s)\n", failures);
  return failures ? 1 : 0;
}
