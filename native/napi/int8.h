// Bindings for the int8 kernels: packInt8Weights (PackedInt8 handles),
// matmulInteger, linearInt8 and their async forms.
#pragma once
#include <napi.h>

namespace onnxforge::napi {
void registerInt8(Napi::Env env, Napi::Object exports);
}
