#include "int8.h"

#include <cmath>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "async.h"
#include "cuda.h"
#include "int8_gemm.h"
#include "packed_handle.h"

namespace onnxforge::napi {
namespace {

using int8::PackedActivations;
using int8::PackedWeights;

// Per-environment state, handed to every binding as its data pointer.
struct Int8Bindings {
  Napi::FunctionReference packedInt8;
};

class PackedInt8 : public PackedHandle<PackedInt8, PackedWeights> {
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

  explicit PackedInt8(const Napi::CallbackInfo& info) : PackedHandle(info) {
    // Kept after dispose(), like the device.
    k_ = weights()->k;
    n_ = weights()->n;
  }

 private:
  Napi::Value k(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(k_)); }
  Napi::Value n(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(n_)); }
  Napi::Value isa(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), isaName(weights() ? weights()->isa : int8::int8Isa()));
  }
  Napi::Value hasScales(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), weights() && !weights()->scale.empty());
  }

  size_t k_ = 0, n_ = 0;
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
  bool onGpu = wantsCuda(env, opts);
  int8::WeightOptions options;
  Napi::Value scales = opts.Get("scales");
  if (!scales.IsUndefined()) {
    options.scales = typedDataArg<float>(env, scales, "opts.scales", napi_float32_array, SIZE_MAX, &options.scaleCount);
    if (options.scaleCount != 1 && options.scaleCount != n) {
      throwRangeError(env, "opts.scales must have 1 (per tensor) or n = " + std::to_string(n) +
                               " (per column) values, got " + std::to_string(options.scaleCount));
    }
    for (size_t i = 0; i < options.scaleCount; ++i) {
      if (!std::isfinite(options.scales[i])) throwRangeError(env, "opts.scales must be finite");
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
  if (onGpu) {
    // The GPU holds the weights; the handle keeps their shape and scales.
    auto shape = std::make_unique<PackedWeights>();
    shape->isa = int8::int8Isa();
    shape->k = k;
    shape->n = n;
    shape->perColumnScale = options.scaleCount > 1;
    for (size_t j = 0; j < n && options.scaleCount; ++j) {
      shape->scale.push_back(options.scales[options.scaleCount == 1 ? 0 : j]);
    }
    auto gpu = withAllocation(env, "the packed weights", [&] {
      return cudaCall(env, [&] {
        return cuda::uploadInt8(b, k, n, options.zeroPoints, options.zeroPointCount, options.scales, options.scaleCount);
      });
    });
    return PackedInt8::create(bindingsOf(info).packedInt8, std::move(shape), std::move(gpu));
  }
  auto weights = withAllocation(env, "the packed weights", [&] { return int8::packWeights(b, k, n, options); });
  return PackedInt8::create(bindingsOf(info).packedInt8, std::move(weights));
}

// One product, checked and with A packed (or x quantized): ready for a kernel.
struct PreparedGemm {
  std::shared_ptr<const PackedWeights> w;
  PackedActivations a;
  // Weights on the GPU: copies of the inputs instead of packed A.
  std::shared_ptr<const cuda::Weights> gpu;
  std::vector<uint8_t> input;  // A's bytes, or x's floats
  std::vector<uint8_t> inputZeroPoints;
  bool isSigned = false;
  size_t m = 0;
  size_t outputCount = 0;
  Napi::TypedArray output;  // allocated before A is packed: an impossible size fails cheaply
  void* outputData = nullptr;
  bool isFloat = false;
  std::vector<float> bias;
  bool hasBias = false;
};

const uint8_t* dataOf(const Napi::TypedArray& array) {
  return static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
}

// Checks m, k, w and the length of the first argument and allocates the output;
// returns the first argument.
Napi::TypedArray checkOperands(const Napi::CallbackInfo& info, const char* signature, const char* name,
                               std::initializer_list<napi_typedarray_type> kinds, PreparedGemm& out,
                               size_t* m, size_t* k) {
  Napi::Env env = info.Env();
  requireArgCount(info, 4, signature);
  Napi::TypedArray a = typedArrayArg(env, info[0], name, kinds);
  *m = dimArg(info, 1, "m");
  *k = dimArg(info, 2, "k");
  requireLength(env, a, checkedProduct(env, {*m, *k}, "m * k"), name);
  out.w = PackedInt8::weightsArg(env, info[3], "w", &out.gpu);
  out.m = *m;
  if (out.w->k != *k) {
    throwRangeError(env, "k (" + std::to_string(*k) + ") does not match w.k (" + std::to_string(out.w->k) + ")");
  }
  out.outputCount = checkedProduct(env, {*m, out.w->n}, "m * n");
  out.output = out.isFloat ? Napi::TypedArray(Napi::Float32Array::New(env, out.outputCount))
                           : Napi::TypedArray(Napi::Int32Array::New(env, out.outputCount));
  out.outputData = const_cast<uint8_t*>(dataOf(out.output));
  return a;
}

// matmulInteger(a, m, k, w, aZeroPoint?)
PreparedGemm prepareMatmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PreparedGemm prepared;
  size_t m, k;
  Napi::TypedArray a = checkOperands(info, "matmulInteger(a, m, k, w, aZeroPoint?)", "a",
                                     {napi_uint8_array, napi_int8_array}, prepared, &m, &k);
  bool isSigned = a.TypedArrayType() == napi_int8_array;
  int64_t lo = isSigned ? -128 : 0, hi = isSigned ? 127 : 255;
  // A number, or one value per row (ONNX allows a per-row a_zero_point) of A's type.
  uint8_t scalarZeroPoint = 0;
  const void* zeroPoints = nullptr;
  size_t zeroPointCount = 0;
  Napi::Value zp = info[4];
  if (zp.IsNumber()) {
    scalarZeroPoint = static_cast<uint8_t>(intArg(env, zp, "aZeroPoint", lo, hi));
    zeroPoints = &scalarZeroPoint;
    zeroPointCount = 1;
  } else if (zp.IsTypedArray()) {
    Napi::TypedArray zpArray = typedArrayArg(env, zp, "aZeroPoint", {a.TypedArrayType()});
    zeroPointCount = zpArray.ElementLength();
    if (zeroPointCount != 1 && zeroPointCount != m) {
      throwRangeError(env, "aZeroPoint must have 1 or m = " + std::to_string(m) + " values, got " +
                               std::to_string(zeroPointCount));
    }
    zeroPoints = dataOf(zpArray);
  } else if (!zp.IsUndefined()) {
    throwTypeError(env, std::string("aZeroPoint must be a number or a ") + typedArrayKindName(a.TypedArrayType()));
  }
  if (prepared.outputCount == 0) return prepared;
  if (prepared.gpu) {
    withAllocation(env, "copies of the inputs", [&] {
      const uint8_t* bytes = dataOf(a);
      prepared.input.assign(bytes, bytes + m * k);
      const auto* zpBytes = static_cast<const uint8_t*>(zeroPoints);
      prepared.inputZeroPoints.assign(zpBytes, zpBytes + zeroPointCount);
    });
    prepared.isSigned = isSigned;
    return prepared;
  }
  prepared.a = withAllocation(env, "the packed activations", [&] {
    return int8::packActivations(dataOf(a), isSigned, m, k, zeroPoints, zeroPointCount, *prepared.w);
  });
  return prepared;
}

