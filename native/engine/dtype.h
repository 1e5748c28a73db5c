// Element types the engine moves and computes, numbered as ONNX TensorProto.DataType.
#pragma once
#include <cstddef>
#include <cstdint>

namespace onnxforge::engine {

enum class DType : uint8_t {
  Float32 = 1, Uint8 = 2, Int8 = 3, Int32 = 6, Int64 = 7, Bool = 9,
};

inline size_t dtypeSize(DType t) {
  switch (t) {
    case DType::Float32: case DType::Int32: return 4;
    case DType::Int64: return 8;
    case DType::Uint8: case DType::Int8: case DType::Bool: return 1;
  }
  return 0;
}

// Only the values above; anything else is refused at plan creation.
inline bool isEngineDType(int code) {
  switch (code) {
    case 1: case 2: case 3: case 6: case 7: case 9: return true;
    default: return false;
  }
}

const char* dtypeName(DType t);

}  // namespace onnxforge::engine
