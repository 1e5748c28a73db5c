#include "executor.h"

#include <chrono>
#include <string>

#include "model_weights.h"
#include "op_kernel.h"
#include "thread_pool.h"

namespace onnxforge::engine {
namespace {

[[noreturn]] void valueError(size_t id, const std::string& message) {
  throw PlanError("value " + std::to_string(id) + ": " + message);
}

void checkValues(const Plan& plan) {
  if (!plan.weights) throw PlanError("the plan has no model weights");
  for (size_t id = 0; id < plan.values.size(); ++id) {
    const ValueSlot& v = plan.values[id];
    if (v.count > (size_t{1} << 48)) valueError(id, "too many elements");
    switch (v.storage) {
      case Storage::Arena:
        if (v.offset % 64 != 0) valueError(id, "arena offset is not 64-byte aligned");
        if (v.offset > plan.arenaBytes || v.bytes() > plan.arenaBytes - v.offset) valueError(id, "lies outside the arena");
        break;
      case Storage::Constant: {
        if (v.index >= plan.weights->constants.size()) valueError(id, "refers to a missing model constant");
        const ConstantView& c = plan.weights->constants[v.index];
        if (c.dtype != v.dtype || c.count != v.count) valueError(id, "differs from its model constant's type or size");
        break;
      }
      case Storage::PlanConstant:
        if (v.index >= plan.planConstants.size()) valueError(id, "refers to a missing plan constant");
        if (plan.planConstants[v.index].size() != v.bytes()) valueError(id, "differs from its plan constant's size");
        break;
      case Storage::Input:
        if (v.index >= plan.inputs.size() || plan.inputs[v.index] != static_cast<int32_t>(id)) {
          valueError(id, "is not the run input it names");
        }
        break;
      case Storage::Output:
        if (v.index >= plan.outputs.size() || plan.outputs[v.index] != static_cast<int32_t>(id)) {
          valueError(id, "is not the run output it names");
        }
        break;
      case Storage::View: {
        if (v.index >= plan.values.size()) valueError(id, "views a missing value");
        const ValueSlot& base = plan.values[v.index];
        if (base.storage == Storage::View) valueError(id, "views a view");
        if (base.dtype != v.dtype) valueError(id, "views a value of another type");
        if (v.offset % dtypeSize(v.dtype) != 0) valueError(id, "view offset is not a whole element");
        if (v.offset > base.bytes() || v.bytes() > base.bytes() - v.offset) valueError(id, "reaches outside the value it views");
        break;
      }
    }
  }
  auto checkEnds = [&](const std::vector<int32_t>& ids, Storage storage, const char* what) {
    for (int32_t id : ids) {
      if (id < 0 || static_cast<size_t>(id) >= plan.values.size() || plan.values[static_cast<size_t>(id)].storage != storage) {
        throw PlanError(std::string(what) + " " + std::to_string(id) + " is not a value of that kind");
      }
    }
  };
  checkEnds(plan.inputs, Storage::Input, "input");
  checkEnds(plan.outputs, Storage::Output, "output");
}

void checkSteps(const Plan& plan) {
  for (const Step& step : plan.steps) {
    if (step.op >= Op::Count) throw PlanError("unknown step kind");
    opKernel(step.op).check(step, plan);
    for (int32_t id : step.outputs) {
      Storage s = valueOf(step, plan, id, "output").storage;
      if (s == Storage::View) s = plan.values[plan.values[static_cast<size_t>(id)].index].storage;
      if (s != Storage::Arena && s != Storage::Output) planError(step, "writes into a read-only value");
    }
  }
}

}  // namespace

PlanRuntime::PlanRuntime(Plan plan) : plan_(std::move(plan)) {
  checkValues(plan_);
  checkSteps(plan_);
}

std::unique_ptr<int8::ByteBuffer> PlanRuntime::acquireArena() const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!freeArenas_.empty()) {
      auto arena = std::move(freeArenas_.back());
      freeArenas_.pop_back();
      return arena;
    }
    ++arenas_;
  }
  return std::make_unique<int8::ByteBuffer>(plan_.arenaBytes ? plan_.arenaBytes : 64);
}

void PlanRuntime::releaseArena(std::unique_ptr<int8::ByteBuffer> arena) const {
  std::lock_guard<std::mutex> lock(mutex_);
  // A large arena goes back to the system after its run: one request far above the usual size must
  // not keep its peak for the life of the plan (a served model would never shrink again).
  if (plan_.arenaBytes > kKeptArenaBytes) {
    --arenas_;
    return;  // freed with `arena`
  }
  freeArenas_.push_back(std::move(arena));
}

size_t PlanRuntime::arenaBytesHeld() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return arenas_ * plan_.arenaBytes;
}

void PlanRuntime::run(const std::vector<const void*>& inputs, const std::vector<void*>& outputs, int threads,
                      std::vector<double>* stepSeconds) const {
  std::unique_ptr<int8::ByteBuffer> arena = acquireArena();
  struct Release {
    const PlanRuntime* self;
    std::unique_ptr<int8::ByteBuffer>& arena;
    ~Release() { self->releaseArena(std::move(arena)); }
  } release{this, arena};

  RunState state{plan_, std::vector<void*>(plan_.values.size(), nullptr)};
  for (size_t id = 0; id < plan_.values.size(); ++id) {
    const ValueSlot& v = plan_.values[id];
    void* p = nullptr;
    switch (v.storage) {
      case Storage::Arena: p = arena->data() + v.offset; break;
      case Storage::Constant: p = const_cast<void*>(plan_.weights->constants[v.index].data); break;
      case Storage::PlanConstant: p = const_cast<uint8_t*>(plan_.planConstants[v.index].data()); break;
      case Storage::Input: p = const_cast<void*>(inputs[v.index]); break;
      case Storage::Output: p = outputs[v.index]; break;
      case Storage::View: break;
    }
    state.pointers[id] = p;
  }
  for (size_t id = 0; id < plan_.values.size(); ++id) {
    const ValueSlot& v = plan_.values[id];
    if (v.storage == Storage::View) state.pointers[id] = static_cast<uint8_t*>(state.pointers[v.index]) + v.offset;
  }
  ScopedThreadLimit limit(threads);
  if (!stepSeconds) {
    for (const Step& step : plan_.steps) opKernel(step.op).run(step, state);
    return;
  }
  stepSeconds->assign(plan_.steps.size(), 0.0);
  for (size_t i = 0; i < plan_.steps.size(); ++i) {
    auto start = std::chrono::steady_clock::now();
    opKernel(plan_.steps[i].op).run(plan_.steps[i], state);
    (*stepSeconds)[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
}

}  // namespace onnxforge::engine
