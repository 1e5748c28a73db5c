#include <string>

#include "args.h"
#include "cuda_backend.h"
#include "device.h"
#include "internals.h"

namespace onnxforge::napi {
namespace {

// setInt8Kernel(kernel): forces the GPU's int8 GEMM kernel ('auto' picks by compute capability).
Napi::Value setInt8Kernel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireArgCount(info, 1, "setInt8Kernel(kernel)");
  std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (name == "auto") {
    cuda::setInt8Kernel(cuda::Int8Kernel::Auto);
  } else if (name == "mma") {
    cuda::setInt8Kernel(cuda::Int8Kernel::Mma);
  } else if (name == "dp4a") {
    cuda::setInt8Kernel(cuda::Int8Kernel::Dp4a);
  } else {
    throwTypeError(env, "kernel must be 'auto', 'mma' or 'dp4a'");
  }
  return env.Undefined();
}

// int8OpsPerSecond(size, runs): the int8 GEMM kernel alone on a size^3 product, best of `runs`.
Napi::Value int8OpsPerSecond(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireArgCount(info, 2, "int8OpsPerSecond(size, runs)");
  size_t size = static_cast<size_t>(intArg(env, info[0], "size", 64, 32768));
  int runs = static_cast<int>(intArg(env, info[1], "runs", 1, 1000));
  return Napi::Number::New(env, backendCall(env, [&] { return cuda::measureInt8OpsPerSecond(size, runs); }));
}

}  // namespace

void registerCudaInternals(Napi::Env env, Napi::Object exports) {
  Napi::Object internals = Napi::Object::New(env);
  internals.Set("setInt8Kernel", Napi::Function::New(env, setInt8Kernel, "setInt8Kernel"));
  internals.Set("int8OpsPerSecond", Napi::Function::New(env, int8OpsPerSecond, "int8OpsPerSecond"));
  exports.Set("_cudaInternals", internals);
}

}  // namespace onnxforge::napi
