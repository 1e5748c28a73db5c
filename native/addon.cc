// Module registration: each napi/ file registers its own bindings.
#include <napi.h>

#include "napi/cuda.h"
#include "napi/float_gemm.h"
#include "napi/int8.h"
#include "napi/int8_testing.h"
#include "napi/quant.h"
#include "napi/sparse.h"
#include "napi/system.h"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  onnxforge::napi::registerSystem(env, exports);
  onnxforge::napi::registerInt8(env, exports);
  onnxforge::napi::registerQuantize(env, exports);
  onnxforge::napi::registerInt8Internals(env, exports);
  onnxforge::napi::registerSparse(env, exports);
  onnxforge::napi::registerCuda(env, exports);
  onnxforge::napi::registerFloatGemm(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(onnxforge, init)