// linearInt8(x, m, k, w, bias?)
PreparedGemm prepareLinear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PreparedGemm prepared;
  prepared.isFloat = true;
  size_t m, k;
  Napi::TypedArray x = checkOperands(info, "linearInt8(x, m, k, w, bias?)", "x", {napi_float32_array}, prepared, &m, &k);
  if (prepared.w->scale.empty()) {
    throwTypeError(env, "w was packed without scales; linearInt8 needs packInt8Weights(b, k, n, { scales })");
  }
  if (!info[4].IsUndefined() && !info[4].IsNull()) {
    const float* bias = typedDataArg<float>(env, info[4], "bias", napi_float32_array, prepared.w->n);
    prepared.bias.assign(bias, bias + prepared.w->n);
    prepared.hasBias = true;
  }
  if (prepared.outputCount == 0) return prepared;
  if (prepared.gpu) {
    withAllocation(env, "a copy of x", [&] {
      const uint8_t* bytes = dataOf(x);
      prepared.input.assign(bytes, bytes + m * k * sizeof(float));
    });
    return prepared;
  }
  prepared.a = withAllocation(env, "the quantized activations", [&] {
    return int8::quantizeActivations(reinterpret_cast<const float*>(dataOf(x)), m, k, *prepared.w);
  });
  return prepared;
}

void runPrepared(const PreparedGemm& p) {
  if (p.outputCount == 0) return;
  if (p.gpu && p.isFloat) {
    cuda::linearInt8(*p.gpu, reinterpret_cast<const float*>(p.input.data()), p.m,
                     p.hasBias ? p.bias.data() : nullptr, static_cast<float*>(p.outputData));
  } else if (p.gpu) {
    cuda::matmulInteger(*p.gpu, p.input.data(), p.isSigned, p.m, p.inputZeroPoints.data(), p.inputZeroPoints.size(),
                        static_cast<int32_t*>(p.outputData));
  } else if (p.isFloat) {
    int8::gemmFloat(p.a, *p.w, p.hasBias ? p.bias.data() : nullptr, static_cast<float*>(p.outputData));
  } else {
    int8::gemmInt32(p.a, *p.w, static_cast<int32_t*>(p.outputData));
  }
}

Napi::Value matmulInteger(const Napi::CallbackInfo& info) {
  PreparedGemm prepared = prepareMatmul(info);
  cudaCall(info.Env(), [&] { runPrepared(prepared); });
  return prepared.output;
}

Napi::Value linearInt8(const Napi::CallbackInfo& info) {
  PreparedGemm prepared = prepareLinear(info);
  cudaCall(info.Env(), [&] { runPrepared(prepared); });
  return prepared.output;
}

// The worker reads only its own copies (packed A, bias) and a shared reference to
// the weights, so neither GC, dispose() nor a detached input can pull memory from under it.
Napi::Value queueGemm(Napi::Env env, const char* name, PreparedGemm prepared) {
  Napi::Value output = prepared.output;
  auto shared = std::make_shared<PreparedGemm>(std::move(prepared));
  return OutputWorker::start(env, name, output, [shared] { runPrepared(*shared); });
}

Napi::Value matmulIntegerAsync(const Napi::CallbackInfo& info) {
  return asyncCall(info, [&] { return queueGemm(info.Env(), "onnxforge.matmulIntegerAsync", prepareMatmul(info)); });
}

Napi::Value linearInt8Async(const Napi::CallbackInfo& info) {
  return asyncCall(info, [&] { return queueGemm(info.Env(), "onnxforge.linearInt8Async", prepareLinear(info)); });
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
