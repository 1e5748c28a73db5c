// JS handles of weights a backend packed (PackedInt8, PackedSparse): a class that JS cannot
// construct, a type tag so look-alike objects are never unwrapped, shared ownership so
// a running async call keeps the weights alive through dispose() and GC, and external
// memory accounting for the GC.
#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "args.h"

namespace onnxforge::napi {

// The device of weights a backend packed; host-only weights (the float kernels') are on the CPU.
template <typename W>
auto weightsDevice(const W& w, int) -> decltype(w.backend.device()) {
  return w.backend.device();
}
template <typename W>
const char* weightsDevice(const W&, long) {
  return "cpu";
}

// Derived supplies: static const napi_type_tag kTag; static constexpr const char*
// kClassName, kFactory (the kernels.* function that makes it).
template <typename Derived, typename Weights>
class PackedHandle : public Napi::ObjectWrap<Derived> {
 public:
  using Property = typename Napi::ObjectWrap<Derived>::PropertyDescriptor;
  using Getter = Napi::Value (Derived::*)(const Napi::CallbackInfo&);

  // Wraps weights in a new object of the handle class `constructor`.
  static Napi::Object create(const Napi::FunctionReference& constructor, std::unique_ptr<Weights> weights) {
    pending() = std::move(weights);
    Napi::Object object = constructor.New({});
    pending().reset();
    return object;
  }

  // The weights of a live handle passed as `name`; TypeError otherwise.
  static std::shared_ptr<const Weights> weightsArg(Napi::Env env, Napi::Value value, const char* name) {
    if (!value.IsObject() || !value.As<Napi::Object>().CheckTypeTag(&Derived::kTag)) {
      throwTypeError(env, std::string(name) + " must be a " + Derived::kClassName + " (from kernels." +
                              Derived::kFactory + ")");
    }
    Derived* self = Napi::ObjectWrap<Derived>::Unwrap(value.As<Napi::Object>());
    if (!self->weights_) throwTypeError(env, std::string(name) + " (" + Derived::kClassName + ") has been disposed");
    return self->weights_;
  }

 protected:
  explicit PackedHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {
    if (!pending()) {
      throwTypeError(info.Env(), std::string(Derived::kClassName) + " cannot be constructed directly; use kernels." +
                                     Derived::kFactory + "()");
    }
    weights_ = std::shared_ptr<Weights>(std::move(pending()));
    device_ = weightsDevice(*weights_, 0);
    bytes_ = weights_->bytes();
    info.This().template As<Napi::Object>().TypeTag(&Derived::kTag);
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), static_cast<int64_t>(bytes_));
  }

  ~PackedHandle() override { release(); }

  // bytes, device, disposed and dispose(), which every handle has.
  static std::vector<Property> commonProperties() {
    return {Napi::ObjectWrap<Derived>::InstanceAccessor("bytes", static_cast<Getter>(&PackedHandle::bytes), nullptr),
            Napi::ObjectWrap<Derived>::InstanceAccessor("device", static_cast<Getter>(&PackedHandle::device), nullptr),
            Napi::ObjectWrap<Derived>::InstanceAccessor("disposed", static_cast<Getter>(&PackedHandle::disposed), nullptr),
            Napi::ObjectWrap<Derived>::InstanceMethod("dispose", static_cast<Getter>(&PackedHandle::dispose))};
  }

  // The weights, or nullptr once disposed.
  const Weights* weights() const { return weights_.get(); }

 private:
  static std::unique_ptr<Weights>& pending() {
    thread_local std::unique_ptr<Weights> weights;
    return weights;
  }

  void release() {
    if (!weights_) return;
    // Calls still running keep their own reference; the memory goes with the last one.
    weights_.reset();
    Napi::MemoryManagement::AdjustExternalMemory(this->Env(), -static_cast<int64_t>(bytes_));
  }

  Napi::Value bytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), weights_ ? static_cast<double>(bytes_) : 0.0);
  }
  Napi::Value device(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), device_); }
  Napi::Value disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !weights_); }
  Napi::Value dispose(const Napi::CallbackInfo& info) {
    release();
    return info.Env().Undefined();
  }

  std::shared_ptr<Weights> weights_;
  const char* device_ = "";  // kept after dispose(), like the shape
  size_t bytes_ = 0;
};

}  // namespace onnxforge::napi
