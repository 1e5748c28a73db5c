// Module registration: each napi/ file registers its own bindings.
#include <napi.h>

#include "napi/system.h"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  onnxforge::napi::registerSystem(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(onnxforge, init)
