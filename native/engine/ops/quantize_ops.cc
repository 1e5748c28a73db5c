// QuantizeLinear, DequantizeLinear (per tensor or per axis), DynamicQuantizeLinear and
// QuantizeLookup, on the addon's quantize kernels (one rounding and saturation rule for everything).
#include <algorithm>
#include <cmath>
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

// QuantizeLookup: y = table[q(x) - qmin], q(x) being QuantizeLinear's value for one scale and zero
// point. A static QDQ model's QuantizeLinear -> DequantizeLinear pair (the table holds the dequantized
// values), or such a pair, an elementwise op and another pair (the table holds the chain's result per
// quantized value), in one pass instead of up to five. Inputs x (float32), table (float32, 256);
// ints [int8 ? 1 : 0, zero point]; floats [scale].
void checkQuantizeLookup(const Step& step, const Plan& plan) {
  requireArity(step, 2, 2, 1);
  requireInts(step, 2);
  requireFloats(step, 1);
  const bool isSigned = step.ints[0] != 0;
  const int64_t zp = step.ints[1];
  if (step.ints[0] != 0 && step.ints[0] != 1) planError(step, "the type flag must be 0 (uint8) or 1 (int8)");
  if (isSigned ? (zp < -128 || zp > 127) : (zp < 0 || zp > 255)) planError(step, "the zero point is out of the type's range");
  if (!(step.floats[0] > 0) || !std::isfinite(step.floats[0])) planError(step, "the scale must be positive and finite");
  const ValueSlot& x = valueOf(step, plan, step.inputs[0], "x");
  requireDType(step, x, DType::Float32, "x");
  const ValueSlot& table = valueOf(step, plan, step.inputs[1], "table");
  requireDType(step, table, DType::Float32, "table");
  requireCount(step, table, 256, "table");
  const ValueSlot& y = valueOf(step, plan, step.outputs[0], "y");
  requireDType(step, y, DType::Float32, "y");
  requireCount(step, y, x.count, "y");
}

void runQuantizeLookup(const Step& step, RunState& state) {
  const bool isSigned = step.ints[0] != 0;
  const int32_t zp = static_cast<int32_t>(step.ints[1]);
  const float scale = step.floats[0];
  const float* x = state.at<float>(step.inputs[0]);
  const float* table = state.at<float>(step.inputs[1]);
  float* y = state.at<float>(step.outputs[0]);
  const size_t count = state.plan.values[static_cast<size_t>(step.inputs[0])].count;
  const quant::QuantType type = isSigned ? quant::QuantType::Int8 : quant::QuantType::Uint8;
  // int8 values index from -128: their byte plus 128 (mod 256) is the table row.
  const uint8_t shift = isSigned ? 128 : 0;
  parallelRange(count, 4.0, [&](size_t i0, size_t i1) {
    constexpr size_t kChunk = 1024;
    uint8_t q[kChunk];
    for (size_t i = i0; i < i1; i += kChunk) {
      const size_t n = std::min(kChunk, i1 - i);
      quant::quantize(x + i, quant::AxisLayout{1, 1, n}, &scale, &zp, type, q);
      for (size_t j = 0; j < n; ++j) y[i + j] = table[static_cast<uint8_t>(q[j] + shift)];
    }
  });
}

}  // namespace

extern const OpKernel kQuantizeLookupKernel{checkQuantizeLookup, runQuantizeLookup};
extern const OpKernel kQuantizeLinearKernel{checkQuantize, runQuantize};
extern const OpKernel kDequantizeLinearKernel{checkDequantize, runDequantize};
extern const OpKernel kDynamicQuantizeLinearKernel{checkDynamicQuantize, runDynamicQuantize};

}  // namespace onnxforge::engine
