#include "float_gemm.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

// The kernels' header has this file's header's name.
#include "../include/float_gemm.h"
#include "args.h"
#include "async.h"
#include "packed_handle.h"

namespace onnxforge::napi {
namespace {

using fgemm::Activation;
using fgemm::PackedFloatWeights;

// Per-environment state, handed to packFloatWeights as its data pointer.
struct FloatBindings {
  Napi::FunctionReference packedFloat;
};

class PackedFloat : public PackedHandle<PackedFloat, PackedFloatWeights> {
 public:
  // Marks objects made by PackedFloat, so a look-alike object is never unwrapped.
  static constexpr napi_type_tag kTag = {0x6f6e6e78666f7267ULL, 0x7061636b6564663aULL};
  static constexpr const char* kClassName = "PackedFloat";
  static constexpr const char* kFactory = "packFloatWeights";

  static Napi::Function define(Napi::Env env) {
    std::vector<Property> properties = commonProperties();
    for (auto [name, getter] : {std::pair<const char*, Getter>{"k", &PackedFloat::k},
                                {"n", &PackedFloat::n},
                                {"isa", &PackedFloat::isa}}) {
      properties.push_back(InstanceAccessor(name, getter, nullptr));
    }
    return DefineClass(env, kClassName, properties);
  }

  explicit PackedFloat(const Napi::CallbackInfo& info) : PackedHandle(info) {
    // Kept after dispose().
    k_ = weights()->k;
    n_ = weights()->n;
    isa_ = weights()->isa;
  }

 private:
  Napi::Value k(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(k_)); }
  Napi::Value n(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(n_)); }
  Napi::Value isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), isaName(isa_)); }

  size_t k_ = 0, n_ = 0;
  IsaLevel isa_ = IsaLevel::Scalar;
};

// packFloatWeights(b, k, n, opts?)
Napi::Value packFloatWeights(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireArgCount(info, 3, "packFloatWeights(b, k, n, opts?)");
  size_t k = dimArg(info, 1, "k");
  size_t n = dimArg(info, 2, "n");
  size_t count = checkedProduct(env, {k, n}, "k * n");
  const float* b = typedDataArg<float>(env, info[0], "b", napi_float32_array, count);
  Napi::Object opts = optionsArg(env, info[3], "opts");
  requireKnownOptions(env, opts, "opts", {"transposed"});
  Napi::Value transposed = opts.Get("transposed");
  if (!transposed.IsUndefined() && !transposed.IsBoolean()) throwTypeError(env, "opts.transposed must be a boolean");
  // Panels pad n to a multiple of 32 at most.
  checkedProduct(env, {k, n + 32, sizeof(float)}, "packed k * n");
  requireUnchanged(env, info[0], "b", b, count);
  auto weights = withAllocation(env, "the packed weights", [&] {
    return fgemm::packWeights(b, k, n, transposed.IsBoolean() && transposed.As<Napi::Boolean>().Value());
  });
  auto* bindings = static_cast<FloatBindings*>(info.Data());
  return PackedFloat::create(bindings->packedFloat, std::move(weights));
}

Activation activationArg(Napi::Env env, Napi::Value value) {
  static const std::pair<const char*, Activation> kNames[] = {
      {"none", Activation::None}, {"relu", Activation::Relu}, {"gelu", Activation::Gelu},
      {"gelu_tanh", Activation::GeluTanh}, {"tanh", Activation::Tanh}, {"sigmoid", Activation::Sigmoid}};
  if (value.IsUndefined()) return Activation::None;
  if (value.IsString()) {
    std::string name = value.As<Napi::String>().Utf8Value();
    for (auto& [known, activation] : kNames) {
      if (name == known) return activation;
    }
  }
  throwTypeError(env, "opts.activation must be one of 'none', 'relu', 'gelu', 'gelu_tanh', 'tanh', 'sigmoid'");
}

// One checked linearFloat call. The sync form reads the caller's arrays in place; the
// async form owns copies of them (so that neither GC nor a detached buffer can pull
// memory from under the worker) and shares the weights (so dispose() cannot).
struct PreparedLinear {
  std::shared_ptr<const PackedFloatWeights> w;
  size_t m = 0;
  const float* x = nullptr;
  const float* bias = nullptr;
  const float* residual = nullptr;
  Activation activation = Activation::None;
  Napi::Float32Array output;
  float* y = nullptr;
  std::vector<float> owned;  // x, bias and residual, back to back, for the async form

