// Element-wise steps: Binary (arithmetic, comparison, logic, with broadcasting), Unary,
// Where and Cast.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "../float_kernels.h"
#include "../op_kernel.h"
#include "broadcast.h"

namespace onnxforge::engine {
namespace {

bool isComparison(BinaryKind k) { return k >= BinaryKind::Equal && k <= BinaryKind::GreaterOrEqual; }
bool isLogic(BinaryKind k) { return k >= BinaryKind::And && k <= BinaryKind::Xor; }

BinaryKind binaryKind(const Step& step) {
  requireInts(step, 1);
  if (step.ints[0] < 0 || step.ints[0] >= static_cast<int64_t>(BinaryKind::Count)) planError(step, "unknown binary kind");
  return static_cast<BinaryKind>(step.ints[0]);
}

// --- Binary: ints = [kind, broadcast layout of a and b].
void checkBinary(const Step& step, const Plan& plan) {
  requireArity(step, 2, 2, 1);
  BinaryKind kind = binaryKind(step);
  const ValueSlot& a = valueOf(step, plan, step.inputs[0], "a");
  const ValueSlot& b = valueOf(step, plan, step.inputs[1], "b");
  const ValueSlot& out = valueOf(step, plan, step.outputs[0], "output");
  requireDType(step, b, a.dtype, "b");
  if (isLogic(kind)) {
    requireDType(step, a, DType::Bool, "a");
  } else if (kind == BinaryKind::Equal) {
    if (a.dtype == DType::Uint8 || a.dtype == DType::Int8) planError(step, "Equal of 8-bit integers is not supported");
  } else if (a.dtype != DType::Float32 && a.dtype != DType::Int32 && a.dtype != DType::Int64) {
    planError(step, "arithmetic and ordering need float32, int32 or int64");
  }
  if (kind == BinaryKind::Pow && a.dtype != DType::Float32) planError(step, "Pow needs float32");
  if (kind == BinaryKind::Mod) planError(step, "Mod is not supported");
  requireDType(step, out, isComparison(kind) || isLogic(kind) ? DType::Bool : a.dtype, "output");
  Broadcast layout = broadcastParam(step, plan, 1, step.inputs.data(), 2);
  requireCount(step, out, layout.count(), "output");
}

// Integer division that neither traps on a zero divisor nor overflows on MIN / -1.
template <typename T>
T safeDivide(T a, T b, std::atomic<bool>& divideByZero) {
  if (b == 0) {
    divideByZero.store(true, std::memory_order_relaxed);
    return 0;
  }
  if (b == -1) return static_cast<T>(0 - static_cast<std::make_unsigned_t<T>>(a));
  return a / b;
}

template <typename T, typename R, typename F>
void broadcastLoop(const Broadcast& layout, const T* a, const T* b, R* out, F f) {
  const size_t inner = layout.inner(), rows = layout.rows();
  const size_t sa = layout.strides[0][layout.rank - 1], sb = layout.strides[1][layout.rank - 1];
  parallelRange(rows, static_cast<double>(inner), [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const T* pa = a + layout.rowOffset(0, r);
      const T* pb = b + layout.rowOffset(1, r);
      R* po = out + r * inner;
      if (sa == 1 && sb == 1) {
        for (size_t i = 0; i < inner; ++i) po[i] = f(pa[i], pb[i]);
      } else if (sa == 1 && sb == 0) {
        const T vb = pb[0];
        for (size_t i = 0; i < inner; ++i) po[i] = f(pa[i], vb);
      } else if (sa == 0 && sb == 1) {
        const T va = pa[0];
        for (size_t i = 0; i < inner; ++i) po[i] = f(va, pb[i]);
      } else {
        for (size_t i = 0; i < inner; ++i) po[i] = f(pa[i * sa], pb[i * sb]);
      }
    }
  });
}

bool scalarOperand(const Broadcast& l, size_t operand) {
  for (size_t d = 0; d < l.rank; ++d) if (l.strides[operand][d] != 0) return false;
  return true;
}

template <typename T>
void binaryTyped(BinaryKind kind, const Broadcast& l, const T* a, const T* b, void* out) {
  T* o = static_cast<T*>(out);
  bool* flag = static_cast<bool*>(out);
  switch (kind) {
    case BinaryKind::Add: broadcastLoop(l, a, b, o, [](T x, T y) { return static_cast<T>(x + y); }); return;
    case BinaryKind::Sub: broadcastLoop(l, a, b, o, [](T x, T y) { return static_cast<T>(x - y); }); return;
    case BinaryKind::Mul: broadcastLoop(l, a, b, o, [](T x, T y) { return static_cast<T>(x * y); }); return;
    case BinaryKind::Div:
      if constexpr (std::is_floating_point_v<T>) {
        broadcastLoop(l, a, b, o, [](T x, T y) { return x / y; });
      } else {
        std::atomic<bool> divideByZero{false};
        broadcastLoop(l, a, b, o, [&](T x, T y) { return safeDivide(x, y, divideByZero); });
        if (divideByZero.load()) throw RunError("Div: integer division by zero");
      }
      return;
    case BinaryKind::Pow:
      if constexpr (std::is_floating_point_v<T>) {
        if (scalarOperand(l, 1) && b[0] == 2.0f) {
          broadcastLoop(l, a, b, o, [](T x, T) { return x * x; });
        } else {
          broadcastLoop(l, a, b, o, [](T x, T y) { return std::pow(x, y); });
        }
      }
      return;
    case BinaryKind::Max:
      broadcastLoop(l, a, b, o, [](T x, T y) {
        if constexpr (std::is_floating_point_v<T>) if (x != x || y != y) return std::numeric_limits<T>::quiet_NaN();
        return std::max(x, y);
      });
      return;
    case BinaryKind::Min:
      broadcastLoop(l, a, b, o, [](T x, T y) {
        if constexpr (std::is_floating_point_v<T>) if (x != x || y != y) return std::numeric_limits<T>::quiet_NaN();
        return std::min(x, y);
      });
      return;
    case BinaryKind::Equal: broadcastLoop(l, a, b, flag, [](T x, T y) { return x == y; }); return;
    case BinaryKind::Less: broadcastLoop(l, a, b, flag, [](T x, T y) { return x < y; }); return;
    case BinaryKind::Greater: broadcastLoop(l, a, b, flag, [](T x, T y) { return x > y; }); return;
    case BinaryKind::LessOrEqual: broadcastLoop(l, a, b, flag, [](T x, T y) { return x <= y; }); return;
    case BinaryKind::GreaterOrEqual: broadcastLoop(l, a, b, flag, [](T x, T y) { return x >= y; }); return;
    default: return;
  }
}

void binaryBool(BinaryKind kind, const Broadcast& l, const uint8_t* a, const uint8_t* b, uint8_t* o) {
  switch (kind) {
    case BinaryKind::And: broadcastLoop(l, a, b, o, [](uint8_t x, uint8_t y) -> uint8_t { return x && y; }); return;
    case BinaryKind::Or: broadcastLoop(l, a, b, o, [](uint8_t x, uint8_t y) -> uint8_t { return x || y; }); return;
    case BinaryKind::Xor: broadcastLoop(l, a, b, o, [](uint8_t x, uint8_t y) -> uint8_t { return (x != 0) != (y != 0); }); return;
    case BinaryKind::Equal: broadcastLoop(l, a, b, o, [](uint8_t x, uint8_t y) -> uint8_t { return (x != 0) == (y != 0); }); return;
    default: return;
  }
}

void runBinary(const Step& step, RunState& state) {
  const BinaryKind kind = static_cast<BinaryKind>(step.ints[0]);
  const Broadcast l = broadcastAt(step, 1, 2);
  if (l.count() == 0) return;
  const ValueSlot& a = state.plan.values[static_cast<size_t>(step.inputs[0])];
  void* out = state.at<void>(step.outputs[0]);
  switch (a.dtype) {
    case DType::Float32: binaryTyped(kind, l, state.at<float>(step.inputs[0]), state.at<float>(step.inputs[1]), out); return;
    case DType::Int32: binaryTyped(kind, l, state.at<int32_t>(step.inputs[0]), state.at<int32_t>(step.inputs[1]), out); return;
    case DType::Int64: binaryTyped(kind, l, state.at<int64_t>(step.inputs[0]), state.at<int64_t>(step.inputs[1]), out); return;
    case DType::Bool:
      binaryBool(kind, l, state.at<uint8_t>(step.inputs[0]), state.at<uint8_t>(step.inputs[1]), static_cast<uint8_t*>(out));
      return;
    default: return;
  }
}

// --- Unary: ints = [kind], floats = [alpha, beta] (Clip bounds, LeakyRelu/HardSigmoid factors).
UnaryKind unaryKind(const Step& step) {
  requireInts(step, 1);
  if (step.ints[0] < 0 || step.ints[0] >= static_cast<int64_t>(UnaryKind::Count)) planError(step, "unknown unary kind");
  return static_cast<UnaryKind>(step.ints[0]);
}

bool integerUnary(UnaryKind k) {
  return k == UnaryKind::Identity || k == UnaryKind::Neg || k == UnaryKind::Abs || k == UnaryKind::Relu ||
         k == UnaryKind::Sign || k == UnaryKind::Clip;
}

void checkUnary(const Step& step, const Plan& plan) {
  requireArity(step, 1, 1, 1);
  UnaryKind kind = unaryKind(step);
  const ValueSlot& in = valueOf(step, plan, step.inputs[0], "input");
  const ValueSlot& out = valueOf(step, plan, step.outputs[0], "output");
  requireDType(step, out, in.dtype, "output");
  requireCount(step, out, in.count, "output");
  if (kind == UnaryKind::Not) {
    requireDType(step, in, DType::Bool, "input");
  } else if (in.dtype != DType::Float32 && !((in.dtype == DType::Int32 || in.dtype == DType::Int64) && integerUnary(kind))) {
    planError(step, std::string("this kind does not take ") + dtypeName(in.dtype));
  }
  if (kind == UnaryKind::Clip || kind == UnaryKind::LeakyRelu || kind == UnaryKind::HardSigmoid) requireFloats(step, 2);
}

template <typename T>
void integerUnaryRun(UnaryKind kind, const T* x, T* y, size_t n, double lo, double hi) {
  using U = std::make_unsigned_t<T>;
  for (size_t i = 0; i < n; ++i) {
    T v = x[i];
    switch (kind) {
      case UnaryKind::Neg: y[i] = static_cast<T>(0 - static_cast<U>(v)); break;
      case UnaryKind::Abs: y[i] = v < 0 ? static_cast<T>(0 - static_cast<U>(v)) : v; break;
      case UnaryKind::Relu: y[i] = v > 0 ? v : 0; break;
      case UnaryKind::Sign: y[i] = static_cast<T>((v > 0) - (v < 0)); break;
      case UnaryKind::Clip: y[i] = static_cast<double>(v) < lo ? static_cast<T>(lo) : static_cast<double>(v) > hi ? static_cast<T>(hi) : v; break;
      default: y[i] = v; break;
    }
  }
}

void runUnary(const Step& step, RunState& state) {
  const UnaryKind kind = static_cast<UnaryKind>(step.ints[0]);
  const ValueSlot& in = state.plan.values[static_cast<size_t>(step.inputs[0])];
  const float alpha = step.floats.size() > 0 ? step.floats[0] : 0.0f;
  const float beta = step.floats.size() > 1 ? step.floats[1] : 0.0f;
  const size_t n = in.count;
  constexpr size_t kBlock = 4096;
  const size_t blocks = (n + kBlock - 1) / kBlock;
  parallelRange(blocks, kBlock * 4.0, [&](size_t b0, size_t b1) {
    const size_t i0 = b0 * kBlock, i1 = std::min(n, b1 * kBlock);
    switch (in.dtype) {
      case DType::Float32:
        unaryFloat(kind, state.at<float>(step.inputs[0]) + i0, state.at<float>(step.outputs[0]) + i0, i1 - i0, alpha, beta);
        return;
      case DType::Int32:
        integerUnaryRun(kind, state.at<int32_t>(step.inputs[0]) + i0, state.at<int32_t>(step.outputs[0]) + i0, i1 - i0, alpha, beta);
        return;
      case DType::Int64:
        integerUnaryRun(kind, state.at<int64_t>(step.inputs[0]) + i0, state.at<int64_t>(step.outputs[0]) + i0, i1 - i0, alpha, beta);
        return;
      case DType::Bool: {
        const auto* x = state.at<uint8_t>(step.inputs[0]);
        auto* y = state.at<uint8_t>(step.outputs[0]);
        for (size_t i = i0; i < i1; ++i) y[i] = !x[i];
        return;
      }
      default: return;
    }
  });
}

// --- Where: inputs condition (bool), x, y; ints = broadcast layout of the three.
void checkWhere(const Step& step, const Plan& plan) {
  requireArity(step, 3, 3, 1);
  const ValueSlot& c = valueOf(step, plan, step.inputs[0], "condition");
  const ValueSlot& x = valueOf(step, plan, step.inputs[1], "x");
  const ValueSlot& y = valueOf(step, plan, step.inputs[2], "y");
  const ValueSlot& out = valueOf(step, plan, step.outputs[0], "output");
  requireDType(step, c, DType::Bool, "condition");
  requireDType(step, y, x.dtype, "y");
  requireDType(step, out, x.dtype, "output");
  Broadcast layout = broadcastParam(step, plan, 0, step.inputs.data(), 3);
  requireCount(step, out, layout.count(), "output");
}

template <typename T>
void where(const Broadcast& l, const uint8_t* c, const T* x, const T* y, T* out) {
  const size_t inner = l.inner();
  const size_t sc = l.strides[0][l.rank - 1], sx = l.strides[1][l.rank - 1], sy = l.strides[2][l.rank - 1];
  parallelRange(l.rows(), static_cast<double>(inner), [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const uint8_t* pc = c + l.rowOffset(0, r);
      const T* px = x + l.rowOffset(1, r);
      const T* py = y + l.rowOffset(2, r);
      T* po = out + r * inner;
      for (size_t i = 0; i < inner; ++i) po[i] = pc[i * sc] ? px[i * sx] : py[i * sy];
    }
  });
}

