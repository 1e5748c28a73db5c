// Bindings for what the CUDA backend found: cudaAvailable, cudaDevices, cudaInfo.
#pragma once
#include <napi.h>

namespace onnxforge::napi {
void registerCuda(Napi::Env env, Napi::Object exports);
}
