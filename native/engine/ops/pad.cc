// Pad (ONNX modes constant, reflect, edge, wrap; negative pads crop) of a packed tensor of any
// engine type. Each output row maps to one input row (or to the constant); inside a row the part
// that lies within the input is one memcpy and only the margins are mapped element by element.
#include <cmath>
#include <cstring>
#include <vector>

#include "../op_kernel.h"

namespace onnxforge::engine {
namespace {

constexpr size_t kMaxRank = 8;
enum class PadMode : int64_t { Constant, Reflect, Edge, Wrap, Count };

// ints = [rank, mode, inDims[rank], outDims[rank], begins[rank]] (begins may be negative);
// floats = [constant value].
struct PadLayout {
  size_t rank = 0;
  PadMode mode = PadMode::Constant;
  size_t in[kMaxRank] = {}, out[kMaxRank] = {};
  int64_t begin[kMaxRank] = {};
};

PadLayout padLayout(const Step& step) {
  PadLayout l;
  l.rank = static_cast<size_t>(step.ints[0]);
  l.mode = static_cast<PadMode>(step.ints[1]);
  for (size_t d = 0; d < l.rank; ++d) {
    l.in[d] = static_cast<size_t>(step.ints[2 + d]);
    l.out[d] = static_cast<size_t>(step.ints[2 + l.rank + d]);
    l.begin[d] = step.ints[2 + 2 * l.rank + d];
  }
  return l;
}

void checkPad(const Step& step, const Plan& plan) {
  requireArity(step, 1, 1, 1);
  const size_t rank = sizeParam(step, 0);
  if (rank < 1 || rank > kMaxRank) planError(step, "rank must be 1-" + std::to_string(kMaxRank));
  requireInts(step, 2 + 3 * rank);
  requireFloats(step, 1);
  if (step.ints[1] < 0 || step.ints[1] >= static_cast<int64_t>(PadMode::Count)) planError(step, "unknown mode");
  const PadLayout l = padLayout(step);
  for (size_t d = 0; d < rank; ++d) {
    sizeParam(step, 2 + d);
    sizeParam(step, 2 + rank + d);
    const int64_t b = l.begin[d];
    if (b < -(int64_t{1} << 48) || b > (int64_t{1} << 48)) planError(step, "padding out of range");
    if (l.mode != PadMode::Constant && l.in[d] == 0 && l.out[d] != 0) planError(step, "only constant padding can fill an empty axis");
  }
  const ValueSlot& x = valueOf(step, plan, step.inputs[0], "x");
  const ValueSlot& y = valueOf(step, plan, step.outputs[0], "y");
  requireDType(step, y, x.dtype, "y");
  requireCount(step, x, productParam(step, 2, rank), "x");
  requireCount(step, y, productParam(step, 2 + rank, rank), "y");
}

// Input index of output index o on an axis, or -1 for the constant.
int64_t sourceIndex(const PadLayout& l, size_t d, size_t o) {
  const int64_t s = static_cast<int64_t>(o) - l.begin[d], n = static_cast<int64_t>(l.in[d]);
  if (s >= 0 && s < n) return s;
  switch (l.mode) {
    case PadMode::Constant: case PadMode::Count: return -1;
    case PadMode::Edge: return s < 0 ? 0 : n - 1;
    case PadMode::Wrap: return ((s % n) + n) % n;
    case PadMode::Reflect: {
      if (n == 1) return 0;
      const int64_t period = 2 * (n - 1);
      const int64_t t = (s < 0 ? -s : s) % period;
      return t < n ? t : period - t;
    }
  }
  return -1;
}

// The constant as the tensor's element type.
std::vector<uint8_t> constantBytes(DType t, float value) {
  std::vector<uint8_t> bytes(dtypeSize(t));
  const auto put = [&](auto v) { std::memcpy(bytes.data(), &v, sizeof v); };
  switch (t) {
    case DType::Float32: put(value); break;
    case DType::Int32: put(static_cast<int32_t>(value)); break;
    case DType::Int64: put(static_cast<int64_t>(value)); break;
    case DType::Uint8: put(static_cast<uint8_t>(value)); break;
    case DType::Int8: put(static_cast<int8_t>(value)); break;
    case DType::Bool: put(static_cast<uint8_t>(value != 0)); break;
  }
  return bytes;
}

void runPad(const Step& step, RunState& state) {
  const PadLayout l = padLayout(step);
  const ValueSlot& out = state.plan.values[static_cast<size_t>(step.outputs[0])];
  if (out.count == 0) return;
  const size_t e = dtypeSize(out.dtype), last = l.rank - 1;
  const std::vector<uint8_t> fill = constantBytes(out.dtype, step.floats[0]);
  const auto* x = state.at<uint8_t>(step.inputs[0]);
  auto* y = state.at<uint8_t>(step.outputs[0]);
  size_t rows = 1;
  for (size_t d = 0; d < last; ++d) rows *= l.out[d];
  const size_t inner = l.out[last], innerIn = l.in[last];
  // The output columns [lo, hi) read input columns [lo - begin, hi - begin) in order.
  const int64_t b = l.begin[last];
  const size_t lo = static_cast<size_t>(std::max<int64_t>(0, std::min<int64_t>(b, static_cast<int64_t>(inner))));
  const size_t hi = static_cast<size_t>(std::max<int64_t>(static_cast<int64_t>(lo), std::min<int64_t>(b + static_cast<int64_t>(innerIn), static_cast<int64_t>(inner))));
  parallelRange(rows, static_cast<double>(inner), [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      uint8_t* dst = y + r * inner * e;
      // The input row: each outer axis's index mapped, innermost outer axis first.
      int64_t src = 0, stride = static_cast<int64_t>(innerIn);
      bool constantRow = false;
      size_t rest = r;
      for (size_t d = last; d-- > 0;) {
        const int64_t s = sourceIndex(l, d, rest % l.out[d]);
        rest /= l.out[d];
        if (s < 0) { constantRow = true; break; }
        src += s * stride;
        stride *= static_cast<int64_t>(l.in[d]);
      }
      if (constantRow) {
        for (size_t o = 0; o < inner; ++o) std::memcpy(dst + o * e, fill.data(), e);
        continue;
      }
      const uint8_t* row = x + static_cast<size_t>(src) * e;
      for (size_t o = 0; o < inner; ++o) {
        if (o == lo && hi > lo) {
          std::memcpy(dst + lo * e, row + static_cast<size_t>(static_cast<int64_t>(lo) - b) * e, (hi - lo) * e);
          o = hi - 1;
          continue;
        }
        const int64_t s = sourceIndex(l, last, o);
        std::memcpy(dst + o * e, s < 0 ? fill.data() : row + static_cast<size_t>(s) * e, e);
      }
    }
  });
}

}  // namespace

extern const OpKernel kPadKernel{checkPad, runPad};

}  // namespace onnxforge::engine
