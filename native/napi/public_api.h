// Everything the shipped addon exports (binding.d.ts's NativeBinding); the test addon
// exports the same plus its hooks.
#pragma once
#include <napi.h>

namespace onnxforge::napi {
void registerPublicApi(Napi::Env env, Napi::Object exports);
}
