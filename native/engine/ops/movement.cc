// Steps that move elements without arithmetic: Copy, StridedCopy (Transpose, Slice, Expand,
// Split parts), Concat and Gather.
#include <algorithm>
#include <cstring>

#include "../op_kernel.h"

namespace onnxforge::engine {
namespace {

constexpr size_t kMaxRank = 8;

// --- Copy: out = in, same type and size.
void checkCopy(const Step& step, const Plan& plan) {
  requireArity(step, 1, 1, 1);
  const ValueSlot& in = valueOf(step, plan, step.inputs[0], "input");
  const ValueSlot& out = valueOf(step, plan, step.outputs[0], "output");
  requireDType(step, out, in.dtype, "output");
  requireCount(step, out, in.count, "output");
}

void runCopy(const Step& step, RunState& state) {
  const ValueSlot& out = state.plan.values[static_cast<size_t>(step.outputs[0])];
  std::memcpy(state.at<void>(step.outputs[0]), state.at<void>(step.inputs[0]), out.bytes());
}

// --- StridedCopy: ints = [rank, outDims[rank], inStrides[rank], inOffset]; output contiguous,
// out[i0..ir] = in[inOffset + sum(i_d * inStrides_d)] (strides in elements, may be negative or 0).
struct StridedLayout {
  size_t rank = 0;
  size_t dims[kMaxRank] = {};
  int64_t strides[kMaxRank] = {};
  int64_t offset = 0;
};

StridedLayout stridedLayout(const Step& step) {
  StridedLayout l;
  l.rank = sizeParam(step, 0);
  if (l.rank < 1 || l.rank > kMaxRank) planError(step, "rank must be 1-" + std::to_string(kMaxRank));
  requireInts(step, 2 + 2 * l.rank);
  for (size_t d = 0; d < l.rank; ++d) {
    l.dims[d] = sizeParam(step, 1 + d);
    l.strides[d] = step.ints[1 + l.rank + d];
  }
  l.offset = step.ints[1 + 2 * l.rank];
  return l;
}

void checkStridedCopy(const Step& step, const Plan& plan) {
  requireArity(step, 1, 1, 1);
  const ValueSlot& in = valueOf(step, plan, step.inputs[0], "input");
  const ValueSlot& out = valueOf(step, plan, step.outputs[0], "output");
  requireDType(step, out, in.dtype, "output");
  StridedLayout l = stridedLayout(step);
  requireCount(step, out, productParam(step, 1, l.rank), "output");
  if (out.count == 0) return;
  int64_t lo = l.offset, hi = l.offset;
  for (size_t d = 0; d < l.rank; ++d) {
    int64_t reach = static_cast<int64_t>(l.dims[d] - 1) * l.strides[d];
    (reach < 0 ? lo : hi) += reach;
  }
  if (lo < 0 || hi >= static_cast<int64_t>(in.count)) planError(step, "reads outside its input");
}

// A transpose of the last two dimensions (the next-to-last contiguous in the input, the last strided):
// copied in square tiles, so that each tile's reads and writes stay in L1. Row by row, every output
// element would read its own cache line (NHWC -> NCHW of a feature map: one line per value).
template <typename T>
void transposedCopy(const StridedLayout& l, const T* in, T* out) {
  constexpr size_t kTile = 32;
  const size_t rows = l.dims[l.rank - 2], inner = l.dims[l.rank - 1];
  const int64_t innerStride = l.strides[l.rank - 1];
  size_t outer = 1;
  for (size_t d = 0; d + 2 < l.rank; ++d) outer *= l.dims[d];
  const size_t rowTiles = (rows + kTile - 1) / kTile;
  parallelRange(outer * rowTiles, static_cast<double>(kTile) * inner, [&](size_t t0, size_t t1) {
    for (size_t t = t0; t < t1; ++t) {
      const size_t o = t / rowTiles, a0 = (t % rowTiles) * kTile, a1 = std::min(rows, a0 + kTile);
      int64_t src = l.offset;
      size_t rest = o;
      for (size_t d = l.rank - 2; d-- > 0;) {
        src += static_cast<int64_t>(rest % l.dims[d]) * l.strides[d];
        rest /= l.dims[d];
      }
      T* dst = out + o * rows * inner;
      if (inner <= 4) {
        // A few planes (an RGB image into NHWC): each output pixel written whole, the planes read in step.
        for (size_t r = a0; r < a1; ++r) {
          for (size_t b = 0; b < inner; ++b) dst[r * inner + b] = in[src + static_cast<int64_t>(b) * innerStride + static_cast<int64_t>(r)];
        }
        continue;
      }
      for (size_t b0 = 0; b0 < inner; b0 += kTile) {
        const size_t b1 = std::min(inner, b0 + kTile);
        for (size_t b = b0; b < b1; ++b) {
          const T* from = in + src + static_cast<int64_t>(b) * innerStride;
          for (size_t r = a0; r < a1; ++r) dst[r * inner + b] = from[r];
        }
      }
    }
  });
}

template <typename T>
void stridedCopy(const StridedLayout& l, const T* in, T* out) {
  const size_t inner = l.dims[l.rank - 1];
  const int64_t innerStride = l.strides[l.rank - 1];
  if (l.rank >= 2 && innerStride != 1 && l.strides[l.rank - 2] == 1 && l.dims[l.rank - 2] > 1) {
    transposedCopy(l, in, out);
    return;
  }
  size_t rows = 1;
  for (size_t d = 0; d + 1 < l.rank; ++d) rows *= l.dims[d];
  parallelRange(rows, static_cast<double>(inner), [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      int64_t src = l.offset;
      size_t rest = r;
      for (size_t d = l.rank - 1; d-- > 0;) {
        src += static_cast<int64_t>(rest % l.dims[d]) * l.strides[d];
        rest /= l.dims[d];
      }
      T* dst = out + r * inner;
      const T* from = in + src;
      if (innerStride == 1) {
        std::memcpy(dst, from, inner * sizeof(T));
      } else {
        for (size_t i = 0; i < inner; ++i) dst[i] = from[static_cast<int64_t>(i) * innerStride];
      }
    }
  });
}

void runStridedCopy(const Step& step, RunState& state) {
  const ValueSlot& out = state.plan.values[static_cast<size_t>(step.outputs[0])];
  if (out.count == 0) return;
  StridedLayout l = stridedLayout(step);
  void* dst = state.at<void>(step.outputs[0]);
  const void* src = state.at<void>(step.inputs[0]);
  switch (dtypeSize(out.dtype)) {
    case 1: stridedCopy(l, static_cast<const uint8_t*>(src), static_cast<uint8_t*>(dst)); return;
    case 4: stridedCopy(l, static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst)); return;
    default: stridedCopy(l, static_cast<const uint64_t*>(src), static_cast<uint64_t*>(dst)); return;
  }
}

