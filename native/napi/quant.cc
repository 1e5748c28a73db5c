#include "quant.h"

#include <cmath>
#include <string>
#include <vector>

#include "args.h"
#include "backend.h"

namespace onnxforge::napi {
namespace {

using quant::AxisLayout;
using quant::QuantType;

// Host arrays in and out, no device option: the CPU backend.
const Backend& host() { return cpuBackend(); }

// The tensor layout from opts.axis and opts.shape: per tensor without an axis.
AxisLayout layoutArg(Napi::Env env, const Napi::Object& opts, size_t count, size_t* channelsOut) {
  AxisLayout layout;
  Napi::Value axisValue = opts.Get("axis");
  Napi::Value shapeValue = opts.Get("shape");
  if (axisValue.IsUndefined()) {
    if (!shapeValue.IsUndefined() && !shapeValue.IsArray()) throwTypeError(env, "opts.shape must be an array");
    layout.inner = count;
    *channelsOut = 1;
    return layout;
  }
  if (!shapeValue.IsArray()) throwTypeError(env, "opts.shape (an array of dims) is required with opts.axis");
  Napi::Array shape = shapeValue.As<Napi::Array>();
  std::vector<size_t> dims(shape.Length());
  size_t product = 1;
  for (uint32_t i = 0; i < shape.Length(); ++i) {
    std::string name = "opts.shape[" + std::to_string(i) + "]";
    dims[i] = dimArg(env, shape.Get(i), name.c_str());
    product = checkedProduct(env, {product, dims[i]}, "opts.shape");
  }
  if (product != count) {
    throwRangeError(env, "opts.shape has " + std::to_string(product) + " elements but the data has " +
                             std::to_string(count));
  }
  int64_t rank = static_cast<int64_t>(dims.size());
  if (rank == 0) throwRangeError(env, "opts.axis needs a shape of rank 1 or more");
  int64_t axis = intArg(env, axisValue, "opts.axis", -rank, rank - 1);
  if (axis < 0) axis += rank;
  layout.outer = 1;
  layout.inner = 1;
  for (int64_t i = 0; i < axis; ++i) layout.outer *= dims[i];
  layout.channels = dims[axis];
  for (int64_t i = axis + 1; i < rank; ++i) layout.inner *= dims[i];
  *channelsOut = layout.channels;
  return layout;
}

// opts.scale: a positive finite number, or a Float32Array of `channels` of them.
std::vector<float> scalesArg(Napi::Env env, const Napi::Object& opts, size_t channels) {
  Napi::Value value = opts.Get("scale");
  std::vector<float> scales;
  if (value.IsNumber()) {
    scales.assign(1, static_cast<float>(numberArg(env, value, "opts.scale")));
  } else if (value.IsTypedArray()) {
    size_t length = 0;
    const float* data = typedDataArg<float>(env, value, "opts.scale", napi_float32_array, SIZE_MAX, &length);
    scales.assign(data, data + length);
  } else {
    throwTypeError(env, "opts.scale must be a number or a Float32Array");
  }
  if (scales.size() != 1 && scales.size() != channels) {
    throwRangeError(env, "opts.scale has " + std::to_string(scales.size()) + " values, expected 1 or " +
                             std::to_string(channels) + " (one per channel of opts.axis)");
  }
  for (float s : scales) {
    if (!(s > 0.0f) || !std::isfinite(s)) throwRangeError(env, "opts.scale values must be positive and finite");
  }
  if (scales.size() == 1) scales.assign(channels, scales[0]);
  return scales;
}

std::pair<int64_t, int64_t> rangeOf(QuantType type) {
  switch (type) {
    case QuantType::Uint8: return {0, 255};
    case QuantType::Int8: return {-128, 127};
    case QuantType::Int32: break;
  }
  return {0, 0};  // int32 data has zero point 0 (ONNX DequantizeLinear)
}

const char* typeName(QuantType type) {
  switch (type) {
    case QuantType::Uint8: return "uint8";
    case QuantType::Int8: return "int8";
    case QuantType::Int32: break;
  }
  return "int32";
}

napi_typedarray_type arrayKind(QuantType type) {
  switch (type) {
    case QuantType::Uint8: return napi_uint8_array;
    case QuantType::Int8: return napi_int8_array;
    case QuantType::Int32: break;
  }
  return napi_int32_array;
}

// opts.zeroPoint: a number in the type's range, or a typed array of that type
// with 1 or `channels` values; absent means 0.
std::vector<int32_t> zeroPointsArg(Napi::Env env, const Napi::Object& opts, QuantType type, size_t channels) {
  Napi::Value value = opts.Get("zeroPoint");
  auto [lo, hi] = rangeOf(type);
  std::vector<int32_t> zeroPoints;
  if (value.IsUndefined()) {
    zeroPoints.assign(1, 0);
  } else if (value.IsNumber()) {
    zeroPoints.assign(1, static_cast<int32_t>(intArg(env, value, "opts.zeroPoint", lo, hi)));
  } else if (value.IsTypedArray() && type != QuantType::Int32) {
    Napi::TypedArray array = typedArrayArg(env, value, "opts.zeroPoint", {arrayKind(type)});
    const auto* bytes = static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
    for (size_t i = 0; i < array.ElementLength(); ++i) {
      zeroPoints.push_back(type == QuantType::Int8 ? static_cast<int8_t>(bytes[i]) : bytes[i]);
    }
  } else {
    throwTypeError(env, std::string("opts.zeroPoint must be a number") +
                            (type == QuantType::Int32 ? "" : std::string(" or a ") + typedArrayKindName(arrayKind(type))));
  }
  if (zeroPoints.size() != 1 && zeroPoints.size() != channels) {
    throwRangeError(env, "opts.zeroPoint has " + std::to_string(zeroPoints.size()) + " values, expected 1 or " +
                             std::to_string(channels));
  }
  if (zeroPoints.size() == 1) zeroPoints.assign(channels, zeroPoints[0]);
  return zeroPoints;
}

// opts.dtype: 'uint8' or 'int8'; `fallback` when absent.
QuantType dtypeArg(Napi::Env env, const Napi::Object& opts, QuantType fallback) {
  Napi::Value value = opts.Get("dtype");
  if (value.IsUndefined()) return fallback;
  std::string name = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (name == "uint8") return QuantType::Uint8;
  if (name == "int8") return QuantType::Int8;
  throwTypeError(env, "opts.dtype must be 'uint8' or 'int8'");
}

const uint8_t* bytesOf(const Napi::TypedArray& array) {
  return static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
}

// quantize(x, { scale, zeroPoint?, dtype?, axis?, shape? })
Napi::Value quantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireArgCount(info, 2, "quantize(x, { scale, zeroPoint?, dtype?, axis?, shape? })");
  size_t count = 0;
  const float* x = typedDataArg<float>(env, info[0], "x", napi_float32_array, SIZE_MAX, &count);
  Napi::Object opts = optionsArg(env, info[1], "opts");
  requireKnownOptions(env, opts, "opts", {"scale", "zeroPoint", "dtype", "axis", "shape"});
  // A typed zero point decides the type, as y_zero_point does in ONNX.
  Napi::Value zp = opts.Get("zeroPoint");
  QuantType fromZeroPoint = zp.IsTypedArray() && zp.As<Napi::TypedArray>().TypedArrayType() == napi_int8_array
                                ? QuantType::Int8
                                : QuantType::Uint8;
  QuantType type = dtypeArg(env, opts, fromZeroPoint);
  size_t channels;
  AxisLayout layout = layoutArg(env, opts, count, &channels);
  std::vector<float> scales = scalesArg(env, opts, channels);
  std::vector<int32_t> zeroPoints = zeroPointsArg(env, opts, type, channels);
  requireUnchanged(env, info[0], "x", x, count);
  Napi::TypedArray out = type == QuantType::Int8 ? Napi::TypedArray(Napi::Int8Array::New(env, count))
                                                 : Napi::TypedArray(Napi::Uint8Array::New(env, count));
  host().quantize(x, layout, scales.data(), zeroPoints.data(), type, const_cast<uint8_t*>(bytesOf(out)));
  return out;
}

// dequantize(q, { scale, zeroPoint?, axis?, shape? })
Napi::Value dequantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireArgCount(info, 2, "dequantize(q, { scale, zeroPoint?, axis?, shape? })");
  Napi::TypedArray q = typedArrayArg(env, info[0], "q", {napi_uint8_array, napi_int8_array, napi_int32_array});
  QuantType type = q.TypedArrayType() == napi_uint8_array  ? QuantType::Uint8
                   : q.TypedArrayType() == napi_int8_array ? QuantType::Int8
                                                           : QuantType::Int32;
  Napi::Object opts = optionsArg(env, info[1], "opts");
  requireKnownOptions(env, opts, "opts", {"scale", "zeroPoint", "axis", "shape"});
  size_t count = q.ElementLength(), channels;
  AxisLayout layout = layoutArg(env, opts, count, &channels);
  std::vector<float> scales = scalesArg(env, opts, channels);
  std::vector<int32_t> zeroPoints = zeroPointsArg(env, opts, type, channels);
  requireUnchanged(env, info[0], "q", bytesOf(q), count);
  Napi::Float32Array out = Napi::Float32Array::New(env, count);
  host().dequantize(bytesOf(q), type, layout, scales.data(), zeroPoints.data(), out.Data());
  return out;
}

