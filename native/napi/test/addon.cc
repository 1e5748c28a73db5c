// The test addon, onnxforge_test.node (never shipped): the public API plus the hooks the
// tests and benchmarks use, as _int8Internals, _cudaInternals and _floatInternals (binding.d.ts's TestBinding).
#include <napi.h>

#include "public_api.h"
#include "internals.h"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  onnxforge::napi::registerPublicApi(env, exports);
  onnxforge::napi::registerInt8Internals(env, exports);
  onnxforge::napi::registerCudaInternals(env, exports);
  onnxforge::napi::registerFloatInternals(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(onnxforge_test, init)
