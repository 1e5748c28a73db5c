#include "int8_testing.h"

#include <string>

#include "args.h"
#include "int8_buffer.h"
#include "int8_gemm.h"

namespace onnxforge::napi {
namespace {

using int8::ByteBuffer;
using int8::GuardMode;

GuardMode guardModeArg(Napi::Env env, Napi::Value value, const char* name) {
  std::string mode = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (mode == "off") return GuardMode::Off;
  if (mode == "tail") return GuardMode::GuardTail;
  if (mode == "head") return GuardMode::GuardHead;
  throwTypeError(env, std::string(name) + " must be 'off', 'tail' or 'head'");
}

// setGuardMode(mode): where the int8 kernels' own buffers (packed A and B) go from now on.
Napi::Value setGuardMode(const Napi::CallbackInfo& info) {
  requireArgCount(info, 1, "setGuardMode(mode)");
  int8::setGuardMode(guardModeArg(info.Env(), info[0], "mode"));
  return info.Env().Undefined();
}

// guardedArray(kind, length, placement): a zeroed typed array whose bytes end
// ('tail') or start ('head') at an inaccessible page.
Napi::Value guardedArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireArgCount(info, 3, "guardedArray(kind, length, placement)");
  std::string kind = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  size_t length = dimArg(info, 1, "length");
  GuardMode mode = guardModeArg(env, info[2], "placement");
  size_t elementBytes;
  napi_typedarray_type type;
  if (kind == "int8") {
    type = napi_int8_array, elementBytes = 1;
  } else if (kind == "uint8") {
    type = napi_uint8_array, elementBytes = 1;
  } else if (kind == "int32") {
    type = napi_int32_array, elementBytes = 4;
  } else if (kind == "float32") {
    type = napi_float32_array, elementBytes = 4;
  } else {
    throwTypeError(env, "kind must be 'int8', 'uint8', 'int32' or 'float32'");
  }
  size_t bytes = checkedProduct(env, {length, elementBytes}, "length");
  auto* buffer = new ByteBuffer(bytes, true, mode);
  Napi::ArrayBuffer arrayBuffer = Napi::ArrayBuffer::New(
      env, buffer->data(), bytes, [](Napi::Env, void*, ByteBuffer* owned) { delete owned; }, buffer);
  napi_value array;
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, type, length, arrayBuffer, 0, &array), Napi::Value());
  return Napi::Value(env, array);
}

// int8PeakOpsPerSecond(seconds): ops (2 per multiply-add) per second of the active
// ISA's inner instruction on the calling thread.
Napi::Value peakOps(const Napi::CallbackInfo& info) {
  requireArgCount(info, 1, "int8PeakOpsPerSecond(seconds)");
  double seconds = numberArg(info.Env(), info[0], "seconds");
  if (seconds <= 0 || seconds > 10) throwRangeError(info.Env(), "seconds must be in (0, 10]");
  return Napi::Number::New(info.Env(), int8::measurePeakOpsPerSecond(seconds));
}

Napi::Value isa(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), isaName(int8::int8Isa()));
}

}  // namespace

void registerInt8Internals(Napi::Env env, Napi::Object exports) {
  Napi::Object internals = Napi::Object::New(env);
  internals.Set("setGuardMode", Napi::Function::New(env, setGuardMode, "setGuardMode"));
  internals.Set("guardedArray", Napi::Function::New(env, guardedArray, "guardedArray"));
  internals.Set("peakOpsPerSecond", Napi::Function::New(env, peakOps, "peakOpsPerSecond"));
  internals.Set("isa", Napi::Function::New(env, isa, "isa"));
  exports.Set("_int8Internals", internals);
}

}  // namespace onnxforge::napi
