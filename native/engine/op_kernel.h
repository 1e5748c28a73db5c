// One entry per step kind: `check` validates a step against the plan once, at plan
// creation (so `run` never reads or writes outside a value); `run` executes it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>
#include <functional>

#include "model_weights.h"
#include "plan.h"

namespace onnxforge::engine {

// A plan that cannot be run as given (thrown at plan creation).
class PlanError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};
// Input data the model cannot accept (an index out of range, an integer division by zero).
class RunError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The values of one run, resolved to addresses.
struct RunState {
  const Plan& plan;
  std::vector<void*> pointers;  // per value id
  template <typename T>
  T* at(int32_t id) const { return id < 0 ? nullptr : static_cast<T*>(pointers[static_cast<size_t>(id)]); }
};

struct OpKernel {
  void (*check)(const Step& step, const Plan& plan);
  void (*run)(const Step& step, RunState& state);
};

const OpKernel& opKernel(Op op);

// Shared by the checks.
[[noreturn]] void planError(const Step& step, const std::string& message);
const ValueSlot& valueOf(const Step& step, const Plan& plan, int32_t id, const char* role);
void requireArity(const Step& step, size_t minInputs, size_t maxInputs, size_t outputs);
void requireInts(const Step& step, size_t count);
void requireFloats(const Step& step, size_t count);
void requireDType(const Step& step, const ValueSlot& value, DType dtype, const char* role);
void requireCount(const Step& step, const ValueSlot& value, size_t count, const char* role);
// ints[at] as a size, checked to be in [0, 2^48).
size_t sizeParam(const Step& step, size_t at);
// a * b, failing the step when it would not fit in 2^48.
size_t mulParam(const Step& step, size_t a, size_t b);
// Product of ints[at .. at + count), overflow-checked.
size_t productParam(const Step& step, size_t at, size_t count);

// Splits `count` items over the pool when the total work is large enough to pay for it.
void parallelRange(size_t count, double workPerItem, const std::function<void(size_t, size_t)>& body);

}  // namespace onnxforge::engine
