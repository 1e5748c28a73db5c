#include "int8.h"

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "async.h"
#include "backend.h"
#include "device.h"
#include "input.h"
#include "packed_handle.h"

namespace onnxforge::napi {
namespace {

// Per-environment state, handed to every binding as its data pointer.
struct Int8Bindings {
  Napi::FunctionReference packedInt8;
};

class PackedInt8 : public PackedHandle<PackedInt8, Int8Weights> {
 public:
  // Marks objects made by PackedInt8, so a look-alike object is never unwrapped.
  static constexpr napi_type_tag kTag = {0x6f6e6e78666f7267ULL, 0x7061636b6564693bULL};
  static constexpr const char* kClassName = "PackedInt8";
  static constexpr const char* kFactory = "packInt8Weights";

  static Napi::Function define(Napi::Env env) {
    std::vector<Property> properties = commonProperties();
    for (auto [name, getter] : {std::pair<const char*, Getter>{"k", &PackedInt8::k},
                                {"n", &PackedInt8::n},
                                {"isa", &PackedInt8::isa},
                                {"hasScales", &PackedInt8::hasScales}}) {
      properties.push_back(InstanceAccessor(name, getter, nullptr));
    }
    return DefineClass(env, kClassName, properties);
  }

  explicit PackedInt8(const Napi::CallbackInfo& info)
      // Kept after dispose(), like the device.
      : PackedHandle(info), k_(weights()->k), n_(weights()->n), isa_(weights()->isa) {}

 private:
  Napi::Value k(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(k_)); }
  Napi::Value n(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(n_)); }
  Napi::Value isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), isaName(isa_)); }
  Napi::Value hasScales(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), weights() && weights()->hasScales);
  }

  size_t k_, n_;
  IsaLevel isa_;
};

Int8Bindings& bindingsOf(const Napi::CallbackInfo& info) { return *static_cast<Int8Bindings*>(info.Data()); }

// packInt8Weights(b, k, n, opts?)
Napi::Value packInt8Weights(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireArgCount(info, 3, "packInt8Weights(b, k, n, opts?)");
  size_t k = dimArg(info, 1, "k");
  size_t n = dimArg(info, 2, "n");
  size_t count = checkedProduct(env, {k, n}, "k * n");
  const int8_t* b = typedDataArg<int8_t>(env, info[0], "b", napi_int8_array, count);
  Napi::Object opts = optionsArg(env, info[3], "opts");
  requireKnownOptions(env, opts, "opts", {"scales", "zeroPoints", "device"});
  const Backend& backend = backendArg(env, opts);
  int8::WeightOptions options;
  Napi::Value scales = opts.Get("scales");
  if (!scales.IsUndefined()) {
    options.scales = typedDataArg<float>(env, scales, "opts.scales", napi_float32_array, SIZE_MAX, &options.scaleCount);
    if (options.scaleCount != 1 && options.scaleCount != n) {
      throwRangeError(env, "opts.scales must have 1 (per tensor) or n = " + std::to_string(n) +
                               " (per column) values, got " + std::to_string(options.scaleCount));
    }
    for (size_t i = 0; i < options.scaleCount; ++i) {
      // A zero, negative or non-finite scale would make every product meaningless, or its inverse infinite.
      if (!(options.scales[i] > 0.0f) || !std::isfinite(options.scales[i])) {
        throwRangeError(env, "opts.scales must be positive and finite");
      }
    }
  }
  Napi::Value zeroPoints = opts.Get("zeroPoints");
  if (!zeroPoints.IsUndefined()) {
    options.zeroPoints = typedDataArg<int8_t>(env, zeroPoints, "opts.zeroPoints", napi_int8_array, SIZE_MAX,
                                              &options.zeroPointCount);
    if (options.zeroPointCount != 1 && options.zeroPointCount != n) {
      throwRangeError(env, "opts.zeroPoints must have 1 (per tensor) or n = " + std::to_string(n) +
                               " (per column) values, got " + std::to_string(options.zeroPointCount));
    }
  }
  // The packed copy pads k to 64 and n to 64 at most.
  checkedProduct(env, {k + 64, n + 64, 2}, "packed k * n");
  requireUnchanged(env, info[0], "b", b, count);
  if (options.scales) requireUnchanged(env, scales, "opts.scales", options.scales, options.scaleCount);
  if (options.zeroPoints) requireUnchanged(env, zeroPoints, "opts.zeroPoints", options.zeroPoints, options.zeroPointCount);
  auto weights = withAllocation(env, "the packed weights", [&] {
    return backendCall(env, [&] { return backend.packInt8(b, k, n, options); });
  });
  return PackedInt8::create(bindingsOf(info).packedInt8, std::move(weights));
}

