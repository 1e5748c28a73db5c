// Owned byte buffers for packed operands and kernel scratch memory.
#pragma once
#include <cstddef>
#include <cstdint>

namespace onnxforge::int8 {

// Where buffers get their memory when not from the heap: the test addon installs one
// that puts each buffer flush against an inaccessible page (native/test/guard_pages.cc),
// so a kernel that reads past an edge faults instead of reading garbage.
struct BufferPlacement {
  // Zeroed memory for `bytes` bytes; *token goes back to release.
  uint8_t* (*allocate)(size_t bytes, void** token);
  void (*release)(void* token);
};

// Process-wide: buffers made from now on use `placement` (nullptr: 64-byte aligned heap
// memory). A buffer is released the way it was allocated.
void setBufferPlacement(const BufferPlacement* placement);
// Whether new buffers come from the heap (kernels reuse scratch buffers only then: a
// placed buffer must be a fresh one to end at its guard page).
bool buffersOnHeap();

class ByteBuffer {
 public:
  ByteBuffer() = default;
  // Contents are uninitialized unless zeroFill.
  explicit ByteBuffer(size_t bytes, bool zeroFill = false);
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
  const BufferPlacement* placement_ = nullptr;  // nullptr: heap memory
  void* token_ = nullptr;                       // what the heap or the placement handed out
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace onnxforge::int8
