// The one place a device is chosen, and the host quantization every backend shares.
#include "backend.h"

namespace onnxforge {

void Backend::quantize(const float* x, const quant::AxisLayout& layout, const float* scales, const int32_t* zeroPoints,
                       quant::QuantType type, uint8_t* y) const {
  quant::quantize(x, layout, scales, zeroPoints, type, y);
}

void Backend::dequantize(const void* q, quant::QuantType type, const quant::AxisLayout& layout, const float* scales,
                         const int32_t* zeroPoints, float* y) const {
  quant::dequantize(q, type, layout, scales, zeroPoints, y);
}

size_t Backend::quantParams(const float* x, const quant::AxisLayout& layout, bool symmetric, quant::QuantType type,
                            float* scales, int32_t* zeroPoints) const {
  return quant::quantParams(x, layout, symmetric, type, scales, zeroPoints);
}

bool parseDeviceRequest(const std::string& name, DeviceRequest* out) {
  if (name == "cpu") {
    *out = DeviceRequest::Cpu;
  } else if (name == "cuda") {
    *out = DeviceRequest::Cuda;
  } else if (name == "auto") {
    *out = DeviceRequest::Auto;
  } else {
    return false;
  }
  return true;
}

const Backend& backendFor(DeviceRequest request) {
  const Backend& gpu = cudaBackend();
  switch (request) {
    case DeviceRequest::Cpu: return cpuBackend();
    case DeviceRequest::Auto: return gpu.available() ? gpu : cpuBackend();
    case DeviceRequest::Cuda: break;
  }
  if (!gpu.available()) throw BackendError("CUDA is not available: " + gpu.unavailableReason());
  return gpu;
}

}  // namespace onnxforge
