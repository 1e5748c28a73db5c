// QuantizeLinear, DequantizeLinear (per tensor or per axis) and DynamicQuantizeLinear,
// on the addon's quantize kernels (one rounding and saturation rule for everything).
#include <vector>

#include "../op_kernel.h"
#include "dynamic_quant.h"
#include "quantize.h"

namespace onnxforge::engine {
namespace {

// ints = [outer, channels, inner]; inputs value, scale (channels), zero point (channels, optional).
quant::AxisLayout axisLayout(const Step& step) {
  quant::AxisLayout l;
  l.outer = static_cast<size_t>(step.ints[0]);
  l.channels = static_cast<size_t>(step.ints[1]);
  l.inner = static_cast<size_t>(step.ints[2]);
  return l;
}

bool hasZeroPoint(const Step& step) { return step.inputs.size() == 3 && step.inputs[2] >= 0; }

void checkAxisStep(const Step& step, const Plan& plan, const ValueSlot& quantized, const ValueSlot& real) {
  requireInts(step, 3);
  const size_t count = productParam(step, 0, 3), channels = sizeParam(step, 1);
  requireCount(step, quantized, count, "quantized value");
  requireCount(step, real, count, "float value");
  requireDType(step, real, DType::Float32, "float value");
  const ValueSlot& scale = valueOf(step, plan, step.inputs[1], "scale");
  requireDType(step, scale, DType::Float32, "scale");
  requireCount(step, scale, channels, "scale");
  if (hasZeroPoint(step)) {
    const ValueSlot& zp = valueOf(step, plan, step.inputs[2], "zero point");
    requireDType(step, zp, quantized.dtype, "zero point");
    requireCount(step, zp, channels, "zero point");
  }
}

std::vector<int32_t> zeroPoints(const Step& step, RunState& state, DType type, size_t channels) {
  std::vector<int32_t> out(channels, 0);
  if (!hasZeroPoint(step)) return out;
  const void* zp = state.at<void>(step.inputs[2]);
  for (size_t c = 0; c < channels; ++c) {
    switch (type) {
      case DType::Uint8: out[c] = static_cast<const uint8_t*>(zp)[c]; break;
      case DType::Int8: out[c] = static_cast<const int8_t*>(zp)[c]; break;
      default: out[c] = static_cast<const int32_t*>(zp)[c]; break;
    }
  }
  return out;
}

void checkQuantize(const Step& step, const Plan& plan) {
  requireArity(step, 2, 3, 1);
  const ValueSlot& x = valueOf(step, plan, step.inputs[0], "x");
  const ValueSlot& y = valueOf(step, plan, step.outputs[0], "y");
  if (y.dtype != DType::Uint8 && y.dtype != DType::Int8) planError(step, "y must be uint8 or int8");
  checkAxisStep(step, plan, y, x);
}

void runQuantize(const Step& step, RunState& state) {
  const quant::AxisLayout l = axisLayout(step);
  const ValueSlot& y = state.plan.values[static_cast<size_t>(step.outputs[0])];
  std::vector<int32_t> zp = zeroPoints(step, state, y.dtype, l.channels);
  quant::quantize(state.at<float>(step.inputs[0]), l, state.at<float>(step.inputs[1]), zp.data(),
                  y.dtype == DType::Uint8 ? quant::QuantType::Uint8 : quant::QuantType::Int8, state.at<uint8_t>(step.outputs[0]));
}

void checkDequantize(const Step& step, const Plan& plan) {
  requireArity(step, 2, 3, 1);
  const ValueSlot& q = valueOf(step, plan, step.inputs[0], "x");
  const ValueSlot& y = valueOf(step, plan, step.outputs[0], "y");
  if (q.dtype != DType::Uint8 && q.dtype != DType::Int8 && q.dtype != DType::Int32) {
    planError(step, "x must be uint8, int8 or int32");
  }
  checkAxisStep(step, plan, q, y);
}

void runDequantize(const Step& step, RunState& state) {
  const quant::AxisLayout l = axisLayout(step);
  const ValueSlot& q = state.plan.values[static_cast<size_t>(step.inputs[0])];
  std::vector<int32_t> zp = zeroPoints(step, state, q.dtype, l.channels);
  quant::QuantType type = q.dtype == DType::Uint8 ? quant::QuantType::Uint8
                          : q.dtype == DType::Int8 ? quant::QuantType::Int8
                                                   : quant::QuantType::Int32;
  quant::dequantize(state.at<void>(step.inputs[0]), type, l, state.at<float>(step.inputs[1]), zp.data(),
                    state.at<float>(step.outputs[0]));
}

// Outputs y (uint8, as x), scale (1 float), zero point (1 uint8).
void checkDynamicQuantize(const Step& step, const Plan& plan) {
  requireArity(step, 1, 1, 3);
  const ValueSlot& x = valueOf(step, plan, step.inputs[0], "x");
  requireDType(step, x, DType::Float32, "x");
  const ValueSlot& y = valueOf(step, plan, step.outputs[0], "y");
  requireDType(step, y, DType::Uint8, "y");
  requireCount(step, y, x.count, "y");
  const ValueSlot& scale = valueOf(step, plan, step.outputs[1], "scale");
  requireDType(step, scale, DType::Float32, "scale");
  requireCount(step, scale, 1, "scale");
  const ValueSlot& zp = valueOf(step, plan, step.outputs[2], "zero point");
  requireDType(step, zp, DType::Uint8, "zero point");
  requireCount(step, zp, 1, "zero point");
}

void runDynamicQuantize(const Step& step, RunState& state) {
  const ValueSlot& x = state.plan.values[static_cast<size_t>(step.inputs[0])];
  TensorQuantization q = dynamicQuantize(state.at<float>(step.inputs[0]), x.count, state.at<uint8_t>(step.outputs[0]));
  *state.at<float>(step.outputs[1]) = q.scale;
  *state.at<uint8_t>(step.outputs[2]) = q.zeroPoint;
}

}  // namespace

extern const OpKernel kQuantizeLinearKernel{checkQuantize, runQuantize};
extern const OpKernel kDequantizeLinearKernel{checkDequantize, runDequantize};
extern const OpKernel kDynamicQuantizeLinearKernel{checkDynamicQuantize, runDynamicQuantize};

}  // namespace onnxforge::engine
