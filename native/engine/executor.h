// Runs a checked plan: resolves every value to an address (arena, constant, input, output)
// and executes the steps in order. Arenas are pooled so concurrent runs of one plan never
// share one.
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "int8_buffer.h"
#include "plan.h"

#pragma once

namespace onnxforge::engine {

class PlanRuntime {
 public:
  // Checks every value and step (PlanError naming the first problem).
  explicit PlanRuntime(Plan plan);

  const Plan& plan() const { return plan_; }
  // inputs[i] / outputs[i] hold plan().values[plan().inputs[i]] (outputs[i]) elements.
  // threads: at most this many threads in this run (0: the pool's size).
  // stepSeconds: nullptr, or filled with each step's wall time (profiling).
  void run(const std::vector<const void*>& inputs, const std::vector<void*>& outputs, int threads,
           std::vector<double>* stepSeconds = nullptr) const;
  // Arena bytes held now (one arena per run in flight, plus the free ones kept for the next runs).
  size_t arenaBytesHeld() const;
  // Arenas up to this size are kept for the next run; larger ones are freed when their run ends.
  static constexpr size_t kKeptArenaBytes = size_t{64} << 20;

 private:
  std::unique_ptr<int8::ByteBuffer> acquireArena() const;
  void releaseArena(std::unique_ptr<int8::ByteBuffer> arena) const;

  Plan plan_;
  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<int8::ByteBuffer>> freeArenas_;
  mutable size_t arenas_ = 0;
};

}  // namespace onnxforge::engine
