// _floatInternals of the test addon: the float kernels' ISA and the FMA peak the float bench compares against.
#include "../../include/float_gemm.h"
#include "args.h"
#include "internals.h"

namespace onnxforge::napi {
namespace {

// peakFlopsPerSecond(seconds): float operations (2 per FMA) per second of the active
// ISA's multiply-add on the calling thread.
Napi::Value peakFlops(const Napi::CallbackInfo& info) {
  requireArgCount(info, 1, "peakFlopsPerSecond(seconds)");
  double seconds = numberArg(info.Env(), info[0], "seconds");
  if (seconds <= 0 || seconds > 10) throwRangeError(info.Env(), "seconds must be in (0, 10]");
  return Napi::Number::New(info.Env(), fgemm::measurePeakFlopsPerSecond(seconds));
}

Napi::Value floatIsa(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), isaName(fgemm::floatGemmIsa()));
}

}  // namespace

void registerFloatInternals(Napi::Env env, Napi::Object exports) {
  Napi::Object internals = Napi::Object::New(env);
  internals.Set("peakFlopsPerSecond", Napi::Function::New(env, peakFlops, "peakFlopsPerSecond"));
  internals.Set("isa", Napi::Function::New(env, floatIsa, "isa"));
  exports.Set("_floatInternals", internals);
}

}  // namespace onnxforge::napi
