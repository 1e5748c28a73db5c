// Bindings for pruning and the sparse kernels: pruneMask and its async form.
#pragma once
#include <napi.h>

namespace onnxforge::napi {
void registerSparse(Napi::Env env, Napi::Object exports);
}
