// Bindings of the graph engine: engineWeights (a model's constants and packed linear
// layers), enginePlan (one shape signature's steps), plan.run / plan.runAsync.
#pragma once
#include <napi.h>

namespace onnxforge::napi {

void registerEngine(Napi::Env env, Napi::Object exports);

}  // namespace onnxforge::napi
