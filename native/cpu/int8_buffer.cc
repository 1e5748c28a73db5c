#include "int8_buffer.h"

#include "large_pages.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace onnxforge::int8 {
namespace {

std::atomic<const BufferPlacement*> currentPlacement{nullptr};

}  // namespace

void setBufferPlacement(const BufferPlacement* placement) { currentPlacement.store(placement); }
bool buffersOnHeap() { return currentPlacement.load() == nullptr; }

ByteBuffer::ByteBuffer(size_t bytes, bool zeroFill) : placement_(currentPlacement.load()), size_(bytes) {
  if (placement_) {
    data_ = placement_->allocate(bytes, &token_);
    return;
  }
  token_ = allocateAligned(bytes);
  if (!token_) throw std::bad_alloc();
  data_ = static_cast<uint8_t*>(token_);
  if (zeroFill) std::memset(data_, 0, bytes);
}

ByteBuffer::~ByteBuffer() { release(); }

ByteBuffer::ByteBuffer(ByteBuffer&& other) noexcept { *this = std::move(other); }

ByteBuffer& ByteBuffer::operator=(ByteBuffer&& other) noexcept {
  if (this != &other) {
    release();
    placement_ = std::exchange(other.placement_, nullptr);
    token_ = std::exchange(other.token_, nullptr);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void ByteBuffer::release() {
  if (!token_) return;
  if (placement_) {
    placement_->release(token_);
  } else {
    std::free(token_);
  }
  placement_ = nullptr;
  token_ = nullptr;
  data_ = nullptr;
  size_ = 0;
}

}  // namespace onnxforge::int8
