#include "sparse.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "async.h"
#include "prune_mask.h"

namespace onnxforge::napi {
namespace {

// A checked pruneMask call: its own copy of w (async calls) or a view of it.
struct PruneCall {
  const float* w = nullptr;
  std::shared_ptr<std::vector<float>> copy;
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

  size_t nan = sparse::firstNaN(w, count);
  if (nan != count) throwRangeError(env, "w holds NaN (at index " + std::to_string(nan) + ")");
  if (copyInput) {
    call.copy = withAllocation(env, "a copy of w", [&] { return std::make_shared<std::vector<float>>(w, w + count); });
    call.w = call.copy->data();
  } else {
    call.w = w;
  }
  return call;
}

Napi::Value pruneMask(const Napi::CallbackInfo& info) {
  PruneCall call = preparePrune(info, false);
  Napi::Uint8Array mask = Napi::Uint8Array::New(info.Env(), call.k * call.n);
  withAllocation(info.Env(), "the mask", [&] { sparse::pruneMask(call.w, call.k, call.n, call.spec, mask.Data()); });
  return mask;
}

Napi::Value pruneMaskAsync(const Napi::CallbackInfo& info) {
  return asyncCall(info, [&]() -> Napi::Value {
    PruneCall call = preparePrune(info, true);
    Napi::Uint8Array mask = Napi::Uint8Array::New(info.Env(), call.k * call.n);
    uint8_t* out = mask.Data();
    return OutputWorker::start(info.Env(), "onnxforge.pruneMaskAsync", mask,
                               [call, out] { sparse::pruneMask(call.w, call.k, call.n, call.spec, out); });
  });
}

}  // namespace

void registerSparse(Napi::Env env, Napi::Object exports) {
  exports.Set("pruneMask", Napi::Function::New(env, pruneMask, "pruneMask"));
  exports.Set("pruneMaskAsync", Napi::Function::New(env, pruneMaskAsync, "pruneMaskAsync"));
}

}  // namespace onnxforge::napi