// One checked product: its inputs (views, or copies for async calls), a share of the
// weights, and the output allocated on the JS thread.
struct Int8Call {
  std::shared_ptr<const Int8Weights> w;
  Input input;  // A's bytes, or x's floats
  Input zeroPoints;  // matmulInteger: A's zero points, 0, 1 or m of them
  size_t zeroPointCount = 0;
  Input bias;
  bool isSigned = false;
  bool isFloat = false;
  size_t m = 0;
  size_t outputCount = 0;
  Napi::TypedArray output;
  void* outputData = nullptr;
};

const uint8_t* dataOf(const Napi::TypedArray& array) {
  return static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
}

// Checks m, k, w and the first argument (m x k `elementBytes`-byte values), keeps the
// first argument as call.input and allocates the output; returns the first argument.
Napi::TypedArray checkOperands(const Napi::CallbackInfo& info, const char* signature, const char* name,
                               std::initializer_list<napi_typedarray_type> kinds, size_t elementBytes, bool copy,
                               Int8Call& call) {
  Napi::Env env = info.Env();
  requireArgCount(info, 4, signature);
  Napi::TypedArray first = typedArrayArg(env, info[0], name, kinds);
  call.m = dimArg(info, 1, "m");
  size_t k = dimArg(info, 2, "k");
  size_t count = checkedProduct(env, {call.m, k}, "m * k");
  requireLength(env, first, count, name);
  call.w = PackedInt8::weightsArg(env, info[3], "w");
  if (call.w->k != k) {
    throwRangeError(env, "k (" + std::to_string(k) + ") does not match w.k (" + std::to_string(call.w->k) + ")");
  }
  call.outputCount = checkedProduct(env, {call.m, call.w->n}, "m * n");
  call.output = call.isFloat ? Napi::TypedArray(Napi::Float32Array::New(env, call.outputCount))
                             : Napi::TypedArray(Napi::Int32Array::New(env, call.outputCount));
  call.outputData = const_cast<uint8_t*>(dataOf(call.output));
  withAllocation(env, "a copy of the input", [&] { call.input = Input(dataOf(first), count * elementBytes, copy); });
  return first;
}

// matmulInteger(a, m, k, w, aZeroPoint?)
Int8Call prepareMatmul(const Napi::CallbackInfo& info, bool copy) {
  Napi::Env env = info.Env();
  Int8Call call;
  Napi::TypedArray a = checkOperands(info, "matmulInteger(a, m, k, w, aZeroPoint?)", "a",
                                     {napi_uint8_array, napi_int8_array}, 1, copy, call);
  call.isSigned = a.TypedArrayType() == napi_int8_array;
  int64_t lo = call.isSigned ? -128 : 0, hi = call.isSigned ? 127 : 255;
  // A number, or one value per row (ONNX allows a per-row a_zero_point) of A's type; always
  // copied (1 or m bytes).
  Napi::Value zp = info[4];
  if (zp.IsNumber()) {
    uint8_t value = static_cast<uint8_t>(intArg(env, zp, "aZeroPoint", lo, hi));
    call.zeroPoints = Input(&value, 1, true);
    call.zeroPointCount = 1;
  } else if (zp.IsTypedArray()) {
    Napi::TypedArray zpArray = typedArrayArg(env, zp, "aZeroPoint", {a.TypedArrayType()});
    call.zeroPointCount = zpArray.ElementLength();
    if (call.zeroPointCount != 1 && call.zeroPointCount != call.m) {
      throwRangeError(env, "aZeroPoint must have 1 or m = " + std::to_string(call.m) + " values, got " +
                               std::to_string(call.zeroPointCount));
    }
    call.zeroPoints = Input(dataOf(zpArray), call.zeroPointCount, true);
  } else if (!zp.IsUndefined()) {
    throwTypeError(env, std::string("aZeroPoint must be a number or a ") + typedArrayKindName(a.TypedArrayType()));
  }
  return call;
}

