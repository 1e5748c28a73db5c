// The bytes of an input argument as a product reads them: a view of the caller's memory
// (synchronous calls), or a copy of its own (async calls, so that neither GC nor a
// detached buffer can pull the memory from under the worker).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace onnxforge::napi {

class Input {
 public:
  Input() = default;
  Input(const void* data, size_t bytes, bool copy) {
    if (!copy) {
      view_ = data;
      return;
    }
    const auto* first = static_cast<const uint8_t*>(data);
    copy_ = std::make_shared<const std::vector<uint8_t>>(first, first + bytes);
    view_ = copy_->data();
  }

  // nullptr for an absent input.
  template <typename T>
  const T* as() const { return static_cast<const T*>(view_); }

 private:
  const void* view_ = nullptr;
  std::shared_ptr<const std::vector<uint8_t>> copy_;
};

}  // namespace onnxforge::napi
