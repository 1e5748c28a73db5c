#include "int8_buffer.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#define ONNXFORGE_HAVE_MMAP 1
#endif

namespace onnxforge::int8 {
namespace {

std::atomic<GuardMode> currentGuardMode{GuardMode::Off};

size_t roundUp(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

}  // namespace

void setGuardMode(GuardMode mode) { currentGuardMode.store(mode); }
GuardMode guardMode() { return currentGuardMode.load(); }

ByteBuffer::ByteBuffer(size_t bytes, bool zeroFill) : ByteBuffer(bytes, zeroFill, guardMode()) {}

ByteBuffer::ByteBuffer(size_t bytes, bool zeroFill, GuardMode mode) : size_(bytes) {
#if defined(ONNXFORGE_HAVE_MMAP)
  if (mode != GuardMode::Off) {
    size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_t body = roundUp(bytes == 0 ? 1 : bytes, page);
    mapped_ = body + 2 * page;
    void* base = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    base_ = base;
    auto* bytesBase = static_cast<uint8_t*>(base);
    mprotect(bytesBase, page, PROT_NONE);
    mprotect(bytesBase + page + body, page, PROT_NONE);
    data_ = mode == GuardMode::GuardTail ? bytesBase + page + body - bytes : bytesBase + page;
    // mmap'd memory is zero already.
    return;
  }
#else
  (void)mode;
#endif
  base_ = std::aligned_alloc(64, roundUp(bytes == 0 ? 1 : bytes, 64));
  if (!base_) throw std::bad_alloc();
  data_ = static_cast<uint8_t*>(base_);
  if (zeroFill) std::memset(data_, 0, bytes);
}

ByteBuffer::~ByteBuffer() { release(); }

ByteBuffer::ByteBuffer(ByteBuffer&& other) noexcept { *this = std::move(other); }

ByteBuffer& ByteBuffer::operator=(ByteBuffer&& other) noexcept {
  if (this != &other) {
    release();
    base_ = std::exchange(other.base_, nullptr);
    mapped_ = std::exchange(other.mapped_, 0);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void ByteBuffer::release() {
  if (!base_) return;
#if defined(ONNXFORGE_HAVE_MMAP)
  if (mapped_) {
    munmap(base_, mapped_);
  } else {
    std::free(base_);
  }
#else
  std::free(base_);
#endif
  base_ = nullptr;
  data_ = nullptr;
  size_ = 0;
  mapped_ = 0;
}

}  // namespace onnxforge::int8
