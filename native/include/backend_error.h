// A backend's failure (the CUDA runtime's errors, a device that is not available); the
// message says why. The bindings turn it into a JS Error.
#pragma once
#include <stdexcept>

namespace onnxforge {

class BackendError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace onnxforge
