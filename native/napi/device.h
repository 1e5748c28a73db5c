// The backend a pack call asks for, and backend errors as JS errors.
#pragma once
#include <napi.h>

#include "backend.h"

namespace onnxforge::napi {

// opts.device of a pack call: 'cpu' (default), 'cuda' or 'auto', resolved by backendFor();
// a device that is not available is an Error saying why.
const Backend& backendArg(Napi::Env env, const Napi::Object& opts);

// Runs a backend call on the JS thread: its BackendErrors become JS Errors.
template <typename Fn>
auto backendCall(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const BackendError& error) {
    throw Napi::Error::New(env, error.what());
  }
}

}  // namespace onnxforge::napi
