// Owned byte buffers for packed int8 operands.
#pragma once
#include <cstddef>
#include <cstdint>

namespace onnxforge::int8 {

// Where buffers are placed. Off: 64-byte aligned heap memory. GuardTail/GuardHead:
// each buffer lies flush against a PROT_NONE page after (before) it, so a kernel
// that reads past its end (before its start) faults instead of reading garbage.
// The guard modes exist for the overread tests.
enum class GuardMode { Off, GuardTail, GuardHead };

void setGuardMode(GuardMode mode);  // process-wide
GuardMode guardMode();

class ByteBuffer {
 public:
  ByteBuffer() = default;
  // Contents are uninitialized unless zeroFill; placed as guardMode() says.
  explicit ByteBuffer(size_t bytes, bool zeroFill = false);
  ByteBuffer(size_t bytes, bool zeroFill, GuardMode mode);
  ~ByteBuffer();
  ByteBuffer(ByteBuffer&& other) noexcept;
  ByteBuffer& operator=(ByteBuffer&& other) noexcept;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  template <typename T>
  T* as() { return reinterpret_cast<T*>(data_); }
  template <typename T>
  const T* as() const { return reinterpret_cast<const T*>(data_); }

 private:
  void release();
  void* base_ = nullptr;   // what was allocated or mapped
  size_t mapped_ = 0;      // bytes mapped, 0 for heap memory
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace onnxforge::int8
