#include "sparse.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "async.h"
#include "backend.h"
#include "device.h"
#include "input.h"
#include "packed_handle.h"
#include "prune_mask.h"

namespace onnxforge::napi {
namespace {

using sparse::WeightType;

// A checked pruneMask call: its own copy of w (async calls) or a view of it.
struct PruneCall {
  Input w;
  size_t k = 0, n = 0;
  sparse::PruneSpec spec;
};

// 'N:M' patterns the kernels and pruning pass use.
bool parseNM(const std::string& pattern, size_t* keepN, size_t* groupM) {
  if (pattern == "2:4") {
    *keepN = 2;
    *groupM = 4;
    return true;
  }
  if (pattern == "4:8") {
    *keepN = 4;
    *groupM = 8;
    return true;
  }
  return false;
}

size_t blockSideArg(Napi::Env env, Napi::Array block, uint32_t index) {
  const char* name = index == 0 ? "opts.block[0]" : "opts.block[1]";
  size_t side = dimArg(env, block.Get(index), name);
  if (side == 0) throwRangeError(env, std::string(name) + " must be at least 1");
  return side;
}

// pruneMask(w, k, n, { sparsity, pattern?, block? })
PruneCall preparePrune(const Napi::CallbackInfo& info, bool copyInput) {
  Napi::Env env = info.Env();
  requireArgCount(info, 4, "pruneMask(w, k, n, { sparsity, pattern?, block? })");
  PruneCall call;
  call.k = dimArg(info, 1, "k");
  call.n = dimArg(info, 2, "n");
  size_t count = checkedProduct(env, {call.k, call.n}, "k * n");
  const float* w = typedDataArg<float>(env, info[0], "w", napi_float32_array, count);
  if (!info[3].IsObject() || info[3].IsArray() || info[3].IsTypedArray()) {
    throwTypeError(env, "opts must be an object: { sparsity, pattern?, block? }");
  }
  Napi::Object opts = info[3].As<Napi::Object>();
  requireKnownOptions(env, opts, "opts", {"sparsity", "pattern", "block"});

  std::string pattern = "unstructured";
  Napi::Value patternValue = opts.Get("pattern");
  if (!patternValue.IsUndefined()) {
    if (!patternValue.IsString()) throwTypeError(env, "opts.pattern must be a string");
    pattern = patternValue.As<Napi::String>().Utf8Value();
  }
  sparse::PruneSpec& spec = call.spec;
  if (pattern == "unstructured") {
    spec.pattern = sparse::PrunePattern::Unstructured;
  } else if (pattern == "block") {
    spec.pattern = sparse::PrunePattern::Block;
  } else if (parseNM(pattern, &spec.keepN, &spec.groupM)) {
    spec.pattern = sparse::PrunePattern::NM;
  } else {
    throwRangeError(env, "opts.pattern must be 'unstructured', '2:4', '4:8' or 'block', got '" + pattern + "'");
  }

  Napi::Value blockValue = opts.Get("block");
  if (!blockValue.IsUndefined()) {
    if (spec.pattern != sparse::PrunePattern::Block) throwTypeError(env, "opts.block is only for pattern 'block'");
    if (!blockValue.IsArray() || blockValue.As<Napi::Array>().Length() != 2) {
      throwTypeError(env, "opts.block must be [rows along k, columns along n]");
    }
    Napi::Array block = blockValue.As<Napi::Array>();
    spec.blockK = blockSideArg(env, block, 0);
    spec.blockN = blockSideArg(env, block, 1);
  }

  Napi::Value sparsityValue = opts.Get("sparsity");
  double sparsity = -1;
  if (!sparsityValue.IsUndefined()) {
    sparsity = numberArg(env, sparsityValue, "opts.sparsity");
    if (sparsity < 0 || sparsity > 1) {
      throwRangeError(env, "opts.sparsity must be in [0, 1], got " + std::to_string(sparsity));
    }
  }
  if (spec.pattern == sparse::PrunePattern::NM) {
    // The pattern fixes the sparsity; a different one asked for is a mistake, not a hint.
    double implied = 1.0 - static_cast<double>(spec.keepN) / static_cast<double>(spec.groupM);
    if (sparsity >= 0 && std::fabs(sparsity - implied) > 1e-6) {
      throwRangeError(env, "opts.sparsity " + std::to_string(sparsity) + " contradicts pattern '" + pattern +
                               "' (which prunes " + std::to_string(implied) + ")");
    }
  } else {
    if (sparsity < 0) throwTypeError(env, "opts.sparsity is required for pattern '" + pattern + "'");
    size_t units = spec.pattern == sparse::PrunePattern::Block ? sparse::blockCount(call.k, call.n, spec) : count;
    spec.zeros = static_cast<size_t>(std::llround(sparsity * static_cast<double>(units)));
    if (spec.zeros > units) spec.zeros = units;
  }

  requireUnchanged(env, info[0], "w", w, count);
  size_t nan = sparse::firstNaN(w, count);
  if (nan != count) throwRangeError(env, "w holds NaN (at index " + std::to_string(nan) + ")");
  withAllocation(env, "a copy of w", [&] { call.w = Input(w, count * sizeof(float), copyInput); });
  return call;
}

Napi::Value pruneMask(const Napi::CallbackInfo& info) {
  PruneCall call = preparePrune(info, false);
  Napi::Uint8Array mask = Napi::Uint8Array::New(info.Env(), call.k * call.n);
  withAllocation(info.Env(), "the mask", [&] { sparse::pruneMask(call.w.as<float>(), call.k, call.n, call.spec, mask.Data()); });
  return mask;
}

Napi::Value pruneMaskAsync(const Napi::CallbackInfo& info) {
  return asyncCall(info, [&]() -> Napi::Value {
    PruneCall call = preparePrune(info, true);
    Napi::Uint8Array mask = Napi::Uint8Array::New(info.Env(), call.k * call.n);
    uint8_t* out = mask.Data();
    return OutputWorker::start(info.Env(), "onnxforge.pruneMaskAsync", mask,
                               [call, out] { sparse::pruneMask(call.w.as<float>(), call.k, call.n, call.spec, out); });
  });
}


class PackedSparseHandle : public PackedHandle<PackedSparseHandle, SparseWeights> {
 public:
  static constexpr napi_type_tag kTag = {0x6f6e6e78666f7267ULL, 0x7370617273653b31ULL};
  static constexpr const char* kClassName = "PackedSparse";
  static constexpr const char* kFactory = "packSparse";