void runWhere(const Step& step, RunState& state) {
  const Broadcast l = broadcastAt(step, 0, 3);
  if (l.count() == 0) return;
  const ValueSlot& x = state.plan.values[static_cast<size_t>(step.inputs[1])];
  const auto* c = state.at<uint8_t>(step.inputs[0]);
  switch (dtypeSize(x.dtype)) {
    case 1: where(l, c, state.at<uint8_t>(step.inputs[1]), state.at<uint8_t>(step.inputs[2]), state.at<uint8_t>(step.outputs[0])); return;
    case 4: where(l, c, state.at<uint32_t>(step.inputs[1]), state.at<uint32_t>(step.inputs[2]), state.at<uint32_t>(step.outputs[0])); return;
    default: where(l, c, state.at<uint64_t>(step.inputs[1]), state.at<uint64_t>(step.inputs[2]), state.at<uint64_t>(step.outputs[0])); return;
  }
}

// --- Cast between the engine's types. Float to integer truncates toward zero; NaN and
// values out of the target's range give the target's minimum (what x86 conversion does).
void checkCast(const Step& step, const Plan& plan) {
  requireArity(step, 1, 1, 1);
  const ValueSlot& in = valueOf(step, plan, step.inputs[0], "input");
  const ValueSlot& out = valueOf(step, plan, step.outputs[0], "output");
  requireCount(step, out, in.count, "output");
}

