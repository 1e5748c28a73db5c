// The CUDA backend of a build without CUDA (ONNXFORGE_CUDA=OFF, or no nvcc found):
// nothing is available, and every entry point says why.
#include "cuda_backend.h"

namespace onnxforge::cuda {
namespace {

[[noreturn]] void unavailable() { throw Error("CUDA is not available: " + status().reason); }

}  // namespace

struct Weights {};

const Status& status() {
  static const Status s = [] {
    Status built;
    built.reason = "this build of onnxforge has no CUDA kernels (built without nvcc or with ONNXFORGE_CUDA=OFF)";
    return built;
  }();
  return s;
}

std::vector<DeviceInfo> devices() { return {}; }
void setInt8Kernel(Int8Kernel) {}
const char* int8KernelName() { return "none"; }
size_t deviceBytes(const Weights&) { return 0; }

std::shared_ptr<const Weights> uploadInt8(const int8_t*, size_t, size_t, const int8_t*, size_t, const float*, size_t) {
  unavailable();
}
std::shared_ptr<const Weights> uploadSparseFloat(const float*, size_t, size_t, bool, size_t*) { unavailable(); }
std::shared_ptr<const Weights> uploadSparseInt8(const int8_t*, size_t, size_t, bool, const float*, size_t, size_t*) {
  unavailable();
}
void matmulInteger(const Weights&, const uint8_t*, bool, size_t, const void*, size_t, int32_t*) { unavailable(); }
void linearInt8(const Weights&, const float*, size_t, const float*, float*) { unavailable(); }
void matmulSparse(const Weights&, const float*, size_t, const float*, float*) { unavailable(); }
void linearSparseInt8(const Weights&, const float*, size_t, const float*, float*) { unavailable(); }
double measureInt8OpsPerSecond(size_t, int) { unavailable(); }

}  // namespace onnxforge::cuda