// linearInt8(x, m, k, w, bias?)
Int8Call prepareLinear(const Napi::CallbackInfo& info, bool copy) {
  Napi::Env env = info.Env();
  Int8Call call;
  call.isFloat = true;
  checkOperands(info, "linearInt8(x, m, k, w, bias?)", "x", {napi_float32_array}, sizeof(float), copy, call);
  if (!call.w->hasScales) {
    throwTypeError(env, "w was packed without scales; linearInt8 needs packInt8Weights(b, k, n, { scales })");
  }
  if (!info[4].IsUndefined() && !info[4].IsNull()) {
    const float* bias = typedDataArg<float>(env, info[4], "bias", napi_float32_array, call.w->n);
    withAllocation(env, "a copy of bias", [&] { call.bias = Input(bias, call.w->n * sizeof(float), copy); });
  }
  return call;
}

void runCall(const Int8Call& call) {
  if (call.outputCount == 0) return;
  const Int8Weights& w = *call.w;
  if (call.isFloat) {
    w.backend.linearInt8(w, call.input.as<float>(), call.m, call.bias.as<float>(), static_cast<float*>(call.outputData));
  } else {
    w.backend.matmulInteger(w, call.input.as<uint8_t>(), call.isSigned, call.m, call.zeroPoints.as<void>(),
                            call.zeroPointCount, static_cast<int32_t*>(call.outputData));
  }
}

Napi::Value runSync(Napi::Env env, const Int8Call& call) {
  withAllocation(env, "the product's buffers", [&] { backendCall(env, [&] { runCall(call); }); });
  return call.output;
}

// The worker reads only the call's own copies and a shared reference to the weights.
Napi::Value queueCall(Napi::Env env, const char* name, Int8Call call) {
  Napi::Value output = call.output;
  auto shared = std::make_shared<Int8Call>(std::move(call));
  return OutputWorker::start(env, name, output, [shared] { runCall(*shared); });
}

Napi::Value matmulInteger(const Napi::CallbackInfo& info) { return runSync(info.Env(), prepareMatmul(info, false)); }

Napi::Value linearInt8(const Napi::CallbackInfo& info) { return runSync(info.Env(), prepareLinear(info, false)); }

Napi::Value matmulIntegerAsync(const Napi::CallbackInfo& info) {
  return asyncCall(info, [&] { return queueCall(info.Env(), "onnxforge.matmulIntegerAsync", prepareMatmul(info, true)); });
}

Napi::Value linearInt8Async(const Napi::CallbackInfo& info) {
  return asyncCall(info, [&] { return queueCall(info.Env(), "onnxforge.linearInt8Async", prepareLinear(info, true)); });
}

}  // namespace

void registerInt8(Napi::Env env, Napi::Object exports) {
  auto* bindings = new Int8Bindings();
  env.AddCleanupHook([bindings] { delete bindings; });
  Napi::Function packedInt8 = PackedInt8::define(env);
  bindings->packedInt8 = Napi::Persistent(packedInt8);
  exports.Set("PackedInt8", packedInt8);
  exports.Set("packInt8Weights", Napi::Function::New(env, packInt8Weights, "packInt8Weights", bindings));
  exports.Set("matmulInteger", Napi::Function::New(env, matmulInteger, "matmulInteger"));
  exports.Set("matmulIntegerAsync", Napi::Function::New(env, matmulIntegerAsync, "matmulIntegerAsync"));
  exports.Set("linearInt8", Napi::Function::New(env, linearInt8, "linearInt8"));
  exports.Set("linearInt8Async", Napi::Function::New(env, linearInt8Async, "linearInt8Async"));
}

}  // namespace onnxforge::napi
