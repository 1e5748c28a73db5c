#include "args.h"

#include <cmath>

namespace onnxforge::napi {

void throwTypeError(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

void throwRangeError(Napi::Env env, const std::string& message) {
  throw Napi::RangeError::New(env, message);
}

void requireArgCount(const Napi::CallbackInfo& info, size_t count, const char* signature) {
  if (info.Length() < count) {
    throwTypeError(info.Env(), std::string("expected ") + std::to_string(count) +
                                   " arguments: " + signature + ", got " +
                                   std::to_string(info.Length()));
  }
}

size_t dimArg(Napi::Env env, Napi::Value value, const char* name) {
  if (!value.IsNumber()) throwTypeError(env, std::string(name) + " must be a number");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d)) {
    throwRangeError(env, std::string(name) + " must be an integer, got " + std::to_string(d));
  }
  if (d < 0 || d > 9007199254740991.0) {
    throwRangeError(env, std::string(name) + " must be a non-negative safe integer, got " +
                             std::to_string(d));
  }
  return static_cast<size_t>(d);
}

double numberArg(Napi::Env env, Napi::Value value, const char* name) {
  if (!value.IsNumber()) throwTypeError(env, std::string(name) + " must be a number");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) throwRangeError(env, std::string(name) + " must be finite");
  return d;
}

int64_t intArg(Napi::Env env, Napi::Value value, const char* name, int64_t lo, int64_t hi) {
  double d = numberArg(env, value, name);
  if (d != std::floor(d) || d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
    throwRangeError(env, std::string(name) + " must be an integer in [" + std::to_string(lo) +
                             ", " + std::to_string(hi) + "], got " + std::to_string(d));
  }
  return static_cast<int64_t>(d);
}

size_t checkedProduct(Napi::Env env, std::initializer_list<size_t> factors, const char* what) {
  size_t product = 1;
  for (size_t f : factors) {
    if (f != 0 && product > SIZE_MAX / f) {
      throwRangeError(env, std::string(what) + " is too large (size overflow)");
    }
    product *= f;
  }
  return product;
}

const char* typedArrayKindName(napi_typedarray_type kind) {
  switch (kind) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: break;
  }
  return "TypedArray";
}

Napi::TypedArray typedArrayArg(Napi::Env env, Napi::Value value, const char* name,
                               std::initializer_list<napi_typedarray_type> kinds) {
  std::string allowed;
  for (auto kind : kinds) {
    if (!allowed.empty()) allowed += " or ";
    allowed += typedArrayKindName(kind);
  }
  if (!value.IsTypedArray()) throwTypeError(env, std::string(name) + " must be a " + allowed);
  auto array = value.As<Napi::TypedArray>();
  for (auto kind : kinds) {
    if (array.TypedArrayType() == kind) return array;
  }
  throwTypeError(env, std::string(name) + " must be a " + allowed + ", got " +
                          typedArrayKindName(array.TypedArrayType()));
}

void requireUnchanged(Napi::Env env, Napi::Value value, const char* name, const void* data, size_t length) {
  napi_typedarray_type type;
  size_t now = 0;
  void* where = nullptr;
  napi_value buffer;
  size_t offset = 0;
  const bool ok = value.IsTypedArray() &&
                  napi_get_typedarray_info(env, value, &type, &now, &where, &buffer, &offset) == napi_ok;
  if (!ok || now != length || (length > 0 && where != data)) {
    throwTypeError(env, std::string(name) + "'s buffer was resized or detached while the options were read; "
                                            "pass an array whose buffer nothing changes during the call");
  }
}

void requireLength(Napi::Env env, const Napi::TypedArray& array, size_t expected,
                   const char* name) {
  if (array.ElementLength() != expected) {
    throwRangeError(env, std::string(name) + " has length " +
                             std::to_string(array.ElementLength()) + ", expected " +
                             std::to_string(expected));
  }
}

Napi::Object optionsArg(Napi::Env env, Napi::Value value, const char* name) {
  if (value.IsUndefined() || value.IsNull()) return Napi::Object::New(env);
  if (!value.IsObject() || value.IsArray() || value.IsTypedArray()) {
    throwTypeError(env, std::string(name) + " must be an object");
  }
  return value.As<Napi::Object>();
}

void requireKnownOptions(Napi::Env env, const Napi::Object& opts, const char* name,
                         std::initializer_list<const char*> known) {
  Napi::Array keys = opts.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    std::string key = keys.Get(i).ToString().Utf8Value();
    bool found = false;
    for (const char* k : known) found = found || key == k;
    if (found) continue;
    std::string list;
    for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    throwTypeError(env, std::string(name) + " has an unknown option '" + key + "' (known: " + list + ")");
  }
}

}  // namespace onnxforge::napi
