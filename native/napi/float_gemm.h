// Bindings for the dense float kernels: packFloatWeights (PackedFloat handles),
// linearFloat and its async form, and the _floatInternals benchmark hooks.
#pragma once
#include <napi.h>

namespace onnxforge::napi {
void registerFloatGemm(Napi::Env env, Napi::Object exports);
}
