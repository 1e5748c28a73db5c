// Resize of the two spatial axes of an NHWC tensor, nearest or bilinear, with ONNX's coordinate
// transforms and nearest rounding modes. Each output row/column's source positions are worked out
// once per run; the rows then copy or blend whole pixels (all channels at once).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "../op_kernel.h"

namespace onnxforge::engine {
namespace {

// ints = [N, H, W, C, OH, OW, mode, coordinate transform, nearest mode]; floats = [scale H, scale W].
enum Param : size_t { kN, kH, kW, kC, kOH, kOW, kMode, kTransform, kNearest, kCount };
enum class Mode : int64_t { Nearest, Linear, Count };
enum class Transform : int64_t { HalfPixel, PytorchHalfPixel, AlignCorners, Asymmetric, TfHalfPixelForNn, HalfPixelSymmetric, Count };
enum class Nearest : int64_t { RoundPreferFloor, RoundPreferCeil, Floor, Ceil, Count };

void checkResize(const Step& step, const Plan& plan) {
  requireArity(step, 1, 1, 1);
  requireInts(step, kCount);
  requireFloats(step, 2);
  for (size_t i = kN; i <= kOW; ++i) sizeParam(step, i);
  const auto inRange = [&](size_t at, int64_t count) { return step.ints[at] >= 0 && step.ints[at] < count; };
  if (!inRange(kMode, static_cast<int64_t>(Mode::Count)) || !inRange(kTransform, static_cast<int64_t>(Transform::Count)) ||
      !inRange(kNearest, static_cast<int64_t>(Nearest::Count))) {
    planError(step, "unknown mode");
  }
  if (!(step.floats[0] > 0) || !(step.floats[1] > 0) || !std::isfinite(step.floats[0]) || !std::isfinite(step.floats[1])) {
    planError(step, "scales must be positive");
  }
  if ((step.ints[kH] == 0 || step.ints[kW] == 0) && step.ints[kOH] * step.ints[kOW] != 0) planError(step, "resizes an empty plane");
  const size_t nc = mulParam(step, sizeParam(step, kN), sizeParam(step, kC));
  const ValueSlot& x = valueOf(step, plan, step.inputs[0], "x");
  requireDType(step, x, DType::Float32, "x");
  requireCount(step, x, mulParam(step, nc, mulParam(step, sizeParam(step, kH), sizeParam(step, kW))), "x");
  const ValueSlot& y = valueOf(step, plan, step.outputs[0], "y");
  requireDType(step, y, DType::Float32, "y");
  requireCount(step, y, mulParam(step, nc, mulParam(step, sizeParam(step, kOH), sizeParam(step, kOW))), "y");
}

// The input coordinate output coordinate `o` maps to (ONNX Resize's coordinate_transformation_mode).
float sourceCoordinate(Transform t, size_t o, float scale, size_t inLength, size_t outLength) {
  const float out = static_cast<float>(o);
  switch (t) {
    case Transform::HalfPixel: return (out + 0.5f) / scale - 0.5f;
    case Transform::PytorchHalfPixel: return outLength > 1 ? (out + 0.5f) / scale - 0.5f : 0.0f;
    case Transform::AlignCorners:
      return outLength == 1 ? 0.0f : out * static_cast<float>(inLength - 1) / static_cast<float>(outLength - 1);
    case Transform::Asymmetric: return out / scale;
    case Transform::TfHalfPixelForNn: return (out + 0.5f) / scale;
    case Transform::HalfPixelSymmetric: {
      const float adjustment = static_cast<float>(outLength) / (scale * static_cast<float>(inLength));
      const float center = static_cast<float>(inLength) / 2;
      return center * (1 - adjustment) + (out + 0.5f) / scale - 0.5f;
    }
    case Transform::Count: break;
  }
  return out;
}

size_t nearestIndex(Nearest mode, float at, size_t length) {
  float r = at;
  switch (mode) {
    case Nearest::RoundPreferFloor: r = std::ceil(at - 0.5f); break;
    case Nearest::RoundPreferCeil: r = std::floor(at + 0.5f); break;
    case Nearest::Floor: r = std::floor(at); break;
    case Nearest::Ceil: r = std::ceil(at); break;
    case Nearest::Count: break;
  }
  if (!(r > 0)) return 0;
  return std::min(static_cast<size_t>(r), length - 1);
}

// The two neighbours along one axis and the weight of the second (as onnxruntime clamps them).
struct Blend {
  size_t lo, hi;
  float weightLo, weightHi;
};

Blend linearBlend(float at, size_t length) {
  const float clamped = std::clamp(at, 0.0f, static_cast<float>(length - 1));
  const size_t lo = std::min(static_cast<size_t>(clamped), length - 1), hi = std::min(lo + 1, length - 1);
  if (lo == hi) return {lo, hi, 0.5f, 0.5f};
  return {lo, hi, std::fabs(clamped - static_cast<float>(hi)), std::fabs(clamped - static_cast<float>(lo))};
}

void runResize(const Step& step, RunState& state) {
  const auto at = [&](size_t i) { return static_cast<size_t>(step.ints[i]); };
  const size_t n = at(kN), h = at(kH), w = at(kW), c = at(kC), oh = at(kOH), ow = at(kOW);
  if (n * c * oh * ow == 0) return;
  const auto transform = static_cast<Transform>(step.ints[kTransform]);
  const float* x = state.at<float>(step.inputs[0]);
  float* y = state.at<float>(step.outputs[0]);
  if (static_cast<Mode>(step.ints[kMode]) == Mode::Nearest) {
    const auto rounding = static_cast<Nearest>(step.ints[kNearest]);
    std::vector<size_t> rows(oh), cols(ow);
    for (size_t i = 0; i < oh; ++i) rows[i] = nearestIndex(rounding, sourceCoordinate(transform, i, step.floats[0], h, oh), h);
    for (size_t i = 0; i < ow; ++i) cols[i] = nearestIndex(rounding, sourceCoordinate(transform, i, step.floats[1], w, ow), w);
    parallelRange(n * oh, static_cast<double>(ow * c), [&](size_t r0, size_t r1) {
      for (size_t r = r0; r < r1; ++r) {
        const float* in = x + ((r / oh) * h + rows[r % oh]) * w * c;
        float* out = y + r * ow * c;
        for (size_t o = 0; o < ow; ++o) std::memcpy(out + o * c, in + cols[o] * c, c * sizeof(float));
      }
    });
    return;
  }
  std::vector<Blend> rows(oh), cols(ow);
  for (size_t i = 0; i < oh; ++i) rows[i] = linearBlend(sourceCoordinate(transform, i, step.floats[0], h, oh), h);
  for (size_t i = 0; i < ow; ++i) cols[i] = linearBlend(sourceCoordinate(transform, i, step.floats[1], w, ow), w);
  parallelRange(n * oh, static_cast<double>(ow * c) * 4, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const Blend& v = rows[r % oh];
      const float* top = x + ((r / oh) * h + v.lo) * w * c;
      const float* bottom = x + ((r / oh) * h + v.hi) * w * c;
      float* out = y + r * ow * c;
      for (size_t o = 0; o < ow; ++o) {
        const Blend& u = cols[o];
        const float w00 = v.weightLo * u.weightLo, w01 = v.weightLo * u.weightHi;
        const float w10 = v.weightHi * u.weightLo, w11 = v.weightHi * u.weightHi;
        const float *a = top + u.lo * c, *b = top + u.hi * c, *d = bottom + u.lo * c, *e = bottom + u.hi * c;
        float* dst = out + o * c;
        for (size_t ch = 0; ch < c; ++ch) dst[ch] = w00 * a[ch] + w01 * b[ch] + w10 * d[ch] + w11 * e[ch];
      }
    }
  });
}

}  // namespace

extern const OpKernel kResizeKernel{checkResize, runResize};

}  // namespace onnxforge::engine