// --- Concat: ints = [outer, inner_0 .. inner_{n-1}]: input i is outer x inner_i, the output
// outer x sum(inner_i), inputs side by side in each outer row.
void checkConcat(const Step& step, const Plan& plan) {
  if (step.inputs.empty() || step.outputs.size() != 1) planError(step, "takes 1 or more inputs and 1 output");
  requireInts(step, 1 + step.inputs.size());
  const size_t outer = sizeParam(step, 0);
  const ValueSlot& out = valueOf(step, plan, step.outputs[0], "output");
  size_t total = 0;
  for (size_t i = 0; i < step.inputs.size(); ++i) {
    const ValueSlot& in = valueOf(step, plan, step.inputs[i], "input");
    requireDType(step, in, out.dtype, "input");
    size_t inner = sizeParam(step, 1 + i);
    requireCount(step, in, mulParam(step, outer, inner), "input");
    total = mulParam(step, 1, total + inner);
  }
  requireCount(step, out, mulParam(step, outer, total), "output");
}

void runConcat(const Step& step, RunState& state) {
  const size_t outer = static_cast<size_t>(step.ints[0]);
  const ValueSlot& out = state.plan.values[static_cast<size_t>(step.outputs[0])];
  const size_t elem = dtypeSize(out.dtype);
  size_t rowBytes = 0;
  for (size_t i = 0; i < step.inputs.size(); ++i) rowBytes += static_cast<size_t>(step.ints[1 + i]) * elem;
  auto* dst = state.at<uint8_t>(step.outputs[0]);
  size_t column = 0;
  for (size_t i = 0; i < step.inputs.size(); ++i) {
    const size_t bytes = static_cast<size_t>(step.ints[1 + i]) * elem;
    const auto* src = state.at<uint8_t>(step.inputs[i]);
    for (size_t r = 0; r < outer; ++r) std::memcpy(dst + r * rowBytes + column, src + r * bytes, bytes);
    column += bytes;
  }
}

