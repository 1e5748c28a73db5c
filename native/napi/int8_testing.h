// Hooks for the int8 tests and benchmark (exported as `_int8Internals`, not API).
#pragma once
#include <napi.h>

namespace onnxforge::napi {
void registerInt8Internals(Napi::Env env, Napi::Object exports);
}
