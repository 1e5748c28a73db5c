#include "large_pages.h"

#include <cstdlib>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace onnxforge {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t roundUp(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

}  // namespace

void* allocateAligned(size_t bytes) {
  if (bytes < kLargePageFrom) return std::aligned_alloc(64, roundUp(bytes == 0 ? 1 : bytes, 64));
  const size_t size = roundUp(bytes, kHugePage);
  void* p = std::aligned_alloc(kHugePage, size);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // Advice only: where huge pages are off or short, the kernel uses 4 KiB pages as before.
  if (p) madvise(p, size, MADV_HUGEPAGE);
#endif
  return p;
}

}  // namespace onnxforge
