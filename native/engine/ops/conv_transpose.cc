// ConvTranspose over NHWC tensors in two passes. First every input pixel's channels times its
// group's layer (C/groups rows, taps x OC/groups columns, on whichever kernel the layer was packed
// for) give that pixel's contribution to each tap, into the step's scratch value. Then every output
// pixel gathers the contributions that land on it: no scatter, so output rows split over threads
// with no two writing the same place.
#include <cstring>

#include "../float_kernels.h"
#include "../op_kernel.h"
#include "conv_geometry.h"
#include "linear_rows.h"

namespace onnxforge::engine {
namespace {

// ints = geometry (n, h, w, c of the input; oh, ow, oc of the output; kernel, strides, pads at the
// output's begin and end, dilations) + [groups, activation]; inputs x, bias?; outputs y, scratch
// (n * h * w * kh * kw * oc floats); step.linear = the first group's layer.
constexpr size_t kGroups = WindowGeometry::kParams, kActivation = kGroups + 1;

void checkConvTranspose(const Step& step, const Plan& plan) {
  requireArity(step, 1, 2, 2);
  requireInts(step, kActivation + 1);
  const WindowGeometry g = checkedWindowGeometry(step);
  const size_t groups = sizeParam(step, kGroups);
  if (step.ints[kActivation] < 0 || step.ints[kActivation] >= static_cast<int64_t>(Activation::Count)) planError(step, "unknown activation");
  if (groups == 0 || g.c % groups != 0 || g.oc % groups != 0) planError(step, "channels do not split into the groups");
  const ValueSlot& x = valueOf(step, plan, step.inputs[0], "x");
  requireDType(step, x, DType::Float32, "x");
  requireCount(step, x, g.inputCount(), "x");
  const ValueSlot& y = valueOf(step, plan, step.outputs[0], "y");
  requireDType(step, y, DType::Float32, "y");
  requireCount(step, y, g.outputCount(), "y");
  const size_t taps = g.kh * g.kw;
  const ValueSlot& scratch = valueOf(step, plan, step.outputs[1], "scratch");
  requireDType(step, scratch, DType::Float32, "scratch");
  requireCount(step, scratch, mulParam(step, mulParam(step, g.n * g.h, g.w), taps * g.oc), "scratch");
  if (step.inputs.size() == 2 && step.inputs[1] >= 0) {
    const ValueSlot& bias = valueOf(step, plan, step.inputs[1], "bias");
    requireDType(step, bias, DType::Float32, "bias");
    requireCount(step, bias, g.oc, "bias");
  }
  if (step.linear < 0 || static_cast<size_t>(step.linear) + groups > plan.weights->linears.size()) {
    planError(step, "refers to layers the model does not have");
  }
  for (size_t i = 0; i < groups; ++i) {
    const LinearWeights& w = plan.weights->linears[static_cast<size_t>(step.linear) + i];
    if (w.k != g.c / groups || w.n != taps * (g.oc / groups)) planError(step, "a group's layer does not match the kernel and channels");
    if (w.kind == LinearKind::Int8 || w.kind == LinearKind::SparseInt8) planError(step, "the layer's kernel does not take float input");
  }
}

void runConvTranspose(const Step& step, RunState& state) {
  const WindowGeometry g = windowGeometry(step);
  if (g.outputCount() == 0) return;
  const size_t groups = static_cast<size_t>(step.ints[kGroups]);
  const auto activation = static_cast<Activation>(step.ints[kActivation]);
  const size_t cg = g.c / groups, ocg = g.oc / groups, taps = g.kh * g.kw;
  const size_t pixels = g.n * g.h * g.w, groupBlock = pixels * taps * ocg;
  const float* x = state.at<float>(step.inputs[0]);
  const float* bias = step.inputs.size() == 2 ? state.at<float>(step.inputs[1]) : nullptr;
  float* y = state.at<float>(step.outputs[0]);
  float* contributions = state.at<float>(step.outputs[1]);
  for (size_t grp = 0; grp < groups; ++grp) {
    const LinearWeights& w = state.plan.weights->linears[static_cast<size_t>(step.linear) + grp];
    linearRows(w, x + grp * cg, pixels, g.c, nullptr, Activation::None, contributions + grp * groupBlock);
  }
  parallelRange(g.n * g.oh, static_cast<double>(g.ow) * taps * g.oc, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const size_t b = r / g.oh, oy = r % g.oh;
      float* row = y + r * g.ow * g.oc;
      for (size_t ox = 0; ox < g.ow; ++ox) {
        float* out = row + ox * g.oc;
        if (bias) std::memcpy(out, bias, g.oc * sizeof(float));
        else std::memset(out, 0, g.oc * sizeof(float));
        // Input pixel iy reaches output row iy * sh + ky * dh - pt.
        for (size_t ky = 0; ky < g.kh; ++ky) {
          const int64_t ty = static_cast<int64_t>(oy + g.pt) - static_cast<int64_t>(ky * g.dh);
          if (ty < 0 || ty % static_cast<int64_t>(g.sh) != 0 || static_cast<size_t>(ty) / g.sh >= g.h) continue;
          const size_t iy = static_cast<size_t>(ty) / g.sh;
          for (size_t kx = 0; kx < g.kw; ++kx) {
            const int64_t tx = static_cast<int64_t>(ox + g.pl) - static_cast<int64_t>(kx * g.dw);
            if (tx < 0 || tx % static_cast<int64_t>(g.sw) != 0 || static_cast<size_t>(tx) / g.sw >= g.w) continue;
            const size_t ix = static_cast<size_t>(tx) / g.sw;
            const size_t at = (((b * g.h + iy) * g.w + ix) * taps + ky * g.kw + kx) * ocg;
            for (size_t grp = 0; grp < groups; ++grp) addInto(out + grp * ocg, contributions + grp * groupBlock + at, ocg);
          }
        }
      }
      applyActivation(activation, row, g.ow * g.oc);
    }
  });
}

}  // namespace

extern const OpKernel kConvTransposeKernel{checkConvTranspose, runConvTranspose};

}  // namespace onnxforge::engine
