#include "output_pool.h"

#include "large_pages.h"

#include <cstdint>
#include <cstdlib>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include <map>
#include <mutex>
#include <new>
#include <vector>

namespace onnxforge::engine {
namespace {

// Blocks are rounded up to a power of two from 4 KiB, so a size class serves every run shape
// near it; the pool keeps at most this many idle bytes.
constexpr size_t kSmallest = 4096;
constexpr size_t kIdleBudget = size_t{64} << 20;

struct Pool {
  std::mutex mutex;
  std::map<size_t, std::vector<void*>> idle;
  size_t idleBytes = 0;
};

Pool& pool() {
  // Leaked on purpose: arrays may be garbage-collected during process exit.
  static Pool* instance = new Pool();
  return *instance;
}

size_t sizeClass(size_t bytes) {
  size_t c = kSmallest;
  while (c < bytes) c *= 2;
  return c;
}

// Maps a fresh block's pages in one system call: a fault per 4 KiB page, taken by the step that first
// writes the output, costs more than the step itself on a VM. Advice only: older kernels refuse it.
void prefault(void* block, size_t bytes) {
#if defined(__linux__)
  constexpr int kPopulateWrite = 23;  // MADV_POPULATE_WRITE (Linux 5.14)
  constexpr uintptr_t kPage = 4096;
  // madvise takes whole pages: the ones inside the block (its first and last may be shared).
  const uintptr_t start = (reinterpret_cast<uintptr_t>(block) + kPage - 1) & ~(kPage - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(block) + bytes) & ~(kPage - 1);
  if (end > start) madvise(reinterpret_cast<void*>(start), end - start, kPopulateWrite);
#else
  (void)block;
  (void)bytes;
#endif
}

}  // namespace

void* takeOutputBlock(size_t bytes, size_t* capacity) {
  *capacity = sizeClass(bytes);
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    auto it = p.idle.find(*capacity);
    if (it != p.idle.end() && !it->second.empty()) {
      void* block = it->second.back();
      it->second.pop_back();
      p.idleBytes -= *capacity;
      return block;
    }
  }
  void* block = allocateAligned(*capacity);
  if (!block) throw std::bad_alloc();
  prefault(block, *capacity);
  return block;
}

void giveBackOutputBlock(void* block, size_t capacity) {
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    if (p.idleBytes + capacity <= kIdleBudget) {
      p.idle[capacity].push_back(block);
      p.idleBytes += capacity;
      return;
    }
  }
  std::free(block);
}

}  // namespace onnxforge::engine