  static Napi::Function define(Napi::Env env) {
    std::vector<Property> properties = commonProperties();
    for (auto [name, getter] : {std::pair<const char*, Getter>{"k", &PackedSparseHandle::k},
                                {"n", &PackedSparseHandle::n},
                                {"nonzeros", &PackedSparseHandle::nonzeros},
                                {"sparsity", &PackedSparseHandle::sparsity},
                                {"dtype", &PackedSparseHandle::dtype},
                                {"pattern", &PackedSparseHandle::pattern},
                                {"isa", &PackedSparseHandle::isa},
                                {"hasScales", &PackedSparseHandle::hasScales}}) {
      properties.push_back(InstanceAccessor(name, getter, nullptr));
    }
    return DefineClass(env, kClassName, properties);
  }

  // The shape is kept after dispose(), like a disposed PackedInt8's.
  explicit PackedSparseHandle(const Napi::CallbackInfo& info) : PackedHandle(info), shape_(weights()->shape) {}

 private:
  Napi::Value k(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(shape_.k)); }
  Napi::Value n(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(shape_.n)); }
  Napi::Value nonzeros(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(shape_.nonzeros));
  }
  Napi::Value sparsity(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), shape_.sparsity()); }
  Napi::Value dtype(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), shape_.type == WeightType::Float32 ? "float32" : "int8");
  }
  Napi::Value pattern(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), shape_.pattern == sparse::SparsePattern::TwoFour ? "2:4" : "unstructured");
  }
  Napi::Value isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), isaName(sparse::sparseIsa())); }
  Napi::Value hasScales(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), shape_.hasScales); }

  const SparseShape shape_;
};

// Per-environment state, handed to packSparse as its data pointer.
struct SparseBindings {
  Napi::FunctionReference packedSparse;
};

