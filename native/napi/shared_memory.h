// Bindings for shared memory regions between a process and its children (isolation 'process').
#pragma once
#include <napi.h>

namespace onnxforge::napi {
void registerSharedMemory(Napi::Env env, Napi::Object exports);
}
