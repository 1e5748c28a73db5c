// Max and average pooling over NHWC tensors (global pooling is the window of the whole plane).
#include <algorithm>
#include <cmath>
#include <vector>

#include "../op_kernel.h"
#include "conv_geometry.h"

namespace onnxforge::engine {
namespace {

// ints = geometry (OC == C) + [kind (0 max, 1 average), count_include_pad].
constexpr size_t kKind = WindowGeometry::kParams, kIncludePad = kKind + 1;

void checkPool(const Step& step, const Plan& plan) {
  requireArity(step, 1, 1, 1);
  const WindowGeometry g = checkedWindowGeometry(step);
  requireInts(step, kIncludePad + 1);
  if (g.oc != g.c) planError(step, "pooling keeps the channel count");
  if (step.ints[kKind] != 0 && step.ints[kKind] != 1) planError(step, "unknown pooling kind");
  const ValueSlot& x = valueOf(step, plan, step.inputs[0], "x");
  requireDType(step, x, DType::Float32, "x");
  requireCount(step, x, g.inputCount(), "x");
  const ValueSlot& y = valueOf(step, plan, step.outputs[0], "y");
  requireDType(step, y, DType::Float32, "y");
  requireCount(step, y, g.outputCount(), "y");
}

void runPool(const Step& step, RunState& state) {
  const WindowGeometry g = windowGeometry(step);
  const bool average = step.ints[kKind] == 1, includePad = step.ints[kIncludePad] != 0;
  const float* x = state.at<float>(step.inputs[0]);
  float* y = state.at<float>(step.outputs[0]);
  const size_t c = g.c;
  // The padded input's extent: windows that run past it (ceil mode) count only what lies inside.
  const int64_t padBottom = static_cast<int64_t>(g.h + g.pb), padRight = static_cast<int64_t>(g.w + g.pr);
  parallelRange(g.n * g.oh, static_cast<double>(g.ow) * g.kh * g.kw * c, [&](size_t r0, size_t r1) {
    std::vector<float> acc(c);
    for (size_t r = r0; r < r1; ++r) {
      const size_t b = r / g.oh, oy = r % g.oh;
      for (size_t ox = 0; ox < g.ow; ++ox) {
        std::fill(acc.begin(), acc.end(), average ? 0.0f : -INFINITY);
        size_t inside = 0, padded = 0;
        for (size_t ky = 0; ky < g.kh; ++ky) {
          const int64_t iy = g.inY(oy, ky);
          for (size_t kx = 0; kx < g.kw; ++kx) {
            const int64_t ix = g.inX(ox, kx);
            if (iy >= -static_cast<int64_t>(g.pt) && iy < padBottom && ix >= -static_cast<int64_t>(g.pl) && ix < padRight) ++padded;
            if (iy < 0 || ix < 0 || iy >= static_cast<int64_t>(g.h) || ix >= static_cast<int64_t>(g.w)) continue;
            ++inside;
            const float* in = x + ((b * g.h + static_cast<size_t>(iy)) * g.w + static_cast<size_t>(ix)) * c;
            if (average) {
              for (size_t ch = 0; ch < c; ++ch) acc[ch] += in[ch];
            } else {
              for (size_t ch = 0; ch < c; ++ch) acc[ch] = in[ch] > acc[ch] || in[ch] != in[ch] ? in[ch] : acc[ch];
            }
          }
        }
        float* out = y + ((b * g.oh + oy) * g.ow + ox) * c;
        if (average) {
          const size_t divisor = includePad ? padded : inside;
          const float inv = divisor ? 1.0f / static_cast<float>(divisor) : 0.0f;
          for (size_t ch = 0; ch < c; ++ch) out[ch] = acc[ch] * inv;
        } else {
          std::copy(acc.begin(), acc.end(), out);
        }
      }
    }
  });
}

}  // namespace

extern const OpKernel kPoolKernel{checkPool, runPool};

}  // namespace onnxforge::engine
