// Memory for large buffers (packed weights, arenas, large outputs) in 2 MiB pages where the OS
// gives them on request (Linux transparent huge pages in "madvise" mode, the common default):
// one page fault per 2 MiB instead of per 4 KiB, which on virtual machines costs more than
// filling the memory.
#pragma once
#include <cstddef>

namespace onnxforge {

// 64-byte aligned (2 MiB aligned and advised for huge pages from kLargePageFrom bytes); nullptr
// on failure. Release with std::free.
void* allocateAligned(size_t bytes);

constexpr size_t kLargePageFrom = size_t{4} << 20;

}  // namespace onnxforge
