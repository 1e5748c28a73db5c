// The engine's step kinds, named once. The TypeScript lowering refers to them by name.
#pragma once
#include <cstdint>
#include <string>

namespace onnxforge::engine {

#define ONNXFORGE_ENGINE_OPS(X) \
  X(Copy)                       \
  X(StridedCopy)                \
  X(Binary)                     \
  X(Unary)                      \
  X(Where)                      \
  X(Cast)                       \
  X(Concat)                     \
  X(Gather)                     \
  X(MatMul)                     \
  X(Linear)                     \
  X(Attention)                  \
  X(Softmax)                    \
  X(LayerNorm)                  \
  X(Reduce)                     \
  X(QuantizeLinear)             \
  X(DequantizeLinear)           \
  X(DynamicQuantizeLinear)     \
  X(QuantizeLookup)            \
  X(Conv)                      \
  X(QConv)                     \
  X(DepthwiseConv)             \
  X(ConvTranspose)             \
  X(Pool)                      \
  X(Resize)                    \
  X(Pad)

enum class Op : uint16_t {
#define ONNXFORGE_ENGINE_OP_ENUM(name) name,
  ONNXFORGE_ENGINE_OPS(ONNXFORGE_ENGINE_OP_ENUM)
#undef ONNXFORGE_ENGINE_OP_ENUM
  Count
};

const char* opName(Op op);
// False for an unknown name.
bool parseOpName(const std::string& name, Op* out);

// Sub-kinds carried in ints[0] of Binary, Unary and Reduce steps.
enum class BinaryKind : int64_t {
  Add, Sub, Mul, Div, Pow, Max, Min, Mod,
  Equal, Less, Greater, LessOrEqual, GreaterOrEqual, And, Or, Xor, Count
};
enum class UnaryKind : int64_t {
  Identity, Relu, Sigmoid, Tanh, Erf, Sqrt, Exp, Log, Neg, Abs, Reciprocal, Not,
  Gelu, GeluTanh, Clip, LeakyRelu, HardSigmoid, HardSwish, Softplus, Floor, Ceil, Round,
  Sin, Cos, Sign, Count
};
enum class ReduceKind : int64_t { Mean, Sum, Max, Min, Prod, SumSquare, L2, Count };
// What follows the product in a Linear step (the GEMM epilogue).
enum class Activation : int64_t { None, Relu, Gelu, GeluTanh, Tanh, Sigmoid, Relu6, HardSwish, Count };

}  // namespace onnxforge::engine
