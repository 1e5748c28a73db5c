// The shipped addon, onnxforge.node: the public API only.
#include <napi.h>

#include "public_api.h"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  onnxforge::napi::registerPublicApi(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(onnxforge, init)