template <typename To>
To castFloat(float v) {
  if constexpr (std::is_same_v<To, float>) {
    return v;
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != 0.0f;
  } else {
    constexpr double lo = static_cast<double>(std::numeric_limits<To>::min());
    constexpr double hi = static_cast<double>(std::numeric_limits<To>::max());
    const double d = static_cast<double>(v);
    if (!(d >= lo && d < hi + 1.0)) return std::numeric_limits<To>::min();
    return static_cast<To>(d);
  }
}

template <typename From, typename To>
void castValues(const From* x, To* y, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<From, float>) {
      y[i] = castFloat<To>(x[i]);
    } else if constexpr (std::is_same_v<To, bool>) {
      y[i] = x[i] != 0;
    } else {
      y[i] = static_cast<To>(x[i]);
    }
  }
}

template <typename From>
void castFrom(DType to, const From* x, void* y, size_t n) {
  switch (to) {
    case DType::Float32: castValues(x, static_cast<float*>(y), n); return;
    case DType::Uint8: castValues(x, static_cast<uint8_t*>(y), n); return;
    case DType::Int8: castValues(x, static_cast<int8_t*>(y), n); return;
    case DType::Int32: castValues(x, static_cast<int32_t*>(y), n); return;
    case DType::Int64: castValues(x, static_cast<int64_t*>(y), n); return;
    case DType::Bool: castValues(x, static_cast<bool*>(y), n); return;
  }
}

