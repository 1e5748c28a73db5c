// Bindings for quantize, dequantize and quantParams.
#pragma once
#include <napi.h>

namespace onnxforge::napi {
void registerQuantize(Napi::Env env, Napi::Object exports);
}
