#include "op_kernel.h"

#include <algorithm>

#include "thread_pool.h"

namespace onnxforge::engine {

#define ONNXFORGE_ENGINE_OP_DECLARE(name) extern const OpKernel k##name##Kernel;
ONNXFORGE_ENGINE_OPS(ONNXFORGE_ENGINE_OP_DECLARE)
#undef ONNXFORGE_ENGINE_OP_DECLARE

namespace {

const OpKernel* const kKernels[] = {
#define ONNXFORGE_ENGINE_OP_ENTRY(name) &k##name##Kernel,
    ONNXFORGE_ENGINE_OPS(ONNXFORGE_ENGINE_OP_ENTRY)
#undef ONNXFORGE_ENGINE_OP_ENTRY
};

const char* const kNames[] = {
#define ONNXFORGE_ENGINE_OP_NAME(name) #name,
    ONNXFORGE_ENGINE_OPS(ONNXFORGE_ENGINE_OP_NAME)
#undef ONNXFORGE_ENGINE_OP_NAME
};

constexpr size_t kMaxParam = size_t{1} << 48;

}  // namespace

const OpKernel& opKernel(Op op) { return *kKernels[static_cast<size_t>(op)]; }

const char* opName(Op op) { return kNames[static_cast<size_t>(op)]; }

bool parseOpName(const std::string& name, Op* out) {
  for (size_t i = 0; i < static_cast<size_t>(Op::Count); ++i) {
    if (name == kNames[i]) {
      *out = static_cast<Op>(i);
      return true;
    }
  }
  return false;
}

void planError(const Step& step, const std::string& message) {
  throw PlanError(std::string(opName(step.op)) + " step: " + message);
}

const ValueSlot& valueOf(const Step& step, const Plan& plan, int32_t id, const char* role) {
  if (id < 0 || static_cast<size_t>(id) >= plan.values.size()) {
    planError(step, std::string(role) + " refers to value " + std::to_string(id) + ", outside the plan's " +
                        std::to_string(plan.values.size()) + " values");
  }
  return plan.values[static_cast<size_t>(id)];
}

void requireArity(const Step& step, size_t minInputs, size_t maxInputs, size_t outputs) {
  if (step.inputs.size() < minInputs || step.inputs.size() > maxInputs) {
    planError(step, "takes " + std::to_string(minInputs) + (minInputs == maxInputs ? "" : "-" + std::to_string(maxInputs)) +
                        " inputs, got " + std::to_string(step.inputs.size()));
  }
  if (step.outputs.size() != outputs) {
    planError(step, "has " + std::to_string(outputs) + " outputs, got " + std::to_string(step.outputs.size()));
  }
}

void requireInts(const Step& step, size_t count) {
  if (step.ints.size() < count) {
    planError(step, "needs " + std::to_string(count) + " integer parameters, got " + std::to_string(step.ints.size()));
  }
}

void requireFloats(const Step& step, size_t count) {
  if (step.floats.size() < count) {
    planError(step, "needs " + std::to_string(count) + " float parameters, got " + std::to_string(step.floats.size()));
  }
}

void requireDType(const Step& step, const ValueSlot& value, DType dtype, const char* role) {
  if (value.dtype != dtype) {
    planError(step, std::string(role) + " must be " + dtypeName(dtype) + ", is " + dtypeName(value.dtype));
  }
}

void requireCount(const Step& step, const ValueSlot& value, size_t count, const char* role) {
  if (value.count != count) {
    planError(step, std::string(role) + " has " + std::to_string(value.count) + " elements, the step needs " +
                        std::to_string(count));
  }
}

size_t sizeParam(const Step& step, size_t at) {
  requireInts(step, at + 1);
  int64_t v = step.ints[at];
  if (v < 0 || static_cast<uint64_t>(v) >= kMaxParam) planError(step, "parameter " + std::to_string(at) + " out of range");
  return static_cast<size_t>(v);
}

size_t mulParam(const Step& step, size_t a, size_t b) {
  if (a != 0 && b > kMaxParam / a) planError(step, "dimensions overflow");
  return a * b;
}

size_t productParam(const Step& step, size_t at, size_t count) {
  size_t product = 1;
  for (size_t i = 0; i < count; ++i) {
    size_t d = sizeParam(step, at + i);
    if (d != 0 && product > kMaxParam / d) planError(step, "dimensions overflow");
    product *= d;
  }
  return product;
}

void parallelRange(size_t count, double workPerItem, const std::function<void(size_t, size_t)>& body) {
  constexpr double kSerialWork = 32768;
  if (count == 0) return;
  if (count == 1 || static_cast<double>(count) * workPerItem < kSerialWork || getNumThreads() == 1) {
    body(0, count);
    return;
  }
  size_t chunks = static_cast<size_t>(getNumThreads()) * 4;
  size_t grain = std::max<size_t>(1, (count + chunks - 1) / chunks);
  parallelFor(count, grain, body);
}

const char* dtypeName(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Uint8: return "uint8";
    case DType::Int8: return "int8";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Bool: return "bool";
  }
  return "unknown";
}

}  // namespace onnxforge::engine
