// Memory for the tensors a run hands back to JavaScript. A fresh allocation of a large
// output costs a page fault per 4 KiB on first touch (on a VM, more than the layer that
// writes it); blocks come back here when JavaScript garbage-collects the array, and the
// next run reuses them, pages already mapped.
#pragma once
#include <cstddef>

namespace onnxforge::engine {

// A 64-byte aligned block of at least `bytes` bytes (bytes > 0); std::bad_alloc on failure.
void* takeOutputBlock(size_t bytes, size_t* capacity);
// Returns a block from takeOutputBlock (kept for reuse while the pool is under its budget).
void giveBackOutputBlock(void* block, size_t capacity);

}  // namespace onnxforge::engine
