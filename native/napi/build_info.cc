#include "build_info.h"

#include <string>

#include "build_config.h"  // written by CMake from package.json and the build's settings

namespace onnxforge::napi {
namespace {

// The version behind a fixed prefix, so it can be found in the binary (test/install makes an
// addon of "another version" by rewriting it).
constexpr char kVersionTag[] = "onnxforge-version:" ONNXFORGE_VERSION;
constexpr size_t kVersionPrefix = sizeof("onnxforge-version:") - 1;

Napi::Value stringOrNull(Napi::Env env, const char* text) {
  if (text[0] == '\0') return env.Null();
  return Napi::String::New(env, text);
}

Napi::Array isaPaths(Napi::Env env) {
  Napi::Array paths = Napi::Array::New(env);
  std::string list = ONNXFORGE_BUILD_ISA_PATHS;
  size_t start = 0;
  for (uint32_t i = 0; start <= list.size(); ++i) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    paths.Set(i, list.substr(start, end - start));
    start = end + 1;
  }
  return paths;
}

Napi::Value buildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("version", kVersionTag + kVersionPrefix);
  result.Set("napiVersion", NAPI_VERSION);
  result.Set("target", ONNXFORGE_BUILD_TARGET);
  result.Set("compiler", ONNXFORGE_BUILD_COMPILER);
  result.Set("buildType", ONNXFORGE_BUILD_TYPE);
  result.Set("isaPaths", isaPaths(env));
  result.Set("cuda", stringOrNull(env, ONNXFORGE_BUILD_CUDA));
  result.Set("glibcFloor", stringOrNull(env, ONNXFORGE_BUILD_GLIBC_FLOOR));
  return result;
}

}  // namespace

void registerBuildInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("buildInfo", Napi::Function::New(env, buildInfo, "buildInfo"));
}

}  // namespace onnxforge::napi
