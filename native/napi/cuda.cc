#include "cuda.h"

#include <string>
#include <vector>

#include "backend.h"
#include "cuda_backend.h"

namespace onnxforge::napi {
namespace {

Napi::Value cudaAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), cudaBackend().available());
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

}  // namespace

void registerCuda(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaAvailable", Napi::Function::New(env, cudaAvailable, "cudaAvailable"));
  exports.Set("cudaDevices", Napi::Function::New(env, cudaDevices, "cudaDevices"));
  exports.Set("cudaInfo", Napi::Function::New(env, cudaInfo, "cudaInfo"));
}

}  // namespace onnxforge::napi
