#include "cuda.h"

#include "args.h"

namespace onnxforge::napi {
namespace {

Napi::Value cudaAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), cuda::available());
}

Napi::Value cudaDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<cuda::DeviceInfo> devices = cuda::devices();
  Napi::Array list = Napi::Array::New(env, devices.size());
  for (size_t i = 0; i < devices.size(); ++i) {
    const cuda::DeviceInfo& d = devices[i];
    Napi::Object device = Napi::Object::New(env);
    device.Set("index", d.index);
    device.Set("name", d.name);
    device.Set("computeCapability", std::to_string(d.major) + "." + std::to_string(d.minor));
    device.Set("totalMemory", static_cast<double>(d.totalMemory));
    device.Set("multiprocessors", d.multiprocessors);
    device.Set("clockMHz", d.clockKHz / 1000.0);
    list.Set(static_cast<uint32_t>(i), device);
  }
  return list;
}

Napi::Value versionOrNull(Napi::Env env, int version) {
  if (version == 0) return env.Null();
  return Napi::String::New(env, std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10));
}

Napi::Value cudaInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const cuda::Status& s = cuda::status();
  Napi::Object result = Napi::Object::New(env);
  result.Set("compiled", s.compiled);
  result.Set("available", s.available);
  result.Set("reason", s.available ? env.Null() : Napi::String::New(env, s.reason));
  result.Set("runtimeVersion", versionOrNull(env, s.runtimeVersion));
  result.Set("driverVersion", versionOrNull(env, s.driverVersion));
  result.Set("architectures", s.compiled ? Napi::String::New(env, s.architectures) : env.Null());
  result.Set("device", s.available ? Napi::Number::New(env, s.device) : env.Null());
  result.Set("int8Kernel", cuda::int8KernelName());
  return result;
}

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

Napi::Value int8OpsPerSecond(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireArgCount(info, 2, "int8OpsPerSecond(size, runs)");
  size_t size = static_cast<size_t>(intArg(env, info[0], "size", 64, 32768));
  int runs = static_cast<int>(intArg(env, info[1], "runs", 1, 1000));
  return Napi::Number::New(env, cudaCall(env, [&] { return cuda::measureInt8OpsPerSecond(size, runs); }));
}

}  // namespace

bool wantsCuda(Napi::Env env, const Napi::Object& opts) {
  Napi::Value device = opts.Get("device");
  if (device.IsUndefined()) return false;
  std::string name = device.IsString() ? device.As<Napi::String>().Utf8Value() : "";
  if (name == "cpu") return false;
  if (name == "auto") return cuda::available();
  if (name != "cuda") throwTypeError(env, "opts.device must be 'cpu', 'cuda' or 'auto'");
  if (!cuda::available()) throw Napi::Error::New(env, "CUDA is not available: " + cuda::status().reason);
  return true;
}

void registerCuda(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaAvailable", Napi::Function::New(env, cudaAvailable, "cudaAvailable"));
  exports.Set("cudaDevices", Napi::Function::New(env, cudaDevices, "cudaDevices"));
  exports.Set("cudaInfo", Napi::Function::New(env, cudaInfo, "cudaInfo"));
  Napi::Object internals = Napi::Object::New(env);
  internals.Set("setInt8Kernel", Napi::Function::New(env, setInt8Kernel, "setInt8Kernel"));
  internals.Set("int8OpsPerSecond", Napi::Function::New(env, int8OpsPerSecond, "int8OpsPerSecond"));
  exports.Set("_cudaInternals", internals);
}

}  // namespace onnxforge::napi
