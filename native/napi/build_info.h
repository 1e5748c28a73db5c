// Binding for buildInfo(): the addon's version and how it was built.
#pragma once
#include <napi.h>

namespace onnxforge::napi {
void registerBuildInfo(Napi::Env env, Napi::Object exports);
}
