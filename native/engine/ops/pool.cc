// Max and average pooling over NHWC tensors (global pooling is the window of the whole plane).
#include <algorithm>
#include <cmath>
#include <vector>

#include "../float_kernels.h"
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
  const size_t c = g.c, taps = g.kh * g.kw;
  // The padded input's extent: windows that run past it (ceil mode) count only what lies inside.
  const int64_t padBottom = static_cast<int64_t>(g.h + g.pb), padRight = static_cast<int64_t>(g.w + g.pr);
  const int64_t padTop = -static_cast<int64_t>(g.pt), padLeft = -static_cast<int64_t>(g.pl);
  const auto [lo, hi] = g.interiorColumns();
  parallelRange(g.n * g.oh, static_cast<double>(g.ow) * taps * c, [&](size_t r0, size_t r1) {
    std::vector<ptrdiff_t> offsets(taps);
    for (size_t r = r0; r < r1; ++r) {
      const size_t b = r / g.oh, oy = r % g.oh;
      const float* image = x + b * g.h * g.w * c;
      float* row = y + r * g.ow * c;
      size_t rowsInside = 0, rowsPadded = 0;
      for (size_t ky = 0; ky < g.kh; ++ky) {
        const int64_t iy = g.inY(oy, ky);
        rowsInside += iy >= 0 && iy < static_cast<int64_t>(g.h);
        rowsPadded += iy >= padTop && iy < padBottom;
      }
      // The taps of column ox inside the image, as offsets from the image (of column lo for the
      // interior run); how many taps the padded extent holds goes to *padded.
      auto tapsOf = [&](size_t ox, bool interior, size_t* padded) {
        size_t count = 0;
        *padded = 0;
        for (size_t ky = 0; ky < g.kh; ++ky) {
          const int64_t iy = g.inY(oy, ky);
          for (size_t kx = 0; kx < g.kw; ++kx) {
            const int64_t ix = g.inX(interior ? lo : ox, kx);
            *padded += iy >= padTop && iy < padBottom && ix >= padLeft && ix < padRight;
            if (iy < 0 || ix < 0 || iy >= static_cast<int64_t>(g.h) || ix >= static_cast<int64_t>(g.w)) continue;
            offsets[count++] = static_cast<ptrdiff_t>((iy * static_cast<int64_t>(g.w) + ix) * static_cast<int64_t>(c));
          }
        }
        return count;
      };
      auto scaleFor = [&](size_t inside, size_t padded) {
        const size_t divisor = includePad ? padded : inside;
        return divisor ? 1.0f / static_cast<float>(divisor) : 0.0f;
      };
      for (size_t ox = 0; ox < g.ow; ++ox) {
        size_t padded = 0;
        if (ox == lo && hi > lo) {
          const size_t count = tapsOf(lo, true, &padded);
          poolRow(image, hi - lo, g.sw * c, offsets.data(), count, average, scaleFor(rowsInside * g.kw, rowsPadded * g.kw),
                  row + lo * c, c);
          ox = hi - 1;
          continue;
        }
        const size_t count = tapsOf(ox, false, &padded);
        poolRow(image, 1, 0, offsets.data(), count, average, scaleFor(count, padded), row + ox * c, c);
      }
    }
  });
}

}  // namespace

extern const OpKernel kPoolKernel{checkPool, runPool};

}  // namespace onnxforge::engine
