// A plan: the steps of one model for one set of input shapes, every shape static, every
// value placed (in the arena, a constant, an input or an output). Built once per input
// shape signature by the TypeScript lowering, checked once here, then run many times.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dtype.h"
#include "op_codes.h"

namespace onnxforge::engine {

class ModelWeights;

enum class Storage : uint8_t {
  Arena = 0,          // offset into the run's arena
  Constant = 1,       // a model constant (ModelWeights::constant(index)), read-only
  PlanConstant = 2,   // a constant folded for this shape signature, owned by the plan
  Input = 3,          // the run's input `index`, read-only
  Output = 4,         // the run's output `index`
  View = 5,           // bytes [offset, offset + bytes()) of value `index` (never itself a view)
};

struct ValueSlot {
  Storage storage = Storage::Arena;
  DType dtype = DType::Float32;
  size_t count = 0;    // elements
  size_t offset = 0;   // bytes into the arena (Arena) or into the viewed value (View)
  uint32_t index = 0;  // constant, input or output number; the viewed value's id
  size_t bytes() const { return count * dtypeSize(dtype); }
};

struct Step {
  Op op = Op::Copy;
  std::vector<int32_t> inputs;   // value ids; -1 for an absent optional input
  std::vector<int32_t> outputs;  // value ids
  std::vector<int64_t> ints;     // op parameters (dims, strides, modes)
  std::vector<float> floats;     // op parameters (epsilon, scale, clip bounds)
  int32_t linear = -1;           // ModelWeights linear layer, for Linear steps
};

struct Plan {
  std::shared_ptr<const ModelWeights> weights;
  std::vector<ValueSlot> values;
  std::vector<Step> steps;
  std::vector<std::vector<uint8_t>> planConstants;
  std::vector<int32_t> inputs;   // value id of each run input
  std::vector<int32_t> outputs;  // value id of each run output
  size_t arenaBytes = 0;
};

}  // namespace onnxforge::engine
