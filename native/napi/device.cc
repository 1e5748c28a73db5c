#include "device.h"

#include <string>

#include "args.h"

namespace onnxforge::napi {

const Backend& backendArg(Napi::Env env, const Napi::Object& opts) {
  Napi::Value device = opts.Get("device");
  DeviceRequest request = DeviceRequest::Cpu;
  if (!device.IsUndefined()) {
    std::string name = device.IsString() ? device.As<Napi::String>().Utf8Value() : "";
    if (!parseDeviceRequest(name, &request)) throwTypeError(env, "opts.device must be 'cpu', 'cuda' or 'auto'");
  }
  return backendCall(env, [&]() -> const Backend& { return backendFor(request); });
}

}  // namespace onnxforge::napi
