// Argument checks for every binding: a bad call throws TypeError/RangeError
// naming the argument, never reaches a kernel.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace onnxforge::napi {

[[noreturn]] void throwTypeError(Napi::Env env, const std::string& message);
[[noreturn]] void throwRangeError(Napi::Env env, const std::string& message);

// Throws TypeError unless at least `count` arguments were passed.
void requireArgCount(const Napi::CallbackInfo& info, size_t count, const char* signature);

// A dimension: a non-negative integer no larger than 2^53 - 1.
size_t dimArg(Napi::Env env, Napi::Value value, const char* name);
inline size_t dimArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  return dimArg(info.Env(), info[index], name);
}

// A finite number (float argument).
double numberArg(Napi::Env env, Napi::Value value, const char* name);
// An integer within [lo, hi].
int64_t intArg(Napi::Env env, Napi::Value value, const char* name, int64_t lo, int64_t hi);

// a * b * ..., throwing RangeError when the product does not fit in size_t.
size_t checkedProduct(Napi::Env env, std::initializer_list<size_t> factors, const char* what);

// A typed array of one of the given kinds; TypeError otherwise.
Napi::TypedArray typedArrayArg(Napi::Env env, Napi::Value value, const char* name,
                               std::initializer_list<napi_typedarray_type> kinds);

// A typed array of exactly `kind` and, unless expectedLength is SIZE_MAX, of that length.
template <typename T>
T* typedDataArg(Napi::Env env, Napi::Value value, const char* name, napi_typedarray_type kind,
                size_t expectedLength, size_t* lengthOut = nullptr);

// Throws TypeError when the typed array `value` no longer has `data` and `length` elements: an options
// getter or a Proxy trap resized or detached its buffer after the pointer was taken. Call it once every
// option has been read, before the pointer is used.
void requireUnchanged(Napi::Env env, Napi::Value value, const char* name, const void* data, size_t length);

// Throws RangeError when array.ElementLength() != expected.
void requireLength(Napi::Env env, const Napi::TypedArray& array, size_t expected, const char* name);

// An options object: undefined/null give an empty object, anything else non-object is a TypeError.
Napi::Object optionsArg(Napi::Env env, Napi::Value value, const char* name);

// Throws TypeError naming the first property of opts that is not in `known`
// (a misspelt option is an error, not silently ignored).
void requireKnownOptions(Napi::Env env, const Napi::Object& opts, const char* name,
                         std::initializer_list<const char*> known);

const char* typedArrayKindName(napi_typedarray_type kind);

template <typename T>
T* typedDataArg(Napi::Env env, Napi::Value value, const char* name, napi_typedarray_type kind,
                size_t expectedLength, size_t* lengthOut) {
  Napi::TypedArray array = typedArrayArg(env, value, name, {kind});
  if (expectedLength != SIZE_MAX) requireLength(env, array, expectedLength, name);
  if (lengthOut) *lengthOut = array.ElementLength();
  auto* bytes = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  return reinterpret_cast<T*>(bytes);
}

}  // namespace onnxforge::napi
