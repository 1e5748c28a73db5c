// Bindings for pruning and the sparse kernels: pruneMask, packSparse (PackedSparse
// handles), matmulSparse, linearSparseInt8 and their async forms.
#pragma once
#include <napi.h>

namespace onnxforge::napi {
void registerSparse(Napi::Env env, Napi::Object exports);
}
