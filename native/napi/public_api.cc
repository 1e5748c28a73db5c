#include "public_api.h"

#include "build_info.h"
#include "cuda.h"
#include "engine.h"
#include "files.h"
#include "float_gemm.h"
#include "int8.h"
#include "quant.h"
#include "shared_memory.h"
#include "sparse.h"
#include "system.h"

namespace onnxforge::napi {

void registerPublicApi(Napi::Env env, Napi::Object exports) {
  registerBuildInfo(env, exports);
  registerSystem(env, exports);
  registerInt8(env, exports);
  registerQuantize(env, exports);
  registerSparse(env, exports);
  registerCuda(env, exports);
  registerEngine(env, exports);
  registerFiles(env, exports);
  registerFloatGemm(env, exports);
  registerSharedMemory(env, exports);
}

}  // namespace onnxforge::napi
