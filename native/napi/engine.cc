#include "engine.h"

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../engine/executor.h"
#include "../engine/model_weights.h"
#include "../engine/op_kernel.h"
#include "../engine/output_pool.h"
#include "args.h"
#include "async.h"

namespace onnxforge::napi {
namespace {

using engine::DType;
using engine::LinearKind;
using engine::LinearWeights;
using engine::ModelWeights;
using engine::PlanRuntime;

constexpr napi_type_tag kWeightsTag = {0x6f6e6e78666f7267ULL, 0x656e67696e657731ULL};
constexpr napi_type_tag kPlanTag = {0x6f6e6e78666f7267ULL, 0x656e67696e657032ULL};

struct EngineBindings {
  Napi::FunctionReference weightsClass;
  Napi::FunctionReference planClass;
};

napi_typedarray_type arrayKindOf(DType t) {
  switch (t) {
    case DType::Float32: return napi_float32_array;
    case DType::Uint8: case DType::Bool: return napi_uint8_array;
    case DType::Int8: return napi_int8_array;
    case DType::Int32: return napi_int32_array;
    case DType::Int64: return napi_bigint64_array;
  }
  return napi_uint8_array;
}

void* dataOf(const Napi::TypedArray& array) {
  return static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
}

DType dtypeArg(Napi::Env env, Napi::Value value, const char* name) {
  int64_t code = intArg(env, value, name, 0, 255);
  if (!engine::isEngineDType(static_cast<int>(code))) {
    throwRangeError(env, std::string(name) + ": element type " + std::to_string(code) + " is not one the engine runs");
  }
  return static_cast<DType>(code);
}

Napi::Array arrayArg(Napi::Env env, Napi::Value value, const char* name) {
  if (!value.IsArray()) throwTypeError(env, std::string(name) + " must be an array");
  return value.As<Napi::Array>();
}

Napi::Object objectArg(Napi::Env env, Napi::Value value, const char* name) {
  if (!value.IsObject() || value.IsArray()) throwTypeError(env, std::string(name) + " must be an object");
  return value.As<Napi::Object>();
}

// ---------------------------------------------------------------- weights

// A kind by name, or 'auto' (nullopt): the kernel the measured sparsity calls for.
std::optional<LinearKind> linearKindArg(Napi::Env env, Napi::Value value, const char* name) {
  if (!value.IsString()) throwTypeError(env, std::string(name) + " must be a string");
  std::string kind = value.As<Napi::String>().Utf8Value();
  if (kind == "auto") return std::nullopt;
  if (kind == "dense") return LinearKind::Dense;
  if (kind == "sparse") return LinearKind::Sparse;
  if (kind == "int8") return LinearKind::Int8;
  if (kind == "sparse-int8") return LinearKind::SparseInt8;
  throwRangeError(env, std::string(name) + " must be 'auto', 'dense', 'sparse', 'int8' or 'sparse-int8', got '" + kind + "'");
}

template <typename T>
double zeroFraction(const T* w, size_t count) {
  size_t zeros = 0;
  for (size_t i = 0; i < count; ++i) zeros += w[i] == T(0);
  return count ? static_cast<double>(zeros) / static_cast<double>(count) : 0.0;
}

// W (n x k) as k x n row-major, for the sparse packers.
std::vector<float> transposedCopy(const float* w, size_t k, size_t n) {
  std::vector<float> out(k * n);
  for (size_t j = 0; j < n; ++j)
    for (size_t kk = 0; kk < k; ++kk) out[kk * n + j] = w[j * k + kk];
  return out;
}

// { kind, k, n, weights, transposed?, scales?, zeroPoints?, pattern?, sparseFrom? }. kind 'auto' packs
// sparse when the weights' zero fraction reaches sparseFrom (int8: and every zero point is 0).
LinearWeights packLinear(Napi::Env env, Napi::Object spec, const std::string& name) {
  requireKnownOptions(env, spec, name.c_str(),
                      {"kind", "k", "n", "weights", "transposed", "scales", "zeroPoints", "pattern", "sparseFrom"});
  LinearWeights layer;
  const std::optional<LinearKind> kind = linearKindArg(env, spec.Get("kind"), (name + ".kind").c_str());
  double sparseFrom = 2.0;
  if (!kind) sparseFrom = numberArg(env, spec.Get("sparseFrom"), (name + ".sparseFrom").c_str());
  layer.k = dimArg(env, spec.Get("k"), (name + ".k").c_str());
  layer.n = dimArg(env, spec.Get("n"), (name + ".n").c_str());
  const size_t count = checkedProduct(env, {layer.k, layer.n}, (name + ": k * n").c_str());
  checkedProduct(env, {layer.k + 64, layer.n + 64, 8}, (name + ": packed size").c_str());
  const bool transposed = spec.Get("transposed").ToBoolean().Value();
  bool twoFour = false;
  Napi::Value pattern = spec.Get("pattern");
  if (!pattern.IsUndefined()) {
    std::string p = pattern.ToString().Utf8Value();
    if (p != "unstructured" && p != "2:4") throwRangeError(env, name + ".pattern must be 'unstructured' or '2:4'");
    twoFour = p == "2:4";
  }
  const std::string weightsName = name + ".weights";
  const bool floatWeights = kind ? (*kind == LinearKind::Dense || *kind == LinearKind::Sparse)
                                 : spec.Get("weights").IsTypedArray() &&
                                       spec.Get("weights").As<Napi::TypedArray>().TypedArrayType() == napi_float32_array;
  if (transposed && !floatWeights) throwTypeError(env, name + ".transposed is only for float32 layers");
  if (floatWeights) {
    const float* w = typedDataArg<float>(env, spec.Get("weights"), weightsName.c_str(), napi_float32_array, count);
    layer.sparsity = zeroFraction(w, count);
    layer.kind = kind ? *kind : layer.sparsity >= sparseFrom ? LinearKind::Sparse : LinearKind::Dense;
    if (layer.kind != LinearKind::Dense && layer.kind != LinearKind::Sparse) throwTypeError(env, weightsName + " must be an Int8Array");
    withAllocation(env, "packed weights", [&] {
      if (layer.kind == LinearKind::Dense) {
        layer.dense = engine::packDense(w, layer.k, layer.n, transposed);
        return 0;
      }
      std::vector<float> rowMajor = transposed ? transposedCopy(w, layer.k, layer.n) : std::vector<float>();
      layer.sparse = sparse::packFloat(transposed ? rowMajor.data() : w, layer.k, layer.n,
                                       twoFour ? sparse::SparsePattern::TwoFour : sparse::SparsePattern::Unstructured);
      return 0;
    });
    return layer;
  }
  const int8_t* w = typedDataArg<int8_t>(env, spec.Get("weights"), weightsName.c_str(), napi_int8_array, count);
  layer.sparsity = zeroFraction(w, count);
  if (kind && *kind != LinearKind::Int8 && *kind != LinearKind::SparseInt8) throwTypeError(env, weightsName + " must be a Float32Array");
  size_t scaleCount = 0;
  const std::string scalesName = name + ".scales";
  const float* scales = typedDataArg<float>(env, spec.Get("scales"), scalesName.c_str(), napi_float32_array, SIZE_MAX, &scaleCount);
  if (scaleCount != 1 && scaleCount != layer.n) throwRangeError(env, scalesName + " must have 1 or n values");
  for (size_t i = 0; i < scaleCount; ++i) {
    if (!std::isfinite(scales[i])) throwRangeError(env, scalesName + " must be finite");
  }
  size_t zeroPointCount = 0;
  const int8_t* zeroPoints = nullptr;
  Napi::Value zp = spec.Get("zeroPoints");
  const std::string zpName = name + ".zeroPoints";
  if (!zp.IsUndefined()) {
    zeroPoints = typedDataArg<int8_t>(env, zp, zpName.c_str(), napi_int8_array, SIZE_MAX, &zeroPointCount);
    if (zeroPointCount != 1 && zeroPointCount != layer.n) throwRangeError(env, zpName + " must have 1 or n values");
  }
  bool symmetric = true;
  for (size_t i = 0; i < zeroPointCount; ++i) symmetric = symmetric && zeroPoints[i] == 0;
  layer.kind = kind ? *kind : layer.sparsity >= sparseFrom && symmetric ? LinearKind::SparseInt8 : LinearKind::Int8;
  if (layer.kind == LinearKind::SparseInt8) {
    if (!symmetric) throwRangeError(env, name + ": sparse int8 weights must be symmetric (zero points 0)");
    if (twoFour && sparse::findTwoFourViolation(w, sparse::WeightType::Int8, layer.k, layer.n, nullptr, nullptr)) {
      throwRangeError(env, name + ": the weights are not 2:4 sparse");
    }
    withAllocation(env, "packed weights", [&] {
      layer.sparse = sparse::packInt8(w, layer.k, layer.n,
                                      twoFour ? sparse::SparsePattern::TwoFour : sparse::SparsePattern::Unstructured,
                                      scales, scaleCount);
      return 0;
    });
    return layer;
  }
  int8::WeightOptions options;
  options.scales = scales;
  options.scaleCount = scaleCount;
  options.zeroPoints = zeroPoints;
  options.zeroPointCount = zeroPointCount;
  withAllocation(env, "packed weights", [&] {
    layer.int8 = int8::packWeights(w, layer.k, layer.n, options);
    return 0;
  });
  return layer;
}

class EngineWeights : public Napi::ObjectWrap<EngineWeights> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "EngineWeights",
                       {InstanceAccessor<&EngineWeights::bytes>("bytes"),
                        InstanceAccessor<&EngineWeights::layers>("layers"),
                        InstanceMethod<&EngineWeights::dispose>("dispose")});
  }

  // engineWeights({ constants: [{ type, data }], linears: [LinearSpec] })
  explicit EngineWeights(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWeights>(info) {
    Napi::Env env = info.Env();
    requireArgCount(info, 1, "engineWeights(spec)");
    Napi::Object spec = objectArg(env, info[0], "spec");
    requireKnownOptions(env, spec, "spec", {"constants", "linears"});
    auto weights = std::make_shared<ModelWeights>();
    Napi::Array constants = arrayArg(env, spec.Get("constants"), "spec.constants");
    for (uint32_t i = 0; i < constants.Length(); ++i) {
      std::string name = "spec.constants[" + std::to_string(i) + "]";
      Napi::Object c = objectArg(env, constants.Get(i), name.c_str());
      DType type = dtypeArg(env, c.Get("type"), (name + ".type").c_str());
      Napi::TypedArray data = typedArrayArg(env, c.Get("data"), (name + ".data").c_str(), {arrayKindOf(type)});
      // Viewed in place: the reference keeps the memory alive as long as this object.
      constantRefs_.push_back(Napi::Persistent(static_cast<Napi::Object>(data)));
      weights->constants.push_back({dataOf(data), type, data.ElementLength()});
    }
    Napi::Array linears = arrayArg(env, spec.Get("linears"), "spec.linears");
    for (uint32_t i = 0; i < linears.Length(); ++i) {
      std::string name = "spec.linears[" + std::to_string(i) + "]";
      weights->linears.push_back(packLinear(env, objectArg(env, linears.Get(i), name.c_str()), name));
    }
    bytes_ = weights->packedBytes();
    Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(bytes_));
    weights_ = std::move(weights);
    info.This().As<Napi::Object>().TypeTag(&kWeightsTag);
  }

  ~EngineWeights() override { release(); }

  static std::shared_ptr<const ModelWeights> unwrap(Napi::Env env, Napi::Value value, const char* name) {
    if (!value.IsObject() || !value.As<Napi::Object>().CheckTypeTag(&kWeightsTag)) {
      throwTypeError(env, std::string(name) + " must be an EngineWeights (from engineWeights)");
    }
    EngineWeights* self = Unwrap(value.As<Napi::Object>());
    if (!self->weights_) throwTypeError(env, std::string(name) + " (EngineWeights) has been disposed");
    return self->weights_;
  }

 private:
  void release() {
    if (!weights_) return;
    // Plans made from these weights keep them (and this object, by reference) alive.
    weights_.reset();
    Napi::MemoryManagement::AdjustExternalMemory(Env(), -static_cast<int64_t>(bytes_));
  }

  Napi::Value bytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), weights_ ? static_cast<double>(bytes_) : 0.0); }

  Napi::Value layers(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    if (!weights_) return out;
    for (size_t i = 0; i < weights_->linears.size(); ++i) {
      const LinearWeights& l = weights_->linears[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("kind", engine::linearKindName(l.kind));
      o.Set("k", static_cast<double>(l.k));
      o.Set("n", static_cast<double>(l.n));
      o.Set("sparsity", l.sparsity);
      o.Set("bytes", static_cast<double>(l.bytes()));
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

  Napi::Value dispose(const Napi::CallbackInfo& info) {
    release();
    return info.Env().Undefined();
  }

  std::shared_ptr<const ModelWeights> weights_;
  std::vector<Napi::Reference<Napi::Object>> constantRefs_;
  size_t bytes_ = 0;
};

// ---------------------------------------------------------------- plans

template <typename T>
T* arrayField(Napi::Env env, const Napi::Object& o, const char* field, napi_typedarray_type kind, size_t length,
              const std::string& owner) {
  std::string name = owner + "." + field;
  return typedDataArg<T>(env, o.Get(field), name.c_str(), kind, length);
}

engine::Plan planArg(Napi::Env env, Napi::Object spec, std::shared_ptr<const ModelWeights> weights) {
  requireKnownOptions(env, spec, "spec", {"values", "steps", "planConstants", "inputs", "outputs", "arenaBytes"});
  engine::Plan plan;
  plan.weights = std::move(weights);
  plan.arenaBytes = dimArg(env, spec.Get("arenaBytes"), "spec.arenaBytes");

  Napi::Object values = objectArg(env, spec.Get("values"), "spec.values");
  size_t count = 0;
  const uint8_t* storage = typedDataArg<uint8_t>(env, values.Get("storage"), "spec.values.storage", napi_uint8_array, SIZE_MAX, &count);
  const uint8_t* types = arrayField<uint8_t>(env, values, "dtype", napi_uint8_array, count, "spec.values");
  const double* counts = arrayField<double>(env, values, "count", napi_float64_array, count, "spec.values");
  const double* offsets = arrayField<double>(env, values, "offset", napi_float64_array, count, "spec.values");
  const uint32_t* indices = arrayField<uint32_t>(env, values, "index", napi_uint32_array, count, "spec.values");
  plan.values.resize(count);
  for (size_t i = 0; i < count; ++i) {
    engine::ValueSlot& v = plan.values[i];
    if (storage[i] > static_cast<uint8_t>(engine::Storage::View)) throwRangeError(env, "spec.values.storage: unknown storage");
    v.storage = static_cast<engine::Storage>(storage[i]);
    if (!engine::isEngineDType(types[i])) throwRangeError(env, "spec.values.dtype: element type " + std::to_string(types[i]) + " is not one the engine runs");
    v.dtype = static_cast<DType>(types[i]);
    v.count = dimArg(env, Napi::Number::New(env, counts[i]), "spec.values.count");
    v.offset = dimArg(env, Napi::Number::New(env, offsets[i]), "spec.values.offset");
    v.index = indices[i];
  }

  Napi::Array steps = arrayArg(env, spec.Get("steps"), "spec.steps");
  plan.steps.resize(steps.Length());
  for (uint32_t i = 0; i < steps.Length(); ++i) {
    std::string name = "spec.steps[" + std::to_string(i) + "]";
    Napi::Object s = objectArg(env, steps.Get(i), name.c_str());
    engine::Step& step = plan.steps[i];
    Napi::Value op = s.Get("op");
    if (!op.IsString() || !engine::parseOpName(op.As<Napi::String>().Utf8Value(), &step.op)) {
      throwRangeError(env, name + ".op is not a step kind the engine has");
    }
    size_t n = 0;
    const int32_t* in = typedDataArg<int32_t>(env, s.Get("inputs"), (name + ".inputs").c_str(), napi_int32_array, SIZE_MAX, &n);
    step.inputs.assign(in, in + n);
    const int32_t* out = typedDataArg<int32_t>(env, s.Get("outputs"), (name + ".outputs").c_str(), napi_int32_array, SIZE_MAX, &n);
    step.outputs.assign(out, out + n);
    const double* ints = typedDataArg<double>(env, s.Get("ints"), (name + ".ints").c_str(), napi_float64_array, SIZE_MAX, &n);
    for (size_t j = 0; j < n; ++j) {
      if (!std::isfinite(ints[j]) || ints[j] != std::floor(ints[j]) || std::fabs(ints[j]) > 9007199254740991.0) {
        throwRangeError(env, name + ".ints must hold safe integers");
      }
      step.ints.push_back(static_cast<int64_t>(ints[j]));
    }
    const float* floats = typedDataArg<float>(env, s.Get("floats"), (name + ".floats").c_str(), napi_float32_array, SIZE_MAX, &n);
    step.floats.assign(floats, floats + n);
    Napi::Value linear = s.Get("linear");
    step.linear = linear.IsUndefined() ? -1 : static_cast<int32_t>(intArg(env, linear, (name + ".linear").c_str(), -1, INT32_MAX));
  }

  Napi::Array constants = arrayArg(env, spec.Get("planConstants"), "spec.planConstants");
  for (uint32_t i = 0; i < constants.Length(); ++i) {
    std::string name = "spec.planConstants[" + std::to_string(i) + "]";
    size_t bytes = 0;
    const uint8_t* data = typedDataArg<uint8_t>(env, constants.Get(i), name.c_str(), napi_uint8_array, SIZE_MAX, &bytes);
    plan.planConstants.emplace_back(data, data + bytes);
  }
  size_t n = 0;
  const int32_t* inputs = typedDataArg<int32_t>(env, spec.Get("inputs"), "spec.inputs", napi_int32_array, SIZE_MAX, &n);
  plan.inputs.assign(inputs, inputs + n);
  const int32_t* outputs = typedDataArg<int32_t>(env, spec.Get("outputs"), "spec.outputs", napi_int32_array, SIZE_MAX, &n);
  plan.outputs.assign(outputs, outputs + n);
  return plan;
}

// The arrays of one run, checked against the plan's inputs or outputs.
std::vector<Napi::TypedArray> runArrays(Napi::Env env, Napi::Value value, const engine::Plan& plan,
                                        const std::vector<int32_t>& ids, const char* name) {
  Napi::Array arrays = arrayArg(env, value, name);
  if (arrays.Length() != ids.size()) {
    throwRangeError(env, std::string(name) + " must hold " + std::to_string(ids.size()) + " arrays, got " +
                             std::to_string(arrays.Length()));
  }
  std::vector<Napi::TypedArray> out;
  for (uint32_t i = 0; i < arrays.Length(); ++i) {
    const engine::ValueSlot& v = plan.values[static_cast<size_t>(ids[i])];
    std::string item = std::string(name) + "[" + std::to_string(i) + "]";
    Napi::TypedArray a = typedArrayArg(env, arrays.Get(i), item.c_str(), {arrayKindOf(v.dtype)});
    requireLength(env, a, v.count, item.c_str());
    out.push_back(a);
  }
  return out;
}

// The outputs of one run. Large ones live in pooled blocks (engine/output_pool.h) until they are
// handed to JavaScript as arrays that own them; small ones are plain arrays from the start (their
// pages are no cost, and an external buffer would cost more than it saves). Blocks of a failed
// run go straight back.
class RunOutputs {
 public:
  static constexpr size_t kPooledFrom = 64 * 1024;

  RunOutputs(Napi::Env env, const engine::Plan& plan) {
    for (int32_t id : plan.outputs) {
      const engine::ValueSlot& v = plan.values[static_cast<size_t>(id)];
      Output o;
      o.count = v.count;
      o.dtype = v.dtype;
      if (v.bytes() >= kPooledFrom) {
        o.block = engine::takeOutputBlock(v.bytes(), &o.capacity);
        o.data = o.block;
      } else {
        Napi::TypedArray array = typedArrayOver(env, Napi::ArrayBuffer::New(env, v.bytes()), v.dtype, v.count);
        o.array = Napi::Persistent(static_cast<Napi::Object>(array));
        o.data = dataOf(array);
      }
      outputs_.push_back(std::move(o));
    }
  }
  ~RunOutputs() {
    for (Output& o : outputs_) if (o.block) engine::giveBackOutputBlock(o.block, o.capacity);
  }
  RunOutputs(const RunOutputs&) = delete;
  RunOutputs& operator=(const RunOutputs&) = delete;

  std::vector<void*> pointers() const {
    std::vector<void*> out;
    for (const Output& o : outputs_) out.push_back(o.data);
    return out;
  }

  Napi::Array toArrays(Napi::Env env) {
    Napi::Array out = Napi::Array::New(env, outputs_.size());
    for (size_t i = 0; i < outputs_.size(); ++i) {
      Output& o = outputs_[i];
      if (!o.block) {
        out.Set(static_cast<uint32_t>(i), o.array.Value());
        continue;
      }
      size_t* capacity = new size_t(o.capacity);
      // Told to the GC, so that outputs a program drops are collected (and their blocks reused) soon.
      Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(o.capacity));
      Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
          env, o.block, o.count * engine::dtypeSize(o.dtype),
          [](Napi::Env finalizeEnv, void* data, size_t* cap) {
            Napi::MemoryManagement::AdjustExternalMemory(finalizeEnv, -static_cast<int64_t>(*cap));
            engine::giveBackOutputBlock(data, *cap);
            delete cap;
          },
          capacity);
      o.block = nullptr;
      out.Set(static_cast<uint32_t>(i), typedArrayOver(env, buffer, o.dtype, o.count));
    }
    return out;
  }

 private:
  struct Output {
    void* data = nullptr;
    void* block = nullptr;  // pooled memory not yet handed to JavaScript
    size_t capacity = 0;
    size_t count = 0;
    DType dtype = DType::Float32;
    Napi::Reference<Napi::Object> array;
  };

  static Napi::TypedArray typedArrayOver(Napi::Env env, Napi::ArrayBuffer buffer, DType dtype, size_t count) {
    switch (dtype) {
      case DType::Float32: return Napi::Float32Array::New(env, count, buffer, 0);
      case DType::Int8: return Napi::Int8Array::New(env, count, buffer, 0);
      case DType::Int32: return Napi::Int32Array::New(env, count, buffer, 0);
      case DType::Int64: return Napi::BigInt64Array::New(env, count, buffer, 0);
      case DType::Uint8: case DType::Bool: break;
    }
    return Napi::Uint8Array::New(env, count, buffer, 0);
  }

  std::vector<Output> outputs_;
};

