// The backend's view of the CUDA runtime (linked statically, so the addon loads where
// there is no driver): the availability probe, device queries, memory and streams.
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common.cuh"
#include "cuda_config.h"  // ONNXFORGE_CUDA_ARCHITECTURES, written by CMake

namespace onnxforge::cuda {
namespace {

// The oldest GPU the kernels are compiled for (sm_75 real code).
constexpr int kMinComputeCapability = 75;

__global__ void probeKernel(int* out) { *out = 42; }

std::string versionText(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

std::string describe(cudaError_t error, const Status& s) {
  switch (error) {
    case cudaErrorInsufficientDriver:
      if (s.driverVersion == 0) return "no NVIDIA driver is installed (libcuda.so.1 not found)";
      return "the NVIDIA driver supports CUDA " + versionText(s.driverVersion) + ", older than this build's CUDA " +
             versionText(s.runtimeVersion);
    case cudaErrorNoDevice:
      return "no CUDA-capable GPU is visible (check CUDA_VISIBLE_DEVICES and the driver)";
    default:
      return std::string(cudaGetErrorName(error)) + ": " + cudaGetErrorString(error);
  }
}

bool disabledByEnvironment(std::string* value) {
  const char* env = std::getenv("ONNXFORGE_CUDA");
  if (!env) return false;
  *value = env;
  return *value == "0" || *value == "off" || *value == "false" || *value == "OFF";
}

// Runs a kernel: catches a GPU without a usable kernel image or a broken context up
// front, instead of on the first product.
cudaError_t probeDevice(int device) {
  cudaError_t error = cudaSetDevice(device);
  if (error != cudaSuccess) return error;
  int* value = nullptr;
  error = cudaMalloc(&value, sizeof(int));
  if (error != cudaSuccess) return error;
  probeKernel<<<1, 1>>>(value);
  error = cudaGetLastError();
  int host = 0;
  if (error == cudaSuccess) error = cudaMemcpy(&host, value, sizeof(int), cudaMemcpyDeviceToHost);
  cudaFree(value);
  if (error == cudaSuccess && host != 42) error = cudaErrorUnknown;
  return error;
}

Status probe() {
  Status s;
  s.compiled = true;
  s.architectures = ONNXFORGE_CUDA_ARCHITECTURES;
  cudaRuntimeGetVersion(&s.runtimeVersion);
  if (cudaDriverGetVersion(&s.driverVersion) != cudaSuccess) s.driverVersion = 0;
  std::string env;
  if (disabledByEnvironment(&env)) {
    s.reason = "disabled by ONNXFORGE_CUDA=" + env;
    return s;
  }
  int count = 0;
  cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess) {
    cudaGetLastError();
    s.reason = describe(error, s);
    return s;
  }
  if (count == 0) {
    s.reason = "no CUDA-capable GPU is visible";
    return s;
  }
  cudaDeviceProp props;
  error = cudaGetDeviceProperties(&props, 0);
  if (error != cudaSuccess) {
    s.reason = describe(error, s);
    return s;
  }
  if (props.major * 10 + props.minor < kMinComputeCapability) {
    s.reason = std::string(props.name) + " has compute capability " + std::to_string(props.major) + "." +
               std::to_string(props.minor) + "; the CUDA kernels need 7.5 or newer";
    return s;
  }
  error = probeDevice(0);
  if (error != cudaSuccess) {
    cudaGetLastError();
    s.reason = std::string("a test kernel failed on ") + props.name + " (" + describe(error, s) + ")";
    return s;
  }
  s.device = 0;
  s.available = true;
  return s;
}

// Stream-ordered allocation needs driver support (absent on some virtual GPUs).
bool memoryPoolsSupported() {
  static const bool supported = [] {
    int value = 0;
    return cudaDeviceGetAttribute(&value, cudaDevAttrMemoryPoolsSupported, status().device) == cudaSuccess &&
           value != 0;
  }();
  return supported;
}

}  // namespace

void fail(cudaError_t error, const char* what) {
  cudaGetLastError();  // clears a non-sticky error so later calls can still succeed
  throw Error(std::string("CUDA error in ") + what + ": " + cudaGetErrorName(error) + " (" +
              cudaGetErrorString(error) + ")");
}

const Status& status() {
  static const Status s = [] {
    try {
      return probe();
    } catch (const std::exception& e) {
      Status failed;
      failed.compiled = true;
      failed.reason = e.what();
      return failed;
    }
  }();
  return s;
}

std::vector<DeviceInfo> devices() {
  std::vector<DeviceInfo> list;
  try {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
      cudaGetLastError();
      return list;
    }
    for (int i = 0; i < count; ++i) {
      cudaDeviceProp props;
      if (cudaGetDeviceProperties(&props, i) != cudaSuccess) continue;
      DeviceInfo info;
      info.index = i;
      info.name = props.name;
      info.major = props.major;
      info.minor = props.minor;
      info.totalMemory = props.totalGlobalMem;
      info.multiprocessors = props.multiProcessorCount;
      if (cudaDeviceGetAttribute(&info.clockKHz, cudaDevAttrClockRate, i) != cudaSuccess) info.clockKHz = 0;
      list.push_back(info);
    }
    cudaGetLastError();
  } catch (...) {
    list.clear();
  }
  return list;
}

size_t deviceBytes(const Weights& w) { return w.bytes(); }

void enterDevice() {
  const Status& s = status();
  if (!s.available) throw Error("CUDA is not available: " + s.reason);
  check(cudaSetDevice(s.device), "cudaSetDevice");
}

void checkLaunch(const char* kernel) { check(cudaGetLastError(), kernel); }

DeviceBuffer::DeviceBuffer(size_t bytes, cudaStream_t stream) : size_(bytes), stream_(stream) {
  if (bytes == 0) return;
  if (stream && memoryPoolsSupported()) {
    async_ = true;
    check(cudaMallocAsync(&data_, bytes, stream), "cudaMallocAsync");
  } else {
    check(cudaMalloc(&data_, bytes), "cudaMalloc");
  }
}

DeviceBuffer::~DeviceBuffer() { release(); }

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    release();
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(stream_, other.stream_);
    std::swap(async_, other.async_);
  }
  return *this;
}

void DeviceBuffer::release() {
  if (!data_) return;
  // Errors here (a context torn down at exit) leave nothing to recover.
  if (async_) {
    cudaFreeAsync(data_, stream_);
  } else {
    cudaFree(data_);
  }
  data_ = nullptr;
  size_ = 0;
}

CallStream::CallStream() {
  enterDevice();
  check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
}

CallStream::~CallStream() {
  // Buffers freed on this stream are destroyed before it (members of the caller's frame
  // declared after the stream); waiting here makes the destruction safe either way.
  cudaStreamSynchronize(stream_);
  cudaStreamDestroy(stream_);
}

DeviceBuffer CallStream::upload(const void* host, size_t bytes) {
  DeviceBuffer buffer(bytes, stream_);
  if (bytes) check(cudaMemcpyAsync(buffer.as<void>(), host, bytes, cudaMemcpyHostToDevice, stream_), "cudaMemcpyAsync (to GPU)");
  return buffer;
}

void CallStream::download(void* host, const DeviceBuffer& from, size_t bytes) {
  if (bytes) check(cudaMemcpyAsync(host, from.as<void>(), bytes, cudaMemcpyDeviceToHost, stream_), "cudaMemcpyAsync (to host)");
}

void CallStream::finish() { check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); }

}  // namespace onnxforge::cuda
