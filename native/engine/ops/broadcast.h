// Broadcasting of up to three operands onto a contiguous output, as the TypeScript lowering
// encodes it: [rank, outDims[rank], strides of operand 0 [rank], strides of operand 1 ...],
// strides in elements (0 along broadcast axes), adjacent axes already merged where possible.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../op_kernel.h"

namespace onnxforge::engine {

constexpr size_t kMaxBroadcastRank = 8;

struct Broadcast {
  size_t rank = 0;
  size_t operands = 0;
  size_t dims[kMaxBroadcastRank] = {};
  size_t strides[3][kMaxBroadcastRank] = {};
  size_t count() const;
  size_t inner() const { return dims[rank - 1]; }
  size_t rows() const { return count() / (inner() ? inner() : 1); }
  // Offset of row `row`'s first element in operand `operand`.
  size_t rowOffset(size_t operand, size_t row) const;
};

// Reads the layout at ints[at..]; checks that every operand's reach fits its value.
Broadcast broadcastParam(const Step& step, const Plan& plan, size_t at, const int32_t* operands, size_t count);
// Reads an already checked layout.
Broadcast broadcastAt(const Step& step, size_t at, size_t operands);

}  // namespace onnxforge::engine