// packSparse(w, k, n, { pattern?, scales?, device? })
Napi::Value packSparse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireArgCount(info, 3, "packSparse(w, k, n, opts?)");
  size_t k = dimArg(info, 1, "k");
  size_t n = dimArg(info, 2, "n");
  size_t count = checkedProduct(env, {k, n}, "k * n");
  Napi::TypedArray w = typedArrayArg(env, info[0], "w", {napi_float32_array, napi_int8_array});
  requireLength(env, w, count, "w");
  WeightType type = w.TypedArrayType() == napi_float32_array ? WeightType::Float32 : WeightType::Int8;
  const void* data = static_cast<const uint8_t*>(w.ArrayBuffer().Data()) + w.ByteOffset();
  Napi::Object opts = optionsArg(env, info[3], "opts");
  requireKnownOptions(env, opts, "opts", {"pattern", "scales", "device"});
  const Backend& backend = backendArg(env, opts);

  sparse::SparsePattern pattern = sparse::SparsePattern::Unstructured;
  // Every option is read before w's memory is: a getter may resize or detach its buffer.
  Napi::Value patternValue = opts.Get("pattern");
  Napi::Value scalesValue = opts.Get("scales");
  if (!patternValue.IsUndefined()) {
    std::string name = patternValue.IsString() ? patternValue.As<Napi::String>().Utf8Value() : "";
    if (name == "2:4") {
      pattern = sparse::SparsePattern::TwoFour;
    } else if (name != "unstructured") {
      throwTypeError(env, "opts.pattern must be 'unstructured' or '2:4'");
    }
  }
  requireUnchanged(env, info[0], "w", data, count);
  if (pattern == sparse::SparsePattern::TwoFour) {
    size_t row = 0, column = 0;
    if (sparse::findTwoFourViolation(data, type, k, n, &row, &column)) {
      throwRangeError(env, "w is not 2:4 sparse: rows " + std::to_string(row) + ".." +
                               std::to_string(std::min(k, row + 4) - 1) + " of column " + std::to_string(column) +
                               " hold more than 2 nonzeros (prune it with kernels.pruneMask(w, k, n, { pattern: '2:4' }))");
    }
  }

  const float* scales = nullptr;
  size_t scaleCount = 0;
  if (!scalesValue.IsUndefined()) {
    if (type != WeightType::Int8) throwTypeError(env, "opts.scales is only for int8 weights");
    scales = typedDataArg<float>(env, scalesValue, "opts.scales", napi_float32_array, SIZE_MAX, &scaleCount);
    if (scaleCount != 1 && scaleCount != n) {
      throwRangeError(env, "opts.scales must have 1 (per tensor) or n = " + std::to_string(n) +
                               " (per column) values, got " + std::to_string(scaleCount));
    }
    for (size_t i = 0; i < scaleCount; ++i) {
      if (!(scales[i] > 0.0f) || !std::isfinite(scales[i])) throwRangeError(env, "opts.scales must be positive and finite");
    }
  }
  auto packed = withAllocation(env, "the packed weights", [&] {
    return backendCall(env, [&] { return backend.packSparse(data, type, k, n, pattern, scales, scaleCount); });
  });
  return PackedSparseHandle::create(static_cast<SparseBindings*>(info.Data())->packedSparse, std::move(packed));
}

// One checked product: its inputs (views, or copies for async calls) and a share of the weights.
struct SparseCall {
  std::shared_ptr<const SparseWeights> w;
  Input x, bias;
  size_t m = 0;
  bool int8 = false;
};