// --- Gather: inputs data (outer x axis x inner), indices (int64 or int32, any count);
// ints = [outer, axis, inner]; output outer x count(indices) x inner. Negative indices count
// from the end; an index out of range fails the run before anything is written.
void checkGather(const Step& step, const Plan& plan) {
  requireArity(step, 2, 2, 1);
  const ValueSlot& data = valueOf(step, plan, step.inputs[0], "data");
  const ValueSlot& indices = valueOf(step, plan, step.inputs[1], "indices");
  const ValueSlot& out = valueOf(step, plan, step.outputs[0], "output");
  if (indices.dtype != DType::Int64 && indices.dtype != DType::Int32) planError(step, "indices must be int64 or int32");
  requireDType(step, out, data.dtype, "output");
  requireCount(step, data, productParam(step, 0, 3), "data");
  const size_t outer = sizeParam(step, 0), inner = sizeParam(step, 2);
  requireCount(step, out, outer * indices.count * inner, "output");
}

template <typename Index>
void gather(const Step& step, RunState& state, const Index* indices, size_t count) {
  const size_t outer = static_cast<size_t>(step.ints[0]);
  const int64_t axis = step.ints[1];
  const size_t inner = static_cast<size_t>(step.ints[2]);
  for (size_t i = 0; i < count; ++i) {
    const int64_t v = static_cast<int64_t>(indices[i]);
    if (v < -axis || v >= axis) {
      throw RunError("Gather: index " + std::to_string(v) + " is out of range for an axis of " + std::to_string(axis));
    }
  }
  const ValueSlot& out = state.plan.values[static_cast<size_t>(step.outputs[0])];
  const size_t rowBytes = inner * dtypeSize(out.dtype);
  const auto* data = state.at<uint8_t>(step.inputs[0]);
  auto* dst = state.at<uint8_t>(step.outputs[0]);
  parallelRange(outer * count, static_cast<double>(inner), [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const size_t o = r / count, i = r % count;
      int64_t v = static_cast<int64_t>(indices[i]);
      if (v < 0) v += axis;
      std::memcpy(dst + r * rowBytes, data + (o * static_cast<size_t>(axis) + static_cast<size_t>(v)) * rowBytes, rowBytes);
    }
  });
}

void runGather(const Step& step, RunState& state) {
  const ValueSlot& indices = state.plan.values[static_cast<size_t>(step.inputs[1])];
  if (indices.dtype == DType::Int64) gather(step, state, state.at<int64_t>(step.inputs[1]), indices.count);
  else gather(step, state, state.at<int32_t>(step.inputs[1]), indices.count);
}

}  // namespace

extern const OpKernel kCopyKernel{checkCopy, runCopy};
extern const OpKernel kStridedCopyKernel{checkStridedCopy, runStridedCopy};
extern const OpKernel kConcatKernel{checkConcat, runConcat};
extern const OpKernel kGatherKernel{checkGather, runGather};

}  // namespace onnxforge::engine
