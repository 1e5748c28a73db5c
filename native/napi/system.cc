#include "system.h"

#include "args.h"
#include "cpu_features.h"
#include "thread_pool.h"

namespace onnxforge::napi {
namespace {

Napi::Value cpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CpuFeatures& f = cpuFeatures();
  Napi::Object features = Napi::Object::New(env);
  features.Set("sse4.2", f.sse42);
  features.Set("avx", f.avx && f.osAvx);
  features.Set("avx2", f.avx2 && f.osAvx);
  features.Set("fma", f.fma && f.osAvx);
  features.Set("f16c", f.f16c && f.osAvx);
  features.Set("avx512f", f.avx512f && f.osAvx512);
  features.Set("avx512bw", f.avx512bw && f.osAvx512);
  features.Set("avx512vl", f.avx512vl && f.osAvx512);
  features.Set("avx512dq", f.avx512dq && f.osAvx512);
  features.Set("avx512vnni", f.avx512vnni && f.osAvx512);
  features.Set("avxvnni", f.avxvnni && f.osAvx);
  bool amxUsable = f.osAmx && f.amxPermission;
  features.Set("amx-tile", f.amxTile && amxUsable);
  features.Set("amx-int8", f.amxInt8 && amxUsable);
  features.Set("amx-bf16", f.amxBf16 && amxUsable);

  Napi::Object result = Napi::Object::New(env);
  result.Set("features", features);
  result.Set("isa", isaName(f.activeLevel));
  result.Set("detectedIsa", isaName(f.detectedLevel));
  result.Set("isaCap", f.isaCap.empty() ? env.Null() : Napi::String::New(env, f.isaCap));
  IsaLevel ignored;
  result.Set("isaCapValid", f.isaCap.empty() || parseIsaName(f.isaCap, &ignored));
  // The CPU advertises AMX but the OS (XCR0) or arch_prctl refused it.
  result.Set("amxDeniedByOs", f.amxTile && f.amxInt8 && !amxUsable);
  result.Set("logicalCores", f.logicalCores);
  result.Set("physicalCores", f.physicalCores);
  result.Set("threads", getNumThreads());
  return result;
}

Napi::Value getThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), getNumThreads());
}

Napi::Value setThreads(const Napi::CallbackInfo& info) {
  requireArgCount(info, 1, "setNumThreads(n)");
  int64_t n = intArg(info.Env(), info[0], "n", 1, 256);
  setNumThreads(static_cast<int>(n));
  return info.Env().Undefined();
}

}  // namespace

void registerSystem(Napi::Env env, Napi::Object exports) {
  exports.Set("cpuInfo", Napi::Function::New(env, cpuInfo, "cpuInfo"));
  exports.Set("getNumThreads", Napi::Function::New(env, getThreads, "getNumThreads"));
  exports.Set("setNumThreads", Napi::Function::New(env, setThreads, "setNumThreads"));
}

}  // namespace onnxforge::napi