void runCast(const Step& step, RunState& state) {
  const ValueSlot& in = state.plan.values[static_cast<size_t>(step.inputs[0])];
  const ValueSlot& out = state.plan.values[static_cast<size_t>(step.outputs[0])];
  const void* x = state.at<void>(step.inputs[0]);
  void* y = state.at<void>(step.outputs[0]);
  const size_t n = in.count;
  switch (in.dtype) {
    case DType::Float32: castFrom(out.dtype, static_cast<const float*>(x), y, n); return;
    case DType::Uint8: castFrom(out.dtype, static_cast<const uint8_t*>(x), y, n); return;
    case DType::Int8: castFrom(out.dtype, static_cast<const int8_t*>(x), y, n); return;
    case DType::Int32: castFrom(out.dtype, static_cast<const int32_t*>(x), y, n); return;
    case DType::Int64: castFrom(out.dtype, static_cast<const int64_t*>(x), y, n); return;
    case DType::Bool: castFrom(out.dtype, static_cast<const bool*>(x), y, n); return;
  }
}

}  // namespace

extern const OpKernel kBinaryKernel{checkBinary, runBinary};
extern const OpKernel kUnaryKernel{checkUnary, runUnary};
extern const OpKernel kWhereKernel{checkWhere, runWhere};
extern const OpKernel kCastKernel{checkCast, runCast};

}  // namespace onnxforge::engine
