// The addon's thread pool: kernels split work with parallelFor.
#pragma once
#include <cstddef>
#include <functional>

namespace onnxforge {

// Calls body(begin, end) over [0, count) split into chunks of `grain` items,
// on the pool's threads and the calling thread; returns when all are done.
// Calls from inside a body, or while another parallelFor runs, may run on the
// calling thread alone (still correct, just not parallel).
void parallelFor(size_t count, size_t grain, const std::function<void(size_t, size_t)>& body);

// Threads used by parallelFor, the calling thread included. Default: physical cores.
int getNumThreads();
// Clamped to [1, 256].
void setNumThreads(int n);

// While alive, parallelFor calls made on this thread use at most `threads` threads (the
// calling thread included); 0 means no limit. For sessions with their own thread count.
class ScopedThreadLimit {
 public:
  explicit ScopedThreadLimit(int threads);
  ~ScopedThreadLimit();
  ScopedThreadLimit(const ScopedThreadLimit&) = delete;
  ScopedThreadLimit& operator=(const ScopedThreadLimit&) = delete;

 private:
  int previous_;
};

}  // namespace onnxforge