// matmulSparse(x, m, k, w, bias?) and linearSparseInt8(x, m, k, w, bias?)
SparseCall prepareSparse(const Napi::CallbackInfo& info, bool int8, bool copyInputs) {
  Napi::Env env = info.Env();
  const char* signature = int8 ? "linearSparseInt8(x, m, k, w, bias?)" : "matmulSparse(x, m, k, w, bias?)";
  requireArgCount(info, 4, signature);
  SparseCall call;
  call.int8 = int8;
  call.m = dimArg(info, 1, "m");
  size_t k = dimArg(info, 2, "k");
  size_t count = checkedProduct(env, {call.m, k}, "m * k");
  const float* x = typedDataArg<float>(env, info[0], "x", napi_float32_array, count);
  call.w = PackedSparseHandle::weightsArg(env, info[3], "w");
  const SparseShape& shape = call.w->shape;
  if (shape.k != k) {
    throwRangeError(env, "k (" + std::to_string(k) + ") does not match w.k (" + std::to_string(shape.k) + ")");
  }
  if (int8 && shape.type != WeightType::Int8) {
    throwTypeError(env, "w holds float32 weights; linearSparseInt8 needs packSparse of an Int8Array (use matmulSparse)");
  }
  if (!int8 && shape.type != WeightType::Float32) {
    throwTypeError(env, "w holds int8 weights; matmulSparse needs packSparse of a Float32Array (use linearSparseInt8)");
  }
  if (int8 && !shape.hasScales) {
    throwTypeError(env, "w was packed without scales; linearSparseInt8 needs packSparse(w, k, n, { scales })");
  }
  checkedProduct(env, {call.m, shape.n}, "m * n");
  const float* bias = nullptr;
  if (!info[4].IsUndefined() && !info[4].IsNull()) {
    bias = typedDataArg<float>(env, info[4], "bias", napi_float32_array, shape.n);
  }
  withAllocation(env, "copies of the inputs", [&] {
    call.x = Input(x, count * sizeof(float), copyInputs);
    if (bias) call.bias = Input(bias, shape.n * sizeof(float), copyInputs);
  });
  return call;
}

void runSparse(const SparseCall& call, float* y) {
  const SparseWeights& w = *call.w;
  if (call.int8) {
    w.backend.linearSparseInt8(w, call.x.as<float>(), call.m, call.bias.as<float>(), y);
  } else {
    w.backend.matmulSparse(w, call.x.as<float>(), call.m, call.bias.as<float>(), y);
  }
}

Napi::Value sparseSync(const Napi::CallbackInfo& info, bool int8) {
  SparseCall call = prepareSparse(info, int8, false);
  Napi::Float32Array y = Napi::Float32Array::New(info.Env(), call.m * call.w->shape.n);
  withAllocation(info.Env(), "the product's buffers", [&] { backendCall(info.Env(), [&] { runSparse(call, y.Data()); }); });
  return y;
}

Napi::Value sparseAsync(const Napi::CallbackInfo& info, bool int8) {
  return asyncCall(info, [&]() -> Napi::Value {
    SparseCall call = prepareSparse(info, int8, true);
    Napi::Float32Array y = Napi::Float32Array::New(info.Env(), call.m * call.w->shape.n);
    float* out = y.Data();
    return OutputWorker::start(info.Env(), int8 ? "onnxforge.linearSparseInt8Async" : "onnxforge.matmulSparseAsync", y,
                               [call, out] { runSparse(call, out); });
  });
}

Napi::Value matmulSparse(const Napi::CallbackInfo& info) { return sparseSync(info, false); }
Napi::Value matmulSparseAsync(const Napi::CallbackInfo& info) { return sparseAsync(info, false); }
Napi::Value linearSparseInt8(const Napi::CallbackInfo& info) { return sparseSync(info, true); }
Napi::Value linearSparseInt8Async(const Napi::CallbackInfo& info) { return sparseAsync(info, true); }

}  // namespace

void registerSparse(Napi::Env env, Napi::Object exports) {
  auto* bindings = new SparseBindings();
  env.AddCleanupHook([bindings] { delete bindings; });
  Napi::Function packedSparse = PackedSparseHandle::define(env);
  bindings->packedSparse = Napi::Persistent(packedSparse);
  exports.Set("PackedSparse", packedSparse);
  exports.Set("packSparse", Napi::Function::New(env, packSparse, "packSparse", bindings));
  exports.Set("matmulSparse", Napi::Function::New(env, matmulSparse, "matmulSparse"));
  exports.Set("matmulSparseAsync", Napi::Function::New(env, matmulSparseAsync, "matmulSparseAsync"));
  exports.Set("linearSparseInt8", Napi::Function::New(env, linearSparseInt8, "linearSparseInt8"));
  exports.Set("linearSparseInt8Async", Napi::Function::New(env, linearSparseInt8Async, "linearSparseInt8Async"));
  exports.Set("pruneMask", Napi::Function::New(env, pruneMask, "pruneMask"));
  exports.Set("pruneMaskAsync", Napi::Function::New(env, pruneMaskAsync, "pruneMaskAsync"));
}

}  // namespace onnxforge::napi
