// Hooks of the test addon: _int8Internals (guard pages, the int8 ISA, peak rate) and
// _cudaInternals (the int8 GEMM kernel choice, its rate) and _floatInternals (the float ISA, its peak).
#pragma once
#include <napi.h>

namespace onnxforge::napi {
void registerInt8Internals(Napi::Env env, Napi::Object exports);
void registerCudaInternals(Napi::Env env, Napi::Object exports);
void registerFloatInternals(Napi::Env env, Napi::Object exports);
}
