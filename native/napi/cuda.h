// Bindings for the CUDA backend (cudaAvailable, cudaDevices, cudaInfo) and the pieces
// the kernel bindings share to put weights on the GPU.
#pragma once
#include <napi.h>

#include "cuda_backend.h"

namespace onnxforge::napi {

void registerCuda(Napi::Env env, Napi::Object exports);

// opts.device of a pack call: whether the weights go to the GPU. 'cpu' (default): no;
// 'auto': when CUDA is available; 'cuda': yes, or an Error saying why CUDA is not available.
bool wantsCuda(Napi::Env env, const Napi::Object& opts);

// Runs a CUDA backend call on the JS thread: its errors become JS Errors.
template <typename Fn>
auto cudaCall(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const cuda::Error& error) {
    throw Napi::Error::New(env, error.what());
  }
}

}  // namespace onnxforge::napi
