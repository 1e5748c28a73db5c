#include <memory>
#include <string>

#include "args.h"
#include "guard_pages.h"
#include "int8_buffer.h"
#include "int8_gemm.h"
#include "internals.h"

namespace onnxforge::napi {
namespace {

using testing::GuardSide;

// 'tail' or 'head' (and 'off' where `allowOff`: *side is then left alone and false returned).
bool guardSideArg(Napi::Env env, Napi::Value value, const char* name, bool allowOff, GuardSide* side) {
  std::string mode = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (mode == "tail" || mode == "head") {
    *side = mode == "tail" ? GuardSide::Tail : GuardSide::Head;
    return true;
  }
  if (allowOff && mode == "off") return false;
  throwTypeError(env, std::string(name) + (allowOff ? " must be 'off', 'tail' or 'head'" : " must be 'tail' or 'head'"));
}

// setGuardMode(mode): where the kernels' own buffers (packed operands, scratch) go from now on.
Napi::Value setGuardMode(const Napi::CallbackInfo& info) {
  requireArgCount(info, 1, "setGuardMode(mode)");
  GuardSide side;
  bool guarded = guardSideArg(info.Env(), info[0], "mode", true, &side);
  int8::setBufferPlacement(guarded ? &testing::guardPlacement(side) : nullptr);
  return info.Env().Undefined();
}

// guardedArray(kind, length, placement): a zeroed typed array whose bytes end
// ('tail') or start ('head') at an inaccessible page.
Napi::Value guardedArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireArgCount(info, 3, "guardedArray(kind, length, placement)");
  std::string kind = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  size_t length = dimArg(info, 1, "length");
  GuardSide side;
  guardSideArg(env, info[2], "placement", false, &side);
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
  // The array owns its guarded memory until the GC collects it.
  struct Guarded {
    const int8::BufferPlacement* placement;
    void* token;
  };
  auto guarded = std::make_unique<Guarded>(Guarded{&testing::guardPlacement(side), nullptr});
  uint8_t* data = guarded->placement->allocate(bytes, &guarded->token);
  Napi::ArrayBuffer arrayBuffer = Napi::ArrayBuffer::New(
      env, data, bytes,
      [](Napi::Env, void*, Guarded* owned) {
        owned->placement->release(owned->token);
        delete owned;
      },
      guarded.release());
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