class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, std::shared_ptr<const PlanRuntime> plan, Napi::Object planObject,
            const std::vector<Napi::TypedArray>& inputs, int threads)
      : Napi::AsyncWorker(env, "onnxforge.engine.run"),
        deferred_(Napi::Promise::Deferred::New(env)),
        plan_(std::move(plan)),
        outputs_(std::make_unique<RunOutputs>(env, plan_->plan())),
        threads_(threads) {
    keep_.push_back(Napi::Persistent(planObject));
    for (const auto& a : inputs) {
      keep_.push_back(Napi::Persistent(static_cast<Napi::Object>(a)));
      inputs_.push_back(dataOf(a));
    }
  }

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      plan_->run(inputs_, outputs_->pointers(), threads_);
    } catch (const std::bad_alloc&) {
      SetError("out of memory running the model");
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(outputs_->toArrays(Env())); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<const PlanRuntime> plan_;
  std::unique_ptr<RunOutputs> outputs_;
  std::vector<Napi::Reference<Napi::Object>> keep_;
  std::vector<const void*> inputs_;
  int threads_;
};

class EnginePlan : public Napi::ObjectWrap<EnginePlan> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "EnginePlan",
                       {InstanceAccessor<&EnginePlan::arenaBytes>("arenaBytes"),
                        InstanceAccessor<&EnginePlan::arenaBytesHeld>("arenaBytesHeld"),
                        InstanceMethod<&EnginePlan::run>("run"),
                        InstanceMethod<&EnginePlan::runAsync>("runAsync"),
                        InstanceMethod<&EnginePlan::profile>("profile"),
                        InstanceMethod<&EnginePlan::dispose>("dispose")});
  }

  // enginePlan(weights, spec)
  explicit EnginePlan(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EnginePlan>(info) {
    Napi::Env env = info.Env();
    requireArgCount(info, 2, "enginePlan(weights, spec)");
    auto weights = EngineWeights::unwrap(env, info[0], "weights");
    engine::Plan plan = planArg(env, objectArg(env, info[1], "spec"), std::move(weights));
    try {
      plan_ = std::make_shared<const PlanRuntime>(std::move(plan));
    } catch (const engine::PlanError& e) {
      throwRangeError(env, std::string("invalid plan: ") + e.what());
    }
    weightsRef_ = Napi::Persistent(info[0].As<Napi::Object>());
    info.This().As<Napi::Object>().TypeTag(&kPlanTag);
  }

 private:
  std::shared_ptr<const PlanRuntime> live(Napi::Env env) const {
    if (!plan_) throwTypeError(env, "the EnginePlan has been disposed");
    return plan_;
  }

  int threadsArg(const Napi::CallbackInfo& info, size_t at) const {
    if (info.Length() <= at || info[at].IsUndefined()) return 0;
    return static_cast<int>(intArg(info.Env(), info[at], "threads", 0, 256));
  }

  // Runs on the calling thread; stepSeconds as PlanRuntime::run takes it.
  Napi::Array runHere(const Napi::CallbackInfo& info, const char* signature, std::vector<double>* stepSeconds) {
    Napi::Env env = info.Env();
    requireArgCount(info, 1, signature);
    auto plan = live(env);
    auto inputs = runArrays(env, info[0], plan->plan(), plan->plan().inputs, "inputs");
    std::vector<const void*> in;
    for (auto& a : inputs) in.push_back(dataOf(a));
    RunOutputs outputs(env, plan->plan());
    try {
      plan->run(in, outputs.pointers(), threadsArg(info, 1), stepSeconds);
    } catch (const std::bad_alloc&) {
      throwRangeError(env, "out of memory running the model");
    } catch (const engine::RunError& e) {
      throwRangeError(env, e.what());
    }
    return outputs.toArrays(env);
  }

  // run(inputs, threads?): the outputs, in plan order.
  Napi::Value run(const Napi::CallbackInfo& info) { return runHere(info, "run(inputs, threads?)", nullptr); }

  // profile(inputs, threads?): { outputs, stepMs } of a run on the calling thread.
  Napi::Value profile(const Napi::CallbackInfo& info) {
    std::vector<double> seconds;
    Napi::Array outputs = runHere(info, "profile(inputs, threads?)", &seconds);
    Napi::Float64Array ms = Napi::Float64Array::New(info.Env(), seconds.size());
    for (size_t i = 0; i < seconds.size(); ++i) ms[i] = seconds[i] * 1e3;
    Napi::Object result = Napi::Object::New(info.Env());
    result.Set("outputs", outputs);
    result.Set("stepMs", ms);
    return result;
  }

  Napi::Value runAsync(const Napi::CallbackInfo& info) {
    return asyncCall(info, [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      requireArgCount(info, 1, "runAsync(inputs, threads?)");
      auto plan = live(env);
      auto inputs = runArrays(env, info[0], plan->plan(), plan->plan().inputs, "inputs");
      auto* worker = new RunWorker(env, plan, info.This().As<Napi::Object>(), inputs, threadsArg(info, 1));
      Napi::Promise promise = worker->promise();
      worker->Queue();
      return promise;
    });
  }

  Napi::Value arenaBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), plan_ ? static_cast<double>(plan_->plan().arenaBytes) : 0.0);
  }
  Napi::Value arenaBytesHeld(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), plan_ ? static_cast<double>(plan_->arenaBytesHeld()) : 0.0);
  }
  Napi::Value dispose(const Napi::CallbackInfo& info) {
    plan_.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<const PlanRuntime> plan_;
  Napi::Reference<Napi::Object> weightsRef_;
};

EngineBindings& bindingsOf(const Napi::CallbackInfo& info) { return *static_cast<EngineBindings*>(info.Data()); }

Napi::Value engineWeights(const Napi::CallbackInfo& info) {
  std::vector<napi_value> args(info.Length());
  for (size_t i = 0; i < info.Length(); ++i) args[i] = info[i];
  return bindingsOf(info).weightsClass.New(args);
}

Napi::Value enginePlan(const Napi::CallbackInfo& info) {
  std::vector<napi_value> args(info.Length());
  for (size_t i = 0; i < info.Length(); ++i) args[i] = info[i];
  return bindingsOf(info).planClass.New(args);
}

}  // namespace

void registerEngine(Napi::Env env, Napi::Object exports) {
  auto* bindings = new EngineBindings();
  bindings->weightsClass = Napi::Persistent(EngineWeights::define(env));
  bindings->planClass = Napi::Persistent(EnginePlan::define(env));
  env.AddCleanupHook([bindings] { delete bindings; });
  exports.Set("engineWeights", Napi::Function::New(env, engineWeights, "engineWeights", bindings));
  exports.Set("enginePlan", Napi::Function::New(env, enginePlan, "enginePlan", bindings));
}

}  // namespace onnxforge::napi