// quantParams(x, { symmetric?, dtype?, axis?, shape? }) -> { scale, zeroPoint }
Napi::Value quantParams(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireArgCount(info, 1, "quantParams(x, { symmetric?, dtype?, axis?, shape? })");
  size_t count = 0;
  const float* x = typedDataArg<float>(env, info[0], "x", napi_float32_array, SIZE_MAX, &count);
  Napi::Object opts = optionsArg(env, info[1], "opts");
  requireKnownOptions(env, opts, "opts", {"symmetric", "dtype", "axis", "shape"});
  Napi::Value symmetricValue = opts.Get("symmetric");
  if (!symmetricValue.IsUndefined() && !symmetricValue.IsBoolean()) {
    throwTypeError(env, "opts.symmetric must be a boolean");
  }
  bool symmetric = symmetricValue.IsBoolean() && symmetricValue.As<Napi::Boolean>().Value();
  QuantType type = dtypeArg(env, opts, QuantType::Uint8);
  size_t channels;
  AxisLayout layout = layoutArg(env, opts, count, &channels);
  std::vector<float> scales(channels);
  std::vector<int32_t> zeroPoints(channels);
  requireUnchanged(env, info[0], "x", x, count);
  size_t bad = host().quantParams(x, layout, symmetric, type, scales.data(), zeroPoints.data());
  if (bad != channels) {
    throwRangeError(env, "x cannot be quantized: the range of " +
                             (channels == 1 ? std::string("its values") : "channel " + std::to_string(bad)) +
                             " is not finite (it holds Infinity, or spans more than float32 holds)");
  }
  Napi::Float32Array scaleOut = Napi::Float32Array::New(env, channels);
  Napi::TypedArray zpOut = type == QuantType::Int8 ? Napi::TypedArray(Napi::Int8Array::New(env, channels))
                                                   : Napi::TypedArray(Napi::Uint8Array::New(env, channels));
  auto* zpBytes = const_cast<uint8_t*>(bytesOf(zpOut));
  for (size_t c = 0; c < channels; ++c) {
    scaleOut[c] = scales[c];
    zpBytes[c] = static_cast<uint8_t>(zeroPoints[c]);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("scale", scaleOut);
  result.Set("zeroPoint", zpOut);
  result.Set("dtype", typeName(type));
  return result;
}

}  // namespace

void registerQuantize(Napi::Env env, Napi::Object exports) {
  exports.Set("quantize", Napi::Function::New(env, quantize, "quantize"));
  exports.Set("dequantize", Napi::Function::New(env, dequantize, "dequantize"));
  exports.Set("quantParams", Napi::Function::New(env, quantParams, "quantParams"));
}

}  // namespace onnxforge::napi
