// Portable int8 kernels: the reference every other path must match exactly.
// B panels are 16 columns wide, row-major within the panel.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "int8_isa.h"

namespace onnxforge::int8 {
namespace {

constexpr size_t kPanel = 16;

void packB(const int8_t* b, size_t k, size_t n, size_t kPadded, size_t nPadded, uint8_t* out) {
  auto* dst = reinterpret_cast<int8_t*>(out);
  for (size_t p = 0; p < nPadded / kPanel; ++p) {
    for (size_t kk = 0; kk < kPadded; ++kk) {
      for (size_t c = 0; c < kPanel; ++c) {
        size_t col = p * kPanel + c;
        *dst++ = (kk < k && col < n) ? b[kk * n + col] : 0;
      }
    }
  }
}

void packA(const uint8_t* a, size_t rows, size_t k, uint8_t flip, size_t strideBytes, uint8_t* out,
           int32_t* rowSum) {
  for (size_t r = 0; r < rows; ++r) {
    const uint8_t* src = a + r * k;
    uint8_t* dst = out + r * strideBytes;
    int32_t sum = 0;
    for (size_t kk = 0; kk < k; ++kk) {
      dst[kk] = src[kk] ^ flip;
      sum += dst[kk];
    }
    std::memset(dst + k, 0, strideBytes - k);
    rowSum[r] = sum;
  }
}

void quantizeRows(const float* x, size_t rows, size_t k, size_t strideBytes, uint8_t* out,
                  int32_t* rowSum, int32_t* zeroPoint, float* scale) {
  for (size_t r = 0; r < rows; ++r) {
    const float* src = x + r * k;
    float lo = 0.0f, hi = 0.0f;
    for (size_t kk = 0; kk < k; ++kk) {
      lo = std::fmin(lo, src[kk]);
      hi = std::fmax(hi, src[kk]);
    }
    dynamicRowParams(lo, hi, &scale[r], &zeroPoint[r]);
    uint8_t* dst = out + r * strideBytes;
    int32_t sum = 0;
    for (size_t kk = 0; kk < k; ++kk) {
      dst[kk] = quantizeToU8(src[kk], scale[r], zeroPoint[r]);
      sum += dst[kk];
    }
    std::memset(dst + k, 0, strideBytes - k);
    rowSum[r] = sum;
  }
}

void tile(const GemmTask& task, size_t rowBegin, size_t rowEnd, size_t panel) {
  const PackedWeights& w = *task.w;
  const auto* b = reinterpret_cast<const int8_t*>(w.data.data()) + panel * kPanel * w.kPadded;
  size_t rowLimit = std::min(rowEnd, task.m);
  for (size_t r = rowBegin; r < rowLimit; ++r) {
    const uint8_t* a = task.a + r * task.aStride;
    // uint32: the kernels' int32 sums wrap, they never trap.
    uint32_t acc[kPanel] = {};
    for (size_t kk = 0; kk < w.kPadded; ++kk) {
      int32_t av = a[kk];
      const int8_t* brow = b + kk * kPanel;
      for (size_t c = 0; c < kPanel; ++c) acc[c] += static_cast<uint32_t>(av * brow[c]);
    }
    uint32_t rowSum = static_cast<uint32_t>(task.rowSum[r]);
    uint32_t rowZero = static_cast<uint32_t>(task.rowZeroPoint[r]);
    for (size_t c = 0; c < kPanel; ++c) {
      size_t col = panel * kPanel + c;
      if (col >= task.n) break;
      uint32_t v = acc[c] - static_cast<uint32_t>(w.zeroPoint[col]) * rowSum -
                   rowZero * static_cast<uint32_t>(w.columnSum[col]);
      if (task.c) {
        task.c[r * task.n + col] = static_cast<int32_t>(v);
      } else {
        float s = task.rowScale[r] * w.scale[col];
        float bias = task.bias ? task.bias[col] : 0.0f;
        task.y[r * task.n + col] = std::fma(static_cast<float>(static_cast<int32_t>(v)), s, bias);
      }
    }
  }
}

double peakMacsPerSecond(double seconds) {
  // Multiply-adds of the scalar tile's inner loop, on data it keeps in cache.
  alignas(64) uint8_t a[256];
  alignas(64) int8_t b[256 * kPanel];
  for (size_t i = 0; i < sizeof(a); ++i) a[i] = static_cast<uint8_t>(i);
  for (size_t i = 0; i < sizeof(b); ++i) b[i] = static_cast<int8_t>(i * 7);
  uint32_t acc[kPanel] = {};
  // The best of short slices: on a shared machine other load only ever slows a slice down.
  double best = 0, spent = 0;
  while (spent < seconds) {
    auto start = std::chrono::steady_clock::now();
    for (int rep = 0; rep < 64; ++rep) {
      __asm__ volatile("" : : "r"(a), "r"(b) : "memory");  // each rep really runs
      for (size_t kk = 0; kk < sizeof(a); ++kk) {
        int32_t av = a[kk];
        for (size_t c = 0; c < kPanel; ++c) acc[c] += static_cast<uint32_t>(av * b[kk * kPanel + c]);
      }
    }
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, (64.0 * sizeof(a) * kPanel) / elapsed);
    spent += elapsed;
  }
  volatile uint32_t sink = acc[0];
  (void)sink;
  return best;
}

}  // namespace

const IsaKernels& scalarKernels() {
  static const IsaKernels table = {IsaLevel::Scalar, kPanel, kPanel, 1, 1, 1,
                                   packB, packA, quantizeRows, tile, peakMacsPerSecond};
  return table;
}

}  // namespace onnxforge::int8
