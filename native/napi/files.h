// readFileLarge: a file's bytes for the model loader, in memory that costs few page faults.
#pragma once
#include <napi.h>

namespace onnxforge::napi {

void registerFiles(Napi::Env env, Napi::Object exports);

}  // namespace onnxforge::napi
