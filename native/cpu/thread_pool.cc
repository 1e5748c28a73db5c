#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cpu_features.h"

namespace onnxforge {
namespace {

thread_local bool insideParallelRegion = false;

// Workers sleep until a job is posted; every participant takes chunks from a
// shared counter, so uneven chunks balance themselves.
class ThreadPool {
 public:
  explicit ThreadPool(int threads) { resize(threads); }
  ~ThreadPool() { stopWorkers(); }

  // Read without the region lock so that asking never waits for a running kernel.
  int size() const { return threads_.load(); }

  void resize(int threads) {
    std::lock_guard<std::mutex> lock(regionMutex_);
    stopWorkers();
    stop_.store(false);
    // New workers must not mistake the last finished job for a new one.
    size_t current = generation_.load();
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, current] { workerLoop(current); });
    threads_.store(threads);
  }

  void run(size_t count, size_t grain, const std::function<void(size_t, size_t)>& body) {
    if (count == 0) return;
    grain = std::max<size_t>(grain, 1);
    size_t chunks = (count + grain - 1) / grain;
    std::unique_lock<std::mutex> region(regionMutex_, std::try_to_lock);
    if (insideParallelRegion || chunks == 1 || workers_.empty() || !region.owns_lock()) {
      body(0, count);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      body_ = &body;
      count_ = count;
      grain_ = grain;
      chunks_ = chunks;
      nextChunk_.store(0);
      pending_.store(workers_.size());
      generation_.store(generation_.load() + 1);
    }
    wake_.notify_all();
    work();
    if (!spinUntil([this] { return pending_.load() == 0; })) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [this] { return pending_.load() == 0; });
    }
    body_ = nullptr;
  }

 private:
  void work() {
    insideParallelRegion = true;
    for (;;) {
      size_t chunk = nextChunk_.fetch_add(1);
      if (chunk >= chunks_) break;
      size_t begin = chunk * grain_;
      (*body_)(begin, std::min(count_, begin + grain_));
    }
    insideParallelRegion = false;
  }

  // Kernels often come back to back (a layer after a layer): a short spin before
  // sleeping saves the wake-up latency of a futex round trip.
  template <typename Ready>
  static bool spinUntil(Ready ready) {
    for (int i = 0; i < kSpinIterations; ++i) {
      if (ready()) return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    return ready();
  }

  void workerLoop(size_t seen) {
    for (;;) {
      if (!spinUntil([&] { return stop_.load() || generation_.load() != seen; })) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_.load() || generation_.load() != seen; });
      }
      if (stop_.load()) return;
      seen = generation_.load();
      work();
      if (pending_.fetch_sub(1) == 1) {
        // Under the mutex, so the caller cannot check and then sleep past this notify.
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }

  void stopWorkers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_.store(true);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::mutex regionMutex_;  // one parallel region at a time
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(size_t, size_t)>* body_ = nullptr;
  static constexpr int kSpinIterations = 4000;  // roughly 20-50 microseconds of pause
  size_t count_ = 0, grain_ = 1, chunks_ = 0;
  std::atomic<size_t> pending_{0}, generation_{0};
  std::atomic<size_t> nextChunk_{0};
  std::atomic<int> threads_{1};
  std::atomic<bool> stop_{false};
};

ThreadPool& pool() {
  // Leaked on purpose: joining threads during static destruction at process
  // exit can deadlock inside the Node runtime.
  static ThreadPool* instance = new ThreadPool(cpuFeatures().physicalCores);
  return *instance;
}

}  // namespace

void parallelFor(size_t count, size_t grain, const std::function<void(size_t, size_t)>& body) {
  pool().run(count, grain, body);
}

int getNumThreads() { return pool().size(); }

void setNumThreads(int n) { pool().resize(std::clamp(n, 1, 256)); }

}  // namespace onnxforge
