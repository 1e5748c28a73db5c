// Shared pieces of the bindings' async forms and allocation handling.
#pragma once
#include <napi.h>

#include <exception>
#include <functional>
#include <new>
#include <string>
#include <utility>

#include "args.h"

namespace onnxforge::napi {

// Runs fn, turning allocation failure into a RangeError instead of a crash.
template <typename Fn>
auto withAllocation(Napi::Env env, const char* what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    throwRangeError(env, std::string("out of memory for ") + what);
  }
}

// Argument errors of the async forms reject the promise instead of throwing.
template <typename Start>
Napi::Value asyncCall(const Napi::CallbackInfo& info, Start&& start) {
  Napi::Env env = info.Env();
  try {
    return start();
  } catch (const Napi::Error& error) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(error.Value());
    return deferred.Promise();
  }
}

// Runs `work` on a libuv worker thread and resolves with `output`, which it holds by
// a reference until the promise settles. `work` must own (or share) everything it
// reads, so that neither GC, dispose() nor a detached input can pull memory from
// under it; it writes into the output's memory, captured before queueing.
class OutputWorker : public Napi::AsyncWorker {
 public:
  OutputWorker(Napi::Env env, const char* name, Napi::Value output, std::function<void()> work)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        output_(Napi::Persistent(output)),
        work_(std::move(work)) {}

  // Queues the work; returns the promise of its output.
  static Napi::Promise start(Napi::Env env, const char* name, Napi::Value output, std::function<void()> work) {
    auto* worker = new OutputWorker(env, name, output, std::move(work));
    Napi::Promise promise = worker->deferred_.Promise();
    worker->Queue();
    return promise;
  }

  void Execute() override {
    try {
      work_();
    } catch (const std::bad_alloc&) {
      SetError("out of memory");
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(output_.Value()); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Value> output_;
  std::function<void()> work_;
};

}  // namespace onnxforge::napi
