#include "broadcast.h"

#include <string>

namespace onnxforge::engine {

size_t Broadcast::count() const {
  size_t c = 1;
  for (size_t d = 0; d < rank; ++d) c *= dims[d];
  return c;
}

size_t Broadcast::rowOffset(size_t operand, size_t row) const {
  size_t offset = 0;
  for (size_t d = rank - 1; d-- > 0;) {
    offset += (row % dims[d]) * strides[operand][d];
    row /= dims[d];
  }
  return offset;
}

Broadcast broadcastAt(const Step& step, size_t at, size_t operands) {
  Broadcast b;
  b.rank = static_cast<size_t>(step.ints[at]);
  b.operands = operands;
  for (size_t d = 0; d < b.rank; ++d) {
    b.dims[d] = static_cast<size_t>(step.ints[at + 1 + d]);
    for (size_t o = 0; o < operands; ++o) b.strides[o][d] = static_cast<size_t>(step.ints[at + 1 + (o + 1) * b.rank + d]);
  }
  return b;
}

Broadcast broadcastParam(const Step& step, const Plan& plan, size_t at, const int32_t* operands, size_t count) {
  const size_t rank = sizeParam(step, at);
  if (rank < 1 || rank > kMaxBroadcastRank) planError(step, "broadcast rank must be 1-" + std::to_string(kMaxBroadcastRank));
  requireInts(step, at + 1 + (count + 1) * rank);
  for (size_t i = at + 1; i < at + 1 + (count + 1) * rank; ++i) sizeParam(step, i);
  Broadcast b = broadcastAt(step, at, count);
  productParam(step, at + 1, rank);
  if (b.count() == 0) return b;
  for (size_t o = 0; o < count; ++o) {
    const ValueSlot& v = valueOf(step, plan, operands[o], "operand");
    size_t reach = 0;
    for (size_t d = 0; d < rank; ++d) reach = mulParam(step, 1, reach + mulParam(step, b.dims[d] - 1, b.strides[o][d]));
    if (reach >= v.count) planError(step, "operand " + std::to_string(o) + " is smaller than its broadcast reaches");
  }
  return b;
}

}  // namespace onnxforge::engine
