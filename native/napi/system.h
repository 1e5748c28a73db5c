// Bindings for cpuInfo and the thread pool size.
#pragma once
#include <napi.h>

namespace onnxforge::napi {
void registerSystem(Napi::Env env, Napi::Object exports);
}