  void run() const {
    fgemm::Epilogue epilogue;
    epilogue.bias = bias;
    epilogue.activation = activation;
    epilogue.residual = residual;
    epilogue.residualStride = w->n;
    fgemm::gemmPacked(x, m, w->k, *w, y, w->n, epilogue);
  }

  // Points x, bias and residual at copies held by this object.
  void ownInputs() {
    size_t xCount = m * w->k, biasCount = bias ? w->n : 0, residualCount = residual ? m * w->n : 0;
    owned.resize(xCount + biasCount + residualCount);
    float* at = owned.data();
    for (auto [source, count] : {std::pair<const float**, size_t>{&x, xCount}, {&bias, biasCount}, {&residual, residualCount}}) {
      if (!count) continue;
      std::copy(*source, *source + count, at);
      *source = at;
      at += count;
    }
  }
};

// linearFloat(x, m, k, w, bias?, opts?)
PreparedLinear prepareLinear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireArgCount(info, 4, "linearFloat(x, m, k, w, bias?, opts?)");
  PreparedLinear p;
  p.m = dimArg(info, 1, "m");
  size_t k = dimArg(info, 2, "k");
  p.x = typedDataArg<float>(env, info[0], "x", napi_float32_array, checkedProduct(env, {p.m, k}, "m * k"));
  p.w = PackedFloat::weightsArg(env, info[3], "w");
  if (p.w->k != k) {
    throwRangeError(env, "k (" + std::to_string(k) + ") does not match w.k (" + std::to_string(p.w->k) + ")");
  }
  if (!info[4].IsUndefined() && !info[4].IsNull()) {
    p.bias = typedDataArg<float>(env, info[4], "bias", napi_float32_array, p.w->n);
  }
  Napi::Object opts = optionsArg(env, info[5], "opts");
  requireKnownOptions(env, opts, "opts", {"activation", "residual"});
  p.activation = activationArg(env, opts.Get("activation"));
  size_t outputCount = checkedProduct(env, {p.m, p.w->n}, "m * n");
  Napi::Value residual = opts.Get("residual");
  if (!residual.IsUndefined()) {
    p.residual = typedDataArg<float>(env, residual, "opts.residual", napi_float32_array, outputCount);
  }
  // The options' getters ran after x and bias were taken.
  requireUnchanged(env, info[0], "x", p.x, p.m * k);
  if (p.bias) requireUnchanged(env, info[4], "bias", p.bias, p.w->n);
  p.output = Napi::Float32Array::New(env, outputCount);
  p.y = p.output.Data();
  return p;
}

Napi::Value linearFloat(const Napi::CallbackInfo& info) {
  PreparedLinear prepared = prepareLinear(info);
  prepared.run();
  return prepared.output;
}

Napi::Value linearFloatAsync(const Napi::CallbackInfo& info) {
  return asyncCall(info, [&] {
    Napi::Env env = info.Env();
    auto prepared = std::make_shared<PreparedLinear>(prepareLinear(info));
    withAllocation(env, "copies of the inputs", [&] { prepared->ownInputs(); });
    Napi::Value output = prepared->output;
    return OutputWorker::start(env, "onnxforge.linearFloatAsync", output, [prepared] { prepared->run(); });
  });
}

}  // namespace

void registerFloatGemm(Napi::Env env, Napi::Object exports) {
  auto* bindings = new FloatBindings();
  env.AddCleanupHook([bindings] { delete bindings; });
  Napi::Function packedFloat = PackedFloat::define(env);
  bindings->packedFloat = Napi::Persistent(packedFloat);
  exports.Set("PackedFloat", packedFloat);
  exports.Set("packFloatWeights", Napi::Function::New(env, packFloatWeights, "packFloatWeights", bindings));
  exports.Set("linearFloat", Napi::Function::New(env, linearFloat, "linearFloat"));
  exports.Set("linearFloatAsync", Napi::Function::New(env, linearFloatAsync, "linearFloatAsync"));
}

}  // namespace onnxforge::napi
